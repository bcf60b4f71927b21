//! The shared token store: `tw_options_set_store`.

use std::os::raw::c_char;

use crate::error::tw_result;
use crate::options::{tw_options, with_options};
use crate::strings::arg_str;

/// Shares the token cache of clients made with these options with other processes and
/// machines, through the store `url` names: `"memory"` (the default: this process only),
/// `"file:///absolute/dir"` (one machine; files of mode 0600 in a directory of mode 0700),
/// `"redis://[:password@]host[:port][/db]"` or `"rediss://..."` (TLS). A renewal then takes the
/// store's lock, adopts what another process renewed meanwhile, and writes what it renews
/// (a rotated refresh token before anyone else may renew); a cached token that is still fresh
/// never touches the store. When the store fails the client carries on with its own cache and
/// says so once on standard error. The store holds bearer tokens and refresh tokens in clear.
///
/// A URL of an unknown kind fails when the client is made (`TW_ERR_CONFIG`).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`.
/// Ownership: `url` is copied; the caller keeps its own. Thread-safety: one thread at a time
/// per `tw_options`.
///
/// # Safety
/// `options` is NULL or a live `tw_options`; `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_store(
    options: *mut tw_options,
    url: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.store = Some(arg_str(url, "url")?.to_string());
        Ok(())
    })
}
