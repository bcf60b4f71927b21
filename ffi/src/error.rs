//! Result codes, the thread-local last error, and the guard every export runs in.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use tokenward::{Error, ErrorCode};

/// The return value of every fallible function: `TW_OK` (0) or one of the `TW_ERR_*` codes.
///
/// Codes 1 to 12 are the core's error kinds, one to one (the same numbers in every binding);
/// codes from 100 up are errors of the C interface itself. Numbers never change meaning; a
/// retired number stays reserved. Details of the last failure on the calling thread are in
/// `tw_last_error_message()` and friends.
pub type tw_result = u32;

/// Success.
pub const TW_OK: tw_result = 0;
/// The configuration or an argument's value is wrong; the message names what to fix.
pub const TW_ERR_CONFIG: tw_result = 1;
/// A plain `http://` URL that is not loopback; use https.
pub const TW_ERR_INSECURE_URL: tw_result = 2;
/// The connection failed (refused, reset, DNS, TLS).
pub const TW_ERR_TRANSPORT: tw_result = 3;
/// No complete answer within the configured timeout.
pub const TW_ERR_TIMEOUT: tw_result = 4;
/// An unexpected HTTP answer that is not an OAuth error (a 5xx, a 429, an HTML page).
pub const TW_ERR_HTTP: tw_result = 5;
/// The authorization server refused: see `tw_last_error_oauth_error()` (`invalid_client`,
/// `invalid_scope`, `invalid_grant`, ...) and `tw_last_error_oauth_description()`.
pub const TW_ERR_OAUTH: tw_result = 6;
/// A resource API refused (e.g. `{"code": "NOT_AUTHORIZED"}`).
pub const TW_ERR_API: tw_result = 7;
/// A success status whose body is not usable (truncated, no `access_token`, too large).
pub const TW_ERR_INVALID_RESPONSE: tw_result = 8;
/// The callback's `state` is not the one this login sent.
pub const TW_ERR_STATE_MISMATCH: tw_result = 9;
/// The callback's or discovery document's issuer is not the expected one.
pub const TW_ERR_ISSUER_MISMATCH: tw_result = 10;
/// The access token lacks a claim the options require (`tw_options_add_required_claim`).
pub const TW_ERR_MISSING_CLAIM: tw_result = 11;
/// No new token can be had without the user: start a new login.
pub const TW_ERR_LOGIN_REQUIRED: tw_result = 12;
/// A signed token (an ID token, or an access token given to `tw_client_verify_access_token`)
/// failed verification: its signature, key, issuer, audience, lifetime or type. The message
/// says which rule and what to check.
pub const TW_ERR_INVALID_TOKEN: tw_result = 13;
/// A pointer argument that must not be NULL was NULL. Nothing was done.
pub const TW_ERR_NULL_ARGUMENT: tw_result = 100;
/// A string argument is not valid UTF-8. Nothing was done.
pub const TW_ERR_INVALID_UTF8: tw_result = 101;
/// The caller's buffer is too small; the size needed (terminating NUL included) was written to
/// the length out-parameter. Call again with a buffer at least that large.
pub const TW_ERR_BUFFER_TOO_SMALL: tw_result = 102;
/// A bug inside the library was caught (a Rust panic) before it could cross into C. The
/// object involved may be in an unexpected state; report it with `tw_last_error_message()`.
pub const TW_ERR_PANIC: tw_result = 103;
/// An argument has a value the function does not accept (an unknown `TW_AUTH_METHOD_*`,
/// `TW_TRUST_*` or `TW_TOKEN_KIND_*` constant).
pub const TW_ERR_INVALID_ARGUMENT: tw_result = 104;

// The numbers above are the core's `ErrorCode`s; the build fails if they ever drift apart.
const _: () = {
    assert!(TW_ERR_CONFIG == ErrorCode::Config as tw_result);
    assert!(TW_ERR_INSECURE_URL == ErrorCode::InsecureUrl as tw_result);
    assert!(TW_ERR_TRANSPORT == ErrorCode::Transport as tw_result);
    assert!(TW_ERR_TIMEOUT == ErrorCode::Timeout as tw_result);
    assert!(TW_ERR_HTTP == ErrorCode::Http as tw_result);
    assert!(TW_ERR_OAUTH == ErrorCode::OAuth as tw_result);
    assert!(TW_ERR_API == ErrorCode::Api as tw_result);
    assert!(TW_ERR_INVALID_RESPONSE == ErrorCode::InvalidResponse as tw_result);
    assert!(TW_ERR_STATE_MISMATCH == ErrorCode::StateMismatch as tw_result);
    assert!(TW_ERR_ISSUER_MISMATCH == ErrorCode::IssuerMismatch as tw_result);
    assert!(TW_ERR_MISSING_CLAIM == ErrorCode::MissingClaim as tw_result);
    assert!(TW_ERR_LOGIN_REQUIRED == ErrorCode::LoginRequired as tw_result);
    assert!(TW_ERR_INVALID_TOKEN == ErrorCode::InvalidToken as tw_result);
    assert!(ErrorCode::ALL.len() == 13);
};

/// Why a call failed: a core error, or a fault of the C interface itself.
pub(crate) enum Failure {
    Core(Error),
    Ffi(tw_result, String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl Failure {
    pub(crate) fn null(name: &str) -> Failure {
        Failure::Ffi(
            TW_ERR_NULL_ARGUMENT,
            format!("argument `{name}` is NULL; pass a valid pointer"),
        )
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Failure {
        Failure::Ffi(TW_ERR_INVALID_ARGUMENT, msg.into())
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// The last failure on this thread, with every string already NUL-terminated for C.
struct LastError {
    code: tw_result,
    message: CString,
    oauth_error: Option<CString>,
    oauth_description: Option<CString>,
    http_status: u16,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A C string from text that may hold NUL bytes (server text): they are dropped.
pub(crate) fn lossy_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn record(failure: Failure) -> tw_result {
    let last = match failure {
        Failure::Core(e) => {
            // An API's `code` and `message` land where an OAuth error's `error` and
            // `error_description` do.
            let (error, description) = e.refusal_detail();
            LastError {
                code: e.code() as tw_result,
                message: lossy_cstring(&e.to_string()),
                oauth_error: error.map(lossy_cstring),
                oauth_description: description.map(lossy_cstring),
                http_status: e.http_status().unwrap_or(0),
            }
        }
        Failure::Ffi(code, message) => LastError {
            code,
            message: lossy_cstring(&message),
            oauth_error: None,
            oauth_description: None,
            http_status: 0,
        },
    };
    let code = last.code;
    // try_with: during thread teardown the slot may be gone; the code still goes back.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(last);
        }
    });
    code
}

fn panic_failure(payload: Box<dyn std::any::Any + Send>) -> Failure {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Failure::Ffi(
        TW_ERR_PANIC,
        format!("internal error in tokenward (a bug, please report it): {what}"),
    )
}

/// Runs the body of an export: a panic becomes `TW_ERR_PANIC`, an error is recorded as the
/// thread's last error and its code returned.
pub(crate) fn guard(f: impl FnOnce() -> FfiResult) -> tw_result {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => TW_OK,
        Ok(Err(failure)) => record(failure),
        Err(payload) => record(panic_failure(payload)),
    }
}

/// For exports that return a value instead of a `tw_result`: a panic gives `fallback`.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            record(panic_failure(payload));
            fallback
        }
    }
}

fn with_last<T>(f: impl Fn(Option<&LastError>) -> T) -> T {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(last) => f(last.as_ref()),
            Err(_) => f(None),
        })
        .unwrap_or_else(|_| f(None))
}

/// The code of the most recent call on this thread that failed, or `TW_OK` if none has.
///
/// Thread-safety: reads this thread's own record; call it from any thread.
/// Errors: none; it never fails. Ownership: returns a plain value.
#[no_mangle]
pub extern "C" fn tw_last_error_code() -> tw_result {
    guard_value(TW_OK, || with_last(|l| l.map_or(TW_OK, |l| l.code)))
}

/// What went wrong in the most recent call on this thread that failed, and what to do about
/// it. Never NULL: `""` when no call has failed yet. The message never contains a secret or a
/// whole token.
///
/// Ownership: the string belongs to the library; it stays valid until the next call on this
/// thread fails (or `tw_last_error_clear()`, or the thread exits). Copy it to keep it.
/// Thread-safety: each thread has its own last error.
/// Errors: none; it never fails.
#[no_mangle]
pub extern "C" fn tw_last_error_message() -> *const c_char {
    static EMPTY: &CStr = c"";
    guard_value(EMPTY.as_ptr(), || {
        with_last(|l| l.map_or(EMPTY.as_ptr(), |l| l.message.as_ptr()))
    })
}

/// The server's OAuth `error` code (`invalid_client`, `invalid_scope`, `invalid_grant`, ...)
/// when the most recent failure on this thread was `TW_ERR_OAUTH`; a resource API's `code`
/// (Docbyte's `NOT_AUTHORIZED`) after `TW_ERR_API`; NULL otherwise.
///
/// Ownership and lifetime as for `tw_last_error_message()`.
/// Errors: none; it never fails. Thread-safety: this thread's own record.
#[no_mangle]
pub extern "C" fn tw_last_error_oauth_error() -> *const c_char {
    guard_value(ptr::null(), || {
        with_last(|l| {
            l.and_then(|l| l.oauth_error.as_ref())
                .map_or(ptr::null(), |s| s.as_ptr())
        })
    })
}

/// The server's `error_description` (e.g. Keycloak's "Invalid client or Invalid client
/// credentials") when the most recent failure on this thread was `TW_ERR_OAUTH` and the server
/// sent one; a resource API's `message` after `TW_ERR_API`; NULL otherwise.
///
/// Ownership and lifetime as for `tw_last_error_message()`.
/// Errors: none; it never fails. Thread-safety: this thread's own record.
#[no_mangle]
pub extern "C" fn tw_last_error_oauth_description() -> *const c_char {
    guard_value(ptr::null(), || {
        with_last(|l| {
            l.and_then(|l| l.oauth_description.as_ref())
                .map_or(ptr::null(), |s| s.as_ptr())
        })
    })
}

/// The HTTP status of the most recent failure on this thread when the server answered
/// (`TW_ERR_OAUTH`, `TW_ERR_API`, `TW_ERR_HTTP`); 0 otherwise.
/// Errors: none; it never fails. Ownership: returns a plain value.
/// Thread-safety: this thread's own record.
#[no_mangle]
pub extern "C" fn tw_last_error_http_status() -> u16 {
    guard_value(0, || with_last(|l| l.map_or(0, |l| l.http_status)))
}

/// Forgets this thread's last error. Strings returned by the `tw_last_error_*` functions
/// become invalid.
/// Errors: none. Ownership: nothing is passed. Thread-safety: clears this thread's record only.
#[no_mangle]
pub extern "C" fn tw_last_error_clear() {
    guard_value((), || {
        let _ = LAST_ERROR.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = None;
            }
        });
    })
}

/// The stable name of a result code: `"ok"`, the core's names (`"config"`, `"oauth"`,
/// `"missing_claim"`, ...), or the C interface's (`"null_argument"`, `"invalid_utf8"`,
/// `"buffer_too_small"`, `"panic"`, `"invalid_argument"`); `"unknown"` for any other number.
///
/// Classifies a failed response from a resource API (the service the token is for) the way
/// every binding does, and records it as this thread's last error: a `{"code", "message"}`
/// body such as Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}` is `TW_ERR_API` (code
/// and message in `tw_last_error_oauth_error()` / `_oauth_description()`), an OAuth error in
/// the body or in `WWW-Authenticate: Bearer error="..."` is `TW_ERR_OAUTH`, anything else
/// `TW_ERR_HTTP`. Returns that code; it never returns `TW_OK`.
///
/// `www_authenticate` may be NULL (no such header); `body` may be NULL when `body_len` is 0.
/// Errors: `TW_ERR_NULL_ARGUMENT` for a NULL `body` with a non-zero length.
/// Ownership: nothing is kept; nothing to free. Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_api_error(
    status: u16,
    www_authenticate: *const c_char,
    body: *const u8,
    body_len: usize,
) -> tw_result {
    let rc = guard(|| {
        let header = unsafe { crate::strings::arg_opt_str(www_authenticate, "www_authenticate") }?;
        let body = if body_len == 0 {
            &[][..]
        } else if body.is_null() {
            return Err(Failure::null("body"));
        } else {
            // SAFETY: the caller passes `body_len` readable bytes at `body` (documented).
            unsafe { std::slice::from_raw_parts(body, body_len) }
        };
        let headers = header
            .map(|h| vec![("WWW-Authenticate".to_string(), h.to_string())])
            .unwrap_or_default();
        let response = tokenward::HttpResponse::new(status, headers, body.to_vec());
        Err(Failure::Core(tokenward::api_error(&response)))
    });
    debug_assert_ne!(rc, TW_OK);
    rc
}

/// Ownership: a static string; never free it. Thread-safety: any thread.
/// Errors: none; it never fails.
#[no_mangle]
pub extern "C" fn tw_result_name(code: tw_result) -> *const c_char {
    let name: &'static CStr = match code {
        TW_OK => c"ok",
        TW_ERR_CONFIG => c"config",
        TW_ERR_INSECURE_URL => c"insecure_url",
        TW_ERR_TRANSPORT => c"transport",
        TW_ERR_TIMEOUT => c"timeout",
        TW_ERR_HTTP => c"http",
        TW_ERR_OAUTH => c"oauth",
        TW_ERR_API => c"api",
        TW_ERR_INVALID_RESPONSE => c"invalid_response",
        TW_ERR_STATE_MISMATCH => c"state_mismatch",
        TW_ERR_ISSUER_MISMATCH => c"issuer_mismatch",
        TW_ERR_MISSING_CLAIM => c"missing_claim",
        TW_ERR_LOGIN_REQUIRED => c"login_required",
        TW_ERR_INVALID_TOKEN => c"invalid_token",
        TW_ERR_NULL_ARGUMENT => c"null_argument",
        TW_ERR_INVALID_UTF8 => c"invalid_utf8",
        TW_ERR_BUFFER_TOO_SMALL => c"buffer_too_small",
        TW_ERR_PANIC => c"panic",
        TW_ERR_INVALID_ARGUMENT => c"invalid_argument",
        _ => c"unknown",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_codes_map_one_to_one_with_the_same_names() {
        for code in ErrorCode::ALL {
            let n = code as tw_result;
            assert!((1..=13).contains(&n));
            let name = unsafe { CStr::from_ptr(tw_result_name(n)) };
            assert_eq!(name.to_str().unwrap(), code.as_str());
        }
    }
}
