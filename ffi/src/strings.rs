//! Strings across the boundary: checked `const char *` in, caller buffers and owned
//! `char *` out.

use std::ffi::{c_char, CStr, CString};

use zeroize::Zeroize;

use crate::error::{
    guard_value, Failure, FfiResult, TW_ERR_BUFFER_TOO_SMALL, TW_ERR_INVALID_RESPONSE,
    TW_ERR_INVALID_UTF8,
};

/// A required UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    CStr::from_ptr(p).to_str().map_err(|_| {
        Failure::Ffi(
            TW_ERR_INVALID_UTF8,
            format!("argument `{name}` is not valid UTF-8; pass UTF-8 text"),
        )
    })
}

/// An optional UTF-8 string argument: NULL means "not given".
///
/// # Safety
/// As for [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(p: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, name).map(Some)
    }
}

/// A required out-parameter.
pub(crate) fn arg_out<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: non-NULL out-pointers must point to writable storage (documented contract).
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A required borrowed object.
pub(crate) fn arg_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: non-NULL object pointers come from this library and are alive (documented).
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// Copies `value` and a terminating NUL into the caller's buffer.
///
/// On success `*out_len` is the string's length (without the NUL). When the buffer is too
/// small nothing is copied, `*out_len` is the size needed (with the NUL) and the result is
/// `TW_ERR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `buf` is NULL (only with `buf_len == 0`) or points to `buf_len` writable bytes.
pub(crate) unsafe fn copy_out(
    value: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: &mut usize,
) -> FfiResult {
    let bytes = value.as_bytes();
    if bytes.len() >= buf_len {
        *out_len = bytes.len() + 1;
        return Err(Failure::Ffi(
            TW_ERR_BUFFER_TOO_SMALL,
            format!(
                "the buffer holds {buf_len} bytes but {} are needed (terminating NUL included); call again with a larger buffer",
                bytes.len() + 1
            ),
        ));
    }
    // buf_len > bytes.len() >= 0, so buf_len >= 1: the caller promised a real buffer.
    if buf.is_null() {
        return Err(Failure::null("buf"));
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
    *buf.add(bytes.len()) = 0;
    *out_len = bytes.len();
    Ok(())
}

/// A new owned C string for `tw_string_free`. Text with a NUL byte inside cannot be handed to C
/// intact, so it is refused rather than silently cut.
pub(crate) fn owned_string(value: &str, what: &str) -> FfiResult<*mut c_char> {
    CString::new(value).map(CString::into_raw).map_err(|_| {
        Failure::Ffi(
            TW_ERR_INVALID_RESPONSE,
            format!("the {what} contains a NUL byte and cannot be passed to C"),
        )
    })
}

/// Frees a string this library returned through a `char **` out-parameter. Its bytes are
/// overwritten with zeros first (it may hold a token or a PKCE verifier). NULL is ignored.
///
/// Ownership: takes ownership of `s`; never pass a string from elsewhere, never free twice,
/// never pass it to `free()`. Thread-safety: any thread.
/// Errors: none.
#[no_mangle]
pub unsafe extern "C" fn tw_string_free(s: *mut c_char) {
    guard_value((), || {
        if s.is_null() {
            return;
        }
        // SAFETY: `s` came from CString::into_raw in this library (documented contract).
        let mut bytes = unsafe { CString::from_raw(s) }.into_bytes_with_nul();
        bytes.zeroize();
    })
}
