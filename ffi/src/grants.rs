//! The grants of issue 17 for C: the device login (`tw_device`: start, show, wait, cancel),
//! token exchange, logout without a browser, and client authentication by a signed JWT
//! (`tw_options_set_private_key_*`). Every rule is the core's.

use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use tokenward::{DeviceAuthorization, DeviceOptions, PrivateKey, Secret, TokenType};

use crate::client::{tw_client, tw_token_kind, TW_TOKEN_KIND_ACCESS, TW_TOKEN_KIND_REFRESH};
use crate::error::{guard, guard_value, tw_result, Failure, FfiResult};
use crate::options::{tw_options, with_options};
use crate::strings::{arg_opt_str, arg_out, arg_ref, arg_str};
use crate::token::{token_out, tw_token};

/// A device login in progress (RFC 8628): the code to show the user, the URL where they
/// enter it, and the device code (a secret, never exposed) that `tw_client_device_wait`
/// polls with.
///
/// Thread-safety: the getters and `tw_device_cancel` may be called from any thread, also
/// while another thread is in `tw_client_device_wait`; only `tw_device_free` must not race.
pub struct tw_device {
    authorization: DeviceAuthorization,
    user_code: CString,
    verification_uri: CString,
    verification_uri_complete: Option<CString>,
    cancel: AtomicBool,
}

/// Starts a device login: asks the provider's device authorization endpoint for a user code.
/// Show the user `tw_device_user_code` and `tw_device_verification_uri` (or
/// `tw_device_verification_uri_complete`, which has the code in it, e.g. as a QR code), then
/// call `tw_client_device_wait`.
///
/// `scope` may be NULL for the options' scopes (space-separated, e.g. `"openid
/// offline_access"`); `pkce` true sends a PKCE S256 challenge (for clients that require it).
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` (a provider without a
/// device authorization endpoint); `TW_ERR_OAUTH` (Keycloak: `unauthorized_client` when the
/// client does not have the device grant enabled); `TW_ERR_INVALID_RESPONSE` (e.g. an HTML page
/// instead of JSON); the network's.
/// Ownership: on success `*out` is a new device login for `tw_device_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_device_begin(
    client: *const tw_client,
    scope: *const c_char,
    pkce: bool,
    out: *mut *mut tw_device,
) -> tw_result {
    guard(|| {
        let client = &arg_ref(client, "client")?.client;
        let scope = arg_opt_str(scope, "scope")?;
        let out = arg_out(out, "out")?;
        let options = DeviceOptions {
            scopes: scope.map(tokenward::config::split_scope),
            pkce,
            ..DeviceOptions::default()
        };
        let authorization = client.device_authorization(&options)?;
        let c = |s: &str, what: &str| {
            CString::new(s).map_err(|_| {
                Failure::from(tokenward::Error::InvalidResponse(format!(
                    "the {what} holds a NUL byte"
                )))
            })
        };
        let device = tw_device {
            user_code: c(&authorization.user_code, "user code")?,
            verification_uri: c(&authorization.verification_uri, "verification URI")?,
            verification_uri_complete: match &authorization.verification_uri_complete {
                Some(u) => Some(c(u, "verification URI")?),
                None => None,
            },
            authorization,
            cancel: AtomicBool::new(false),
        };
        *out = Box::into_raw(Box::new(device));
        Ok(())
    })
}

fn device<'a>(d: *const tw_device) -> Option<&'a tw_device> {
    // SAFETY: a non-NULL `d` comes from tw_client_device_begin and is alive (documented).
    unsafe { d.as_ref() }
}

/// The code the user types at the verification URI, e.g. `"WDJB-MJHT"`. NULL when `device` is
/// NULL. Ownership: borrowed from `device`, valid until `tw_device_free`. Thread-safety: any.
#[no_mangle]
pub unsafe extern "C" fn tw_device_user_code(device_login: *const tw_device) -> *const c_char {
    guard_value(ptr::null(), || {
        device(device_login).map_or(ptr::null(), |d| d.user_code.as_ptr())
    })
}

/// Where the user enters the code (Keycloak: `.../realms/<realm>/device`). NULL when `device`
/// is NULL. Ownership: borrowed from `device`. Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_device_verification_uri(
    device_login: *const tw_device,
) -> *const c_char {
    guard_value(ptr::null(), || {
        device(device_login).map_or(ptr::null(), |d| d.verification_uri.as_ptr())
    })
}

/// The verification URI with the code filled in, when the provider gave one (NULL
/// otherwise). Ownership: borrowed from `device`. Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_device_verification_uri_complete(
    device_login: *const tw_device,
) -> *const c_char {
    guard_value(ptr::null(), || {
        device(device_login)
            .and_then(|d| d.verification_uri_complete.as_ref())
            .map_or(ptr::null(), |u| u.as_ptr())
    })
}

/// How many seconds the codes were good for when the login began (0 when `device` is NULL).
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_device_expires_in(device_login: *const tw_device) -> u64 {
    guard_value(0, || {
        device(device_login).map_or(0, |d| d.authorization.expires_in.as_secs())
    })
}

/// The polling interval the provider asked for, in seconds (0 when `device` is NULL).
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_device_interval(device_login: *const tw_device) -> u64 {
    guard_value(0, || {
        device(device_login).map_or(0, |d| d.authorization.interval.as_secs())
    })
}

/// Waits for the user: polls the token endpoint every interval (5 s more after each
/// `slow_down`, never sooner than the provider asks) until the user approves, refuses, the
/// codes expire or `tw_device_cancel` is called. On approval the tokens are cached like a
/// login's: `tw_client_access_token` renews them with the refresh token from now on.
///
/// `out` may be NULL; otherwise on success `*out` is the new token, for `tw_token_free`.
/// Errors: `TW_ERR_NULL_ARGUMENT`; `TW_ERR_OAUTH` with `access_denied` (the user refused) or
/// `expired_token` (the codes expired; start again); `TW_ERR_LOGIN_REQUIRED` when cancelled;
/// the network's.
/// Thread-safety: any thread; blocks it until the outcome (cancel from another thread).
#[no_mangle]
pub unsafe extern "C" fn tw_client_device_wait(
    client: *const tw_client,
    device_login: *const tw_device,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| -> FfiResult {
        let client = &arg_ref(client, "client")?.client;
        let d = arg_ref(device_login, "device")?;
        let token = client.device_wait(&d.authorization, &d.cancel)?;
        // SAFETY: a non-NULL out-pointer points to writable storage (documented contract).
        if let Some(out) = unsafe { out.as_mut() } {
            *out = token_out(token);
        }
        Ok(())
    })
}

/// Makes a `tw_client_device_wait` on this login (running or future) return
/// `TW_ERR_LOGIN_REQUIRED` within a tenth of a second. NULL is ignored.
/// Thread-safety: any thread (this is how another thread stops a wait).
#[no_mangle]
pub unsafe extern "C" fn tw_device_cancel(device_login: *const tw_device) {
    guard_value((), || {
        if let Some(d) = device(device_login) {
            d.cancel.store(true, Ordering::Release);
        }
    })
}

/// Frees a device login (its device code is zeroed). NULL is ignored.
/// Ownership: takes ownership of `device`. Thread-safety: no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn tw_device_free(device_login: *mut tw_device) {
    guard_value((), || {
        if !device_login.is_null() {
            // SAFETY: `device_login` came from this library and is freed once (documented).
            drop(unsafe { Box::from_raw(device_login) });
        }
    })
}

/// Exchanges `subject_token` (a user's access token that names this client in its
/// audience) for a token for `audience` and/or `scope` (RFC 8693; Keycloak's standard token
/// exchange). `requested` is `TW_TOKEN_KIND_ACCESS` or `TW_TOKEN_KIND_REFRESH` (then a
/// refresh token comes too). The answer is cached per (subject token, audience, scope,
/// requested type) and exchanged again when due, while the subject token is valid.
///
/// `audience` and `scope` may be NULL. Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`;
/// `TW_ERR_CONFIG` (a public client); `TW_ERR_OAUTH` (e.g. `invalid_request` for an audience
/// the client may not reach); `TW_ERR_LOGIN_REQUIRED` (the subject token has expired); the
/// network's. Ownership: on success `*out` is the token, for `tw_token_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_exchange_token(
    client: *const tw_client,
    subject_token: *const c_char,
    audience: *const c_char,
    scope: *const c_char,
    requested: tw_token_kind,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| {
        let client = &arg_ref(client, "client")?.client;
        let subject = Secret::new(arg_str(subject_token, "subject_token")?);
        let audience = arg_opt_str(audience, "audience")?;
        let scope = arg_opt_str(scope, "scope")?;
        let requested = match requested {
            TW_TOKEN_KIND_ACCESS => TokenType::AccessToken,
            TW_TOKEN_KIND_REFRESH => TokenType::RefreshToken,
            other => {
                return Err(Failure::invalid(format!(
                    "requested token type {other} is unknown; use TW_TOKEN_KIND_ACCESS or TW_TOKEN_KIND_REFRESH"
                )))
            }
        };
        let out = arg_out(out, "out")?;
        let token = client.exchange_token(&subject, audience, scope, requested)?;
        *out = token_out(token);
        Ok(())
    })
}

/// Logs the user out without a browser: ends the session at the end-session endpoint with
/// `refresh_token` (Keycloak's back-channel logout), revokes it (for an offline token this
/// ends the offline session too) and empties the client's cache.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_OAUTH`; the network's.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_logout(
    client: *const tw_client,
    refresh_token: *const c_char,
) -> tw_result {
    guard(|| {
        let client = &arg_ref(client, "client")?.client;
        let refresh_token = Secret::new(arg_str(refresh_token, "refresh_token")?);
        client.logout(&refresh_token)?;
        Ok(())
    })
}

/// `private_key_jwt`: the client authenticates with JWTs signed by this private key, read
/// now from the PEM file at `path` (PKCS#8 RSA or EC P-256/P-384, or PKCS#1 RSA). `key_id` is
/// the key's `kid` in the client's registered key set; NULL uses its RFC 7638 thumbprint.
/// Sets the auth method to `TW_AUTH_METHOD_PRIVATE_KEY_JWT`.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` when the file cannot
/// be read or holds no usable key (the message says how to convert one, never the key).
/// Ownership: the key is kept by the options (and by clients made from them; never shown,
/// its read buffers zeroed). Thread-safety: one thread at a time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_private_key_file(
    options: *mut tw_options,
    path: *const c_char,
    key_id: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        let path = arg_str(path, "path")?;
        let key_id = arg_opt_str(key_id, "key_id")?;
        let key = PrivateKey::from_pem_file(path, key_id)?;
        o.config = o.config.clone().signer(key.into_signer());
        Ok(())
    })
}

/// As `tw_options_set_private_key_file`, from PEM text (`pem`, UTF-8, NUL-terminated) held in
/// memory, e.g. from a secret manager. The caller's copy is only read.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_private_key_pem(
    options: *mut tw_options,
    pem: *const c_char,
    key_id: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        let pem = arg_str(pem, "pem")?;
        let key_id = arg_opt_str(key_id, "key_id")?;
        let key = PrivateKey::from_pem(pem, key_id)?;
        o.config = o.config.clone().signer(key.into_signer());
        Ok(())
    })
}
