//! `tw_login`: an authorization-code login in progress (PKCE verifier, state, nonce).

use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::{Mutex, PoisonError};

use tokenward::authorize;
use tokenward::{LoginOptions, PendingLogin};

use crate::client::{arg_params, tw_client, tw_param};
use crate::error::{guard, guard_value, tw_result, FfiResult};
use crate::strings::{arg_opt_str, arg_out, arg_ref, arg_str, owned_string};
use crate::token::{token_out, tw_token};

/// A login between the redirect to the provider and the callback: the URL to open, and the
/// PKCE verifier, `state` and `nonce` that the callback is checked against.
///
/// It holds secrets: keep it in memory, or store `tw_login_to_json` where only this user's
/// session can read it. It is spent by its first `tw_client_login_finish`, whatever the
/// outcome: a second finish (or `tw_login_to_json`) fails with `TW_ERR_LOGIN_REQUIRED`.
/// Thread-safety: may be used from several threads at once; one finish wins.
pub struct tw_login {
    /// `None` once a callback has been handed to `tw_client_login_finish`.
    pending: Mutex<Option<PendingLogin>>,
    url: Option<CString>,
}

impl tw_login {
    fn new(pending: PendingLogin, url: Option<CString>) -> *mut tw_login {
        Box::into_raw(Box::new(tw_login {
            pending: Mutex::new(Some(pending)),
            url,
        }))
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<PendingLogin>> {
        // Every write is one `take()`: a panic elsewhere cannot leave it half-done.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts an authorization-code login with PKCE (S256), a fresh `state` and `nonce`. Open
/// `tw_login_url(*out)` in the user's browser; when the provider redirects to the redirect
/// URI, pass that full URL to `tw_client_login_finish`.
///
/// `redirect_uri` and `scope` may be NULL for the options' values (`scope` is
/// space-separated, e.g. `"openid user_impersonation"`). `extra` holds `extra_len` further
/// query parameters (`prompt`, `login_hint`, `kc_idp_hint`, ...); NULL when `extra_len` is 0.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` (no redirect URI,
/// a reserved extra parameter such as `state`, a provider without an authorization endpoint);
/// `TW_ERR_INSECURE_URL`. No network traffic.
/// Ownership: on success `*out` is a new login for `tw_login_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_login_begin(
    client: *const tw_client,
    redirect_uri: *const c_char,
    scope: *const c_char,
    extra: *const tw_param,
    extra_len: usize,
    out: *mut *mut tw_login,
) -> tw_result {
    guard(|| {
        let client = &arg_ref(client, "client")?.client;
        let redirect_uri = arg_opt_str(redirect_uri, "redirect_uri")?;
        let scope = arg_opt_str(scope, "scope")?;
        let extra = arg_params(extra, extra_len, "extra")?;
        let out = arg_out(out, "out")?;
        let options = LoginOptions {
            scopes: scope.map(tokenward::config::split_scope),
            redirect_uri: redirect_uri.map(str::to_string),
            extra: extra
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let request = client.authorization_request(&options)?;
        let url = CString::new(request.url()).ok();
        *out = tw_login::new(request.pending, url);
        Ok(())
    })
}

/// The URL to open in the user's browser. NULL for a login restored with
/// `tw_login_from_json` (the URL was used already) or when `login` is NULL.
///
/// Ownership: borrowed from `login`; valid until `tw_login_free(login)`.
/// Errors: none (NULL instead). Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_login_url(login: *const tw_login) -> *const c_char {
    guard_value(ptr::null(), || {
        // SAFETY: a non-NULL `login` comes from this library and is alive (documented).
        unsafe { login.as_ref() }
            .and_then(|l| l.url.as_ref())
            .map_or(ptr::null(), |u| u.as_ptr())
    })
}

/// Serializes the login's secret state (verifier, state, nonce, redirect URI, issuer) as
/// JSON, to finish the login in another process or after a restart.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; `TW_ERR_LOGIN_REQUIRED` when the login was already
/// finished (it is spent: start a new one). Ownership: free `*out` with `tw_string_free` (it is
/// zeroed there); store it only where this user's session alone can read it.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_login_to_json(
    login: *const tw_login,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let login = arg_ref(login, "login")?;
        let out = arg_out(out, "out")?;
        let json = match login.slot().as_ref() {
            Some(pending) => pending.to_json(),
            None => return Err(authorize::spent_login().into()),
        };
        *out = owned_string(json.expose(), "login state")?;
        Ok(())
    })
}

/// Restores a login saved with `tw_login_to_json`.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` when the text is
/// not a saved login. Ownership: on success `*out` is a new login for `tw_login_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_login_from_json(
    json: *const c_char,
    out: *mut *mut tw_login,
) -> tw_result {
    guard(|| {
        let json = arg_str(json, "json")?;
        let out = arg_out(out, "out")?;
        let pending = PendingLogin::from_json(json)?;
        *out = tw_login::new(pending, None);
        Ok(())
    })
}

/// Frees a login (its secrets are zeroed). NULL is ignored.
///
/// Ownership: takes ownership of `login`.
/// Errors: none. Thread-safety: no other thread may be using `login`.
#[no_mangle]
pub unsafe extern "C" fn tw_login_free(login: *mut tw_login) {
    guard_value((), || {
        if !login.is_null() {
            // SAFETY: `login` came from this library and is freed once (documented).
            drop(unsafe { Box::from_raw(login) });
        }
    })
}

/// Finishes a login: checks the callback URL the provider redirected to (`state` in constant
/// time, `iss`, an `error=` answer), exchanges the code with the PKCE verifier, checks the ID
/// token's `nonce`, and caches the tokens: from now on `tw_client_access_token` renews them
/// with the refresh token.
///
/// A login is spent by its first callback, whatever the outcome: once the arguments are read,
/// this call uses `login` up even when the callback is forged, denied or the exchange fails.
/// Finishing it again fails with `TW_ERR_LOGIN_REQUIRED` ("start a new login") and sends
/// nothing; begin a new login with `tw_client_login_begin`.
///
/// `callback_url` is the full redirect URL (or just its query string). `out` may be NULL;
/// otherwise on success `*out` is the new token, for `tw_token_free`.
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8` (these leave the login unspent);
/// `TW_ERR_LOGIN_REQUIRED` (the login was spent already); `TW_ERR_STATE_MISMATCH`,
/// `TW_ERR_ISSUER_MISMATCH`; `TW_ERR_OAUTH` (the user denied: `access_denied`; a used or
/// expired code: `invalid_grant`); `TW_ERR_INVALID_RESPONSE`; the network's.
/// Thread-safety: any thread; of calls racing on one login, one finishes it, the others get
/// `TW_ERR_LOGIN_REQUIRED`.
/// Ownership: `login` stays the caller's (`tw_login_free`); `*out`, when asked for, is the
/// caller's (`tw_token_free`).
#[no_mangle]
pub unsafe extern "C" fn tw_client_login_finish(
    client: *const tw_client,
    login: *const tw_login,
    callback_url: *const c_char,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| -> FfiResult {
        let client = &arg_ref(client, "client")?.client;
        let login = arg_ref(login, "login")?;
        let callback_url = arg_str(callback_url, "callback_url")?;
        let pending = login.slot().take().ok_or_else(authorize::spent_login)?;
        let token = client.exchange_code(pending, callback_url)?;
        // SAFETY: a non-NULL out-pointer points to writable storage (documented contract).
        if let Some(out) = unsafe { out.as_mut() } {
            *out = token_out(token);
        }
        Ok(())
    })
}
