//! `tw_options`: who the client is and how it talks HTTP, set field by field from C.

use std::ffi::{c_char, c_void};
use std::time::Duration;

use tokenward::{AuthMethod, ClientBuilder, ClientConfig, HttpOptions, RefreshPolicy, Trust};

use crate::error::{guard, guard_value, tw_result, Failure, FfiResult};
use crate::hook::{tw_token_callback, HookSpec};
use crate::strings::{arg_out, arg_str};

/// How the client authenticates at the token endpoint (`tw_options_set_auth_method`).
pub type tw_auth_method = u32;
/// `client_secret_post` when a secret is set, else `none` (the default).
pub const TW_AUTH_METHOD_AUTO: tw_auth_method = 0;
/// `client_id` and `client_secret` in the form body (what the four seed APIs document).
pub const TW_AUTH_METHOD_CLIENT_SECRET_POST: tw_auth_method = 1;
/// `Authorization: Basic base64(id:secret)`.
pub const TW_AUTH_METHOD_CLIENT_SECRET_BASIC: tw_auth_method = 2;
/// A public client (native app): `client_id` only, PKCE protects the code.
pub const TW_AUTH_METHOD_NONE: tw_auth_method = 3;
/// A JWT signed with the client's private key (`tw_options_set_private_key_file`; Keycloak's
/// `client-jwt`).
pub const TW_AUTH_METHOD_PRIVATE_KEY_JWT: tw_auth_method = 4;
/// A JWT signed with HS256 and the client secret (Keycloak's `client-secret-jwt`).
pub const TW_AUTH_METHOD_CLIENT_SECRET_JWT: tw_auth_method = 5;

/// Which root certificates verify the server (`tw_options_set_trust`).
pub type tw_trust = u32;
/// Mozilla's roots, built into the library (the default).
pub const TW_TRUST_WEBPKI: tw_trust = 0;
/// The operating system's trust store.
pub const TW_TRUST_PLATFORM: tw_trust = 1;

/// A client's settings: client id, secret, auth method, scopes, redirect URI, required claims,
/// early-refresh margin, HTTP timeout and trust, and the token hook.
///
/// Create with `tw_options_new`, set fields, pass to a `tw_client_*` constructor (which copies
/// what it needs: the options may be changed or freed afterwards), free with
/// `tw_options_free`.
///
/// Thread-safety: not thread-safe; use one `tw_options` from one thread at a time.
pub struct tw_options {
    pub(crate) config: ClientConfig,
    pub(crate) http: HttpOptions,
    pub(crate) refresh_policy: RefreshPolicy,
    pub(crate) hook: Option<HookSpec>,
    pub(crate) verification: Verification,
    /// The shared store's URL (`tw_options_set_store`); `None`: this process only.
    pub(crate) store: Option<String>,
}

/// How signed tokens are checked, beyond the core's defaults: the issuer they carry when it
/// is not the URL the provider is reached by, and the clock leeway.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verification {
    pub(crate) expected_issuer: Option<String>,
    pub(crate) leeway: Option<Duration>,
}

impl Verification {
    pub(crate) fn apply(&self, mut builder: ClientBuilder) -> ClientBuilder {
        if let Some(issuer) = &self.expected_issuer {
            builder = builder.expected_issuer(issuer.as_str());
        }
        if let Some(leeway) = self.leeway {
            builder = builder.leeway(leeway);
        }
        builder
    }
}

pub(crate) fn with_options(
    options: *mut tw_options,
    f: impl FnOnce(&mut tw_options) -> FfiResult,
) -> tw_result {
    guard(|| {
        // SAFETY: a non-NULL `options` comes from tw_options_new and is not shared (documented).
        let options = unsafe { options.as_mut() }.ok_or_else(|| Failure::null("options"))?;
        f(options)
    })
}

/// Creates options for the client `client_id` (as registered at the provider). The defaults:
/// no secret (a public client), auth method auto, no scopes, 30 s HTTP timeout, Mozilla's root
/// certificates, proxies from the environment, early refresh at min(10 % of the lifetime, 60 s).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`. An empty client id is refused later,
/// when a client is made (`TW_ERR_CONFIG`).
/// Ownership: on success `*out` is a new object the caller frees with `tw_options_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_options_new(
    client_id: *const c_char,
    out: *mut *mut tw_options,
) -> tw_result {
    guard(|| {
        let client_id = arg_str(client_id, "client_id")?;
        let out = arg_out(out, "out")?;
        *out = Box::into_raw(Box::new(tw_options {
            config: ClientConfig::new(client_id),
            http: HttpOptions::default(),
            refresh_policy: RefreshPolicy::default(),
            hook: None,
            verification: Verification::default(),
            store: None,
        }));
        Ok(())
    })
}

/// Frees options. NULL is ignored.
///
/// Ownership: takes ownership of `options`; clients made from it are unaffected.
/// Errors: none. Thread-safety: no other thread may be using `options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_free(options: *mut tw_options) {
    guard_value((), || {
        if !options.is_null() {
            // SAFETY: `options` came from tw_options_new and is freed once (documented).
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

/// Sets the client secret (a confidential client). The library keeps it out of every message
/// and zeroes its copies when they are freed; the caller's string is only read.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`. An empty secret is refused when a
/// client is made (`TW_ERR_CONFIG`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_secret(
    options: *mut tw_options,
    secret: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        let secret = arg_str(secret, "secret")?;
        o.config.client_secret = Some(secret.into());
        Ok(())
    })
}

/// Sets how the client authenticates: one of the `TW_AUTH_METHOD_*` constants.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_ARGUMENT` for an unknown constant. A
/// `client_secret_*` method without a secret is refused when a client is made
/// (`TW_ERR_CONFIG`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_auth_method(
    options: *mut tw_options,
    method: tw_auth_method,
) -> tw_result {
    with_options(options, |o| {
        o.config.auth_method = match method {
            TW_AUTH_METHOD_AUTO => None,
            TW_AUTH_METHOD_CLIENT_SECRET_POST => Some(AuthMethod::ClientSecretPost),
            TW_AUTH_METHOD_CLIENT_SECRET_BASIC => Some(AuthMethod::ClientSecretBasic),
            TW_AUTH_METHOD_NONE => Some(AuthMethod::None),
            TW_AUTH_METHOD_PRIVATE_KEY_JWT => Some(AuthMethod::PrivateKeyJwt),
            TW_AUTH_METHOD_CLIENT_SECRET_JWT => Some(AuthMethod::ClientSecretJwt),
            other => {
                return Err(Failure::invalid(format!(
                    "auth method {other} is unknown; use one of the TW_AUTH_METHOD_* constants"
                )))
            }
        };
        Ok(())
    })
}

/// Sets how the client authenticates by name, as the CLI and the environment spell it:
/// `client_secret_post` (or `post`), `client_secret_basic` (or `basic`), `none`,
/// `private_key_jwt`, `client_secret_jwt`, or `auto` (the default). The library parses the
/// name, so every binding accepts the same names and refuses others with the same message.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`, `TW_ERR_CONFIG` for an unknown name
/// (the message lists the known ones).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_auth_method_name(
    options: *mut tw_options,
    name: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        let name = arg_str(name, "name")?;
        o.config.auth_method = AuthMethod::parse_setting(name)?;
        Ok(())
    })
}

/// Sets the scopes requested by default, space-separated as OAuth writes them
/// (`"openid user_impersonation"`). `""` requests none (the server's defaults).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; a scope with characters OAuth does
/// not allow is refused when a client is made (`TW_ERR_CONFIG`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_scope(
    options: *mut tw_options,
    scope: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        let scope = arg_str(scope, "scope")?;
        o.config.scopes = tokenward::config::split_scope(scope);
        Ok(())
    })
}

/// Sets the audience (`audience` parameter); tokens for different audiences are cached
/// apart.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_audience(
    options: *mut tw_options,
    audience: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.config.audience = Some(arg_str(audience, "audience")?.to_string());
        Ok(())
    })
}

/// Sets the redirect URI for logins: https, loopback http (`http://127.0.0.1:PORT/callback`)
/// or a private-use scheme (`com.example.app:/cb`). It must match the client's registration
/// exactly.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; a malformed or plain-http URI is
/// refused when a client is made (`TW_ERR_CONFIG`, `TW_ERR_INSECURE_URL`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_redirect_uri(
    options: *mut tw_options,
    redirect_uri: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.config.redirect_uri = Some(arg_str(redirect_uri, "redirect_uri")?.to_string());
        Ok(())
    })
}

/// Requires every access token to carry the claim `claim` (Docbyte: `"tenant"`); a token
/// without it fails with `TW_ERR_MISSING_CLAIM` as soon as it arrives. Call once per claim.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_add_required_claim(
    options: *mut tw_options,
    claim: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.config
            .required_claims
            .push(arg_str(claim, "claim")?.to_string());
        Ok(())
    })
}

/// Renews a cached token `margin_ms` milliseconds before it expires (instead of
/// min(10 % of its lifetime, 60 s)). The margin is capped at half the token's lifetime.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_refresh_margin_ms(
    options: *mut tw_options,
    margin_ms: u64,
) -> tw_result {
    with_options(options, |o| {
        o.refresh_policy = RefreshPolicy::fixed(Duration::from_millis(margin_ms));
        Ok(())
    })
}

/// Sets the timeout for one whole HTTP exchange (connect, send, wait, read), in milliseconds.
/// The default is 30000.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; 0 is refused when a client is made (`TW_ERR_CONFIG`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_timeout_ms(
    options: *mut tw_options,
    timeout_ms: u64,
) -> tw_result {
    with_options(options, |o| {
        o.http.timeout = Duration::from_millis(timeout_ms);
        Ok(())
    })
}

/// Sets the timeout for establishing a connection, in milliseconds (default 10000; never more
/// than the overall timeout).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_connect_timeout_ms(
    options: *mut tw_options,
    timeout_ms: u64,
) -> tw_result {
    with_options(options, |o| {
        o.http.connect_timeout = Duration::from_millis(timeout_ms);
        Ok(())
    })
}

/// Trusts only the certificates in the PEM file at `path` (a private CA). The file is read
/// when a client is made.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; an unreadable file or one without a
/// certificate fails when a client is made (`TW_ERR_CONFIG`).
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_ca_file(
    options: *mut tw_options,
    path: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.http.trust = Trust::CaFile(arg_str(path, "path")?.into());
        Ok(())
    })
}

/// Chooses the root certificates: `TW_TRUST_WEBPKI` (built in, the default) or
/// `TW_TRUST_PLATFORM` (the operating system's store). Replaces a CA file set before.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_ARGUMENT` for an unknown constant.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_trust(
    options: *mut tw_options,
    trust: tw_trust,
) -> tw_result {
    with_options(options, |o| {
        o.http.trust = match trust {
            TW_TRUST_WEBPKI => Trust::WebPki,
            TW_TRUST_PLATFORM => Trust::Platform,
            other => {
                return Err(Failure::invalid(format!(
                    "trust {other} is unknown; use TW_TRUST_WEBPKI or TW_TRUST_PLATFORM"
                )))
            }
        };
        Ok(())
    })
}

/// Whether to honour `HTTPS_PROXY`, `ALL_PROXY`, `HTTP_PROXY` and `NO_PROXY` (default: yes).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_proxy_from_env(
    options: *mut tw_options,
    enabled: bool,
) -> tw_result {
    with_options(options, |o| {
        o.http.proxy_from_env = enabled;
        Ok(())
    })
}

/// Registers `callback` to see every token the client obtains (a login, a refresh, client
/// credentials, a renewal), e.g. to persist a rotated refresh token with
/// `tw_token_refresh_token`. `callback` NULL removes the hook.
///
/// The callback runs on the thread that obtained the token: the caller's thread, or the
/// library's background renewal thread (named `tokenward-renew`) when a token is renewed
/// ahead of its expiry. It may therefore run on several threads at once: make it
/// thread-safe. The `tw_token` it receives is borrowed for the duration of the call only
/// (copy what you need; never free it). It must return normally (no longjmp, no C++
/// exception) and must not call `tw_client_*` functions of the same client (a renewal is in
/// progress: that may deadlock). Once `tw_client_free` has returned, the callback is never
/// called again for that client, so `user_data` may be freed then.
///
/// Errors: `TW_ERR_NULL_ARGUMENT` when `options` is NULL.
/// Ownership: `user_data` stays the caller's and must stay valid until every client made
/// with these options has been freed. Thread-safety: as for every `tw_options` function.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_on_token(
    options: *mut tw_options,
    callback: tw_token_callback,
    user_data: *mut c_void,
) -> tw_result {
    with_options(options, |o| {
        o.hook = callback.map(|cb| HookSpec { cb, user_data });
        Ok(())
    })
}

/// Sets the issuer that tokens carry when it differs from the URL the client reaches the
/// provider by: Keycloak reached by an internal URL (`http://keycloak:8080`) whose tokens name
/// its public `hostname` (`https://sso.example.com/realms/acme`). Discovery then expects this
/// issuer in the document, and ID tokens, access tokens and login callbacks are checked
/// against it. Without it, such a split fails with `TW_ERR_ISSUER_MISMATCH` or
/// `TW_ERR_INVALID_TOKEN`, naming both URLs.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`.
/// Ownership: strings are copied; the caller keeps its own. Thread-safety: one thread at a
/// time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_expected_issuer(
    options: *mut tw_options,
    issuer: *const c_char,
) -> tw_result {
    with_options(options, |o| {
        o.verification.expected_issuer = Some(arg_str(issuer, "issuer")?.to_string());
        Ok(())
    })
}

/// Sets how far clocks may disagree, in milliseconds, when a signed token's `exp` and `iat`
/// are checked (ID tokens, `tw_client_verify_access_token`). The default is 30000; 0 allows no
/// skew at all.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: nothing is kept. Thread-safety: one thread at a time per `tw_options`.
#[no_mangle]
pub unsafe extern "C" fn tw_options_set_leeway_ms(
    options: *mut tw_options,
    leeway_ms: u64,
) -> tw_result {
    with_options(options, |o| {
        o.verification.leeway = Some(Duration::from_millis(leeway_ms));
        Ok(())
    })
}
