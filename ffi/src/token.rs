//! `tw_token`: an access token and everything that came with it (read-only).
//!
//! An owned `tw_token *` is an `Arc<Token>` turned into a raw pointer; the hook's borrowed one
//! points at a `Token` directly. Both are `*const Token` underneath.

use std::ffi::c_char;
use std::ptr;
use std::sync::Arc;

use serde_json::Value;
use tokenward::Token;

use crate::error::{guard, guard_value, tw_result, FfiResult};
use crate::strings::{arg_out, arg_ref, copy_out, owned_string};

/// A token response: access token, refresh token, ID token, scope, lifetime, claims.
///
/// Immutable. Thread-safety: a `tw_token` may be read from several threads at once. Owned
/// tokens (from `tw_client_token`, `tw_client_refresh`, `tw_client_login_finish`,
/// `tw_client_resume`) are freed with `tw_token_free`; the one passed to a token hook is
/// borrowed and must not be freed.
pub struct tw_token {
    _private: [u8; 0],
}

pub(crate) fn token_out(token: Arc<Token>) -> *mut tw_token {
    Arc::into_raw(token).cast_mut().cast()
}

fn token_ref<'a>(token: *const tw_token) -> FfiResult<&'a Token> {
    arg_ref(token.cast::<Token>(), "token")
}

/// Frees a token. NULL is ignored.
///
/// Ownership: takes ownership of `token`, which must be an owned token (never the hook's).
/// Its secrets are zeroed when the last copy is gone.
/// Errors: none. Thread-safety: no other thread may be using this `tw_token`.
#[no_mangle]
pub unsafe extern "C" fn tw_token_free(token: *mut tw_token) {
    guard_value((), || {
        if !token.is_null() {
            // SAFETY: owned tokens come from Arc::into_raw in token_out (documented contract).
            drop(unsafe { Arc::from_raw(token.cast_const().cast::<Token>()) });
        }
    })
}

fn optional_out(value: Option<&str>, what: &str, out: *mut *mut c_char) -> FfiResult {
    let out = arg_out(out, "out")?;
    *out = match value {
        Some(v) => owned_string(v, what)?,
        None => ptr::null_mut(),
    };
    Ok(())
}

/// Copies the access token into `buf` (NUL-terminated), like `tw_client_access_token`.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; `TW_ERR_BUFFER_TOO_SMALL` with the size needed in
/// `*out_len`. `buf` may be NULL when `buf_len` is 0 (to ask for the size).
/// Thread-safety: any thread.
/// Ownership: copied into the caller's buffer; nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_token_access_token(
    token: *const tw_token,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        let out_len = arg_out(out_len, "out_len")?;
        copy_out(token.access_token().expose(), buf, buf_len, out_len)
    })
}

/// The refresh token, as a new string in `*out`; `*out` is set to NULL when the server sent
/// none (client credentials at Keycloak). Persist it to resume a session later
/// (`tw_client_resume`): it is a secret, store it like a password.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_refresh_token(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        optional_out(
            token.refresh_token().map(|s| s.expose()),
            "refresh token",
            out,
        )
    })
}

/// The ID token (only when `openid` was among the scopes), as a new string in `*out`, or
/// NULL when there is none.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_id_token(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        optional_out(token.id_token().map(|s| s.expose()), "ID token", out)
    })
}

/// The granted scope (space-separated), as a new string in `*out`, or NULL when the server
/// did not say.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_scope(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        optional_out(token.scope(), "scope", out)
    })
}

/// The access token's claims as a JSON object (`{"exp":...,"tenant":"acme",...}`), as a new
/// string in `*out`, or NULL when the access token is not a readable JWT. The claims are
/// decoded, NOT verified: use them to learn about your own token, never to trust someone
/// else's.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_claims_json(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        let json = token.claims().map(|c| c.to_json());
        optional_out(json.as_deref(), "claims", out)
    })
}

/// The ID token's claims as a JSON object (`{"sub":...,"email":...,"nonce":...}`), as a new
/// string in `*out`, or NULL when the answer carried no ID token. These claims are VERIFIED:
/// the ID token's signature against the provider's keys, `iss`, `aud`, `azp`, `exp` / `iat`
/// within the leeway and, on a login, `nonce` were checked before the token was returned
/// (a token that fails is never returned: the call fails with `TW_ERR_INVALID_TOKEN`).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_id_token_claims_json(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        let json = token.id_token_claims().map(|c| c.to_json());
        optional_out(json.as_deref(), "ID token claims", out)
    })
}

/// The response's fields beyond RFC 6749's as a JSON object (Keycloak's `not-before-policy`,
/// `session_state`, ...), as a new string in `*out` (`{}` when there are none).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_extra_json(
    token: *const tw_token,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let token = token_ref(token)?;
        let json = Value::Object(token.extra().clone()).to_string();
        optional_out(Some(&json), "extra fields", out)
    })
}

/// The server's `expires_in` in seconds; 0 when it sent none or `token` is NULL.
/// Errors: none (0 instead). Ownership: returns a plain value. Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_expires_in(token: *const tw_token) -> u64 {
    guard_value(0, || {
        token_ref(token)
            .ok()
            .and_then(Token::expires_in)
            .unwrap_or(0)
    })
}

/// How long the token is usable after its request was sent, in milliseconds: the smaller of
/// `expires_in` and the JWT's `exp - iat` less one second. 0 when unknown or `token` is NULL.
/// Errors: none (0 instead). Ownership: returns a plain value. Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_token_lifetime_ms(token: *const tw_token) -> u64 {
    guard_value(0, || {
        token_ref(token)
            .ok()
            .and_then(Token::lifetime)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    })
}
