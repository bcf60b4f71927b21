//! `tw_client`: one registered client at one provider, with its token cache.

use std::ffi::c_char;
use std::sync::Arc;

use tokenward::settings::{Env, Layer, Origin, SecretSource, SecretSpec, Settings};
use tokenward::{Client, ClientBuilder, HttpOptions, Provider, Secret, TokenKind};

use crate::error::{guard, guard_value, tw_result, Failure, FfiResult};
use crate::hook::HookState;
use crate::options::tw_options;
use crate::strings::{arg_opt_str, arg_out, arg_ref, arg_str, copy_out, owned_string};
use crate::token::{token_out, tw_token};

/// A name and a value: a URL template's placeholder (`{"tenant", "acme"}`) or an extra query
/// parameter of a login (`{"prompt", "login"}`). Both strings are UTF-8 and borrowed for the
/// call only.
#[repr(C)]
pub struct tw_param {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// Which kind of token `tw_client_revoke` / `tw_client_introspect` is given.
pub type tw_token_kind = u32;
/// An access token.
pub const TW_TOKEN_KIND_ACCESS: tw_token_kind = 0;
/// A refresh token (revoking it ends the session at Keycloak).
pub const TW_TOKEN_KIND_REFRESH: tw_token_kind = 1;

/// An OAuth client for one provider, with its token cache.
///
/// Thread-safety: every `tw_client_*` function may be called on one client from many threads
/// at once; tokens are renewed at most once at a time (single-flight). Only `tw_client_free`
/// must not race with other calls on the same client.
pub struct tw_client {
    pub(crate) client: Client,
    hook: Option<Arc<HookState>>,
}

impl Drop for tw_client {
    fn drop(&mut self) {
        if let Some(hook) = &self.hook {
            hook.disable();
        }
    }
}

/// Borrowed name/value pairs from a C array.
///
/// # Safety
/// `params` is NULL or points to `len` valid `tw_param`s whose strings outlive `'a`.
pub(crate) unsafe fn arg_params<'a>(
    params: *const tw_param,
    len: usize,
    what: &str,
) -> FfiResult<Vec<(&'a str, &'a str)>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if params.is_null() {
        return Err(Failure::null(what));
    }
    std::slice::from_raw_parts(params, len)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok((
                arg_str(p.name, &format!("{what}[{i}].name"))?,
                arg_str(p.value, &format!("{what}[{i}].value"))?,
            ))
        })
        .collect()
}

fn build(builder: ClientBuilder, options: &tw_options, out: &mut *mut tw_client) -> FfiResult {
    let mut builder = options
        .verification
        .apply(builder)
        .http_options(options.http.clone())
        .refresh_policy(options.refresh_policy);
    if let Some(store) = &options.store {
        builder = builder.store(store.as_str());
    }
    let hook = options.hook.map(HookState::new);
    if let Some(hook) = &hook {
        let hook = hook.clone();
        builder = builder.on_token(move |t| hook.call(t));
    }
    let client = builder.build()?;
    *out = Box::into_raw(Box::new(tw_client { client, hook }));
    Ok(())
}

fn make(
    options: *const tw_options,
    out: *mut *mut tw_client,
    provider: impl FnOnce() -> FfiResult<Provider>,
) -> tw_result {
    guard(|| {
        let options = arg_ref(options, "options")?;
        let out = arg_out(out, "out")?;
        let provider = provider()?;
        build(
            Client::builder(provider, options.config.clone()),
            options,
            out,
        )
    })
}

/// Makes a client for a bare token URL, as the ecoinvent and Iopole documentation give it
/// (`https://sso.ecoinvent.org/realms/ecoinvent/protocol/openid-connect/token`). A
/// Keycloak-shaped URL also yields the realm's other endpoints (revocation, logout, login).
/// No network traffic.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` (malformed URL,
/// empty client id, missing secret for the auth method, unreadable CA file, ...);
/// `TW_ERR_INSECURE_URL` (plain http to a non-loopback host).
/// Ownership: on success `*out` is a new client for `tw_client_free`; `options` stays the
/// caller's.
/// Thread-safety: any thread; `options` must not be changed meanwhile.
#[no_mangle]
pub unsafe extern "C" fn tw_client_from_token_url(
    token_url: *const c_char,
    options: *const tw_options,
    out: *mut *mut tw_client,
) -> tw_result {
    make(options, out, || {
        Ok(Provider::from_token_url(arg_str(token_url, "token_url")?)?)
    })
}

/// Makes a client for a Keycloak realm: `base_url` is the server
/// (`https://auth.test.ecocoa.ch`), `realm` the realm's name (`vion`). Every endpoint is
/// derived; no network traffic.
///
/// Errors and ownership as for `tw_client_from_token_url`; a realm with `/ ? #` is
/// `TW_ERR_CONFIG`.
/// Thread-safety: any thread; `options` must not be changed meanwhile.
#[no_mangle]
pub unsafe extern "C" fn tw_client_from_keycloak(
    base_url: *const c_char,
    realm: *const c_char,
    options: *const tw_options,
    out: *mut *mut tw_client,
) -> tw_result {
    make(options, out, || {
        let base_url = arg_str(base_url, "base_url")?;
        let realm = arg_str(realm, "realm")?;
        Ok(Provider::keycloak(base_url, realm)?)
    })
}

/// Makes a client from a URL template and its values, e.g. Docbyte's
/// `https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}` with
/// `{"account","acme"}`, `{"environment","prod"}`, `{"tenant","t1"}`. The filled URL is a
/// Keycloak realm URL or a token URL. No network traffic.
///
/// `values` points to `values_len` pairs (NULL allowed when `values_len` is 0). A placeholder
/// without a value, a value without a placeholder, or a value that is not a plain name
/// (`/ ? # @ : %` or white space) is `TW_ERR_CONFIG`, with the name in the message.
/// Other errors and ownership as for `tw_client_from_token_url`.
/// Thread-safety: any thread; `options` must not be changed meanwhile.
#[no_mangle]
pub unsafe extern "C" fn tw_client_from_template(
    url_template: *const c_char,
    values: *const tw_param,
    values_len: usize,
    options: *const tw_options,
    out: *mut *mut tw_client,
) -> tw_result {
    make(options, out, || {
        let template = arg_str(url_template, "url_template")?;
        let values = arg_params(values, values_len, "values")?;
        Ok(Provider::from_template(template, &values)?)
    })
}

/// Makes a client by OpenID Connect discovery: fetches
/// `issuer/.well-known/openid-configuration` (blocking, within the options' timeout) and
/// checks that its `issuer` is exactly `issuer`.
///
/// Errors: as for `tw_client_from_token_url`, plus the network's (`TW_ERR_TRANSPORT`,
/// `TW_ERR_TIMEOUT`, `TW_ERR_HTTP`), `TW_ERR_INVALID_RESPONSE` (not a discovery document) and
/// `TW_ERR_ISSUER_MISMATCH`.
/// Ownership: as for `tw_client_from_token_url`. Thread-safety: any thread; `options` must not
/// be changed meanwhile.
#[no_mangle]
pub unsafe extern "C" fn tw_client_discover(
    issuer: *const c_char,
    options: *const tw_options,
    out: *mut *mut tw_client,
) -> tw_result {
    guard(|| {
        let issuer = arg_str(issuer, "issuer")?;
        let options = arg_ref(options, "options")?;
        let out = arg_out(out, "out")?;
        build(
            Client::discover(issuer, options.config.clone()),
            options,
            out,
        )
    })
}

/// Makes a client from the settings every tokenward binding reads (the CLI's too): the
/// `TOKENWARD_*` environment variables, then the profile `profile` of the profiles file
/// (`$TOKENWARD_CONFIG`, else `~/.config/tokenward/config.toml`). `profile` NULL means the one
/// `TOKENWARD_PROFILE` names, or none. The environment wins over the profile, setting by
/// setting; the provider is one of `TOKENWARD_ISSUER` (discovered: network traffic),
/// `TOKENWARD_KEYCLOAK` + `TOKENWARD_REALM`, `TOKENWARD_TEMPLATE` + `TOKENWARD_SET='k=v k=v'` /
/// `TOKENWARD_SET_<NAME>`, or `TOKENWARD_TOKEN_URL`; with `TOKENWARD_CLIENT_ID`,
/// `TOKENWARD_CLIENT_SECRET` or `TOKENWARD_CLIENT_SECRET_FILE`, `TOKENWARD_SCOPE`,
/// `TOKENWARD_AUTH_METHOD`, `TOKENWARD_REQUIRE_CLAIM`, `TOKENWARD_TIMEOUT` (seconds),
/// `TOKENWARD_CA_FILE`, `TOKENWARD_REDIRECT_URI`. The README lists the profile keys.
///
/// ```c
/// struct tw_client *client = NULL;
/// if (tw_client_from_env("vion-test", &client) != TW_OK)
///     fprintf(stderr, "%s\n", tw_last_error_message());
/// ```
///
/// Errors: `TW_ERR_NULL_ARGUMENT` (`out`), `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` for missing
/// or contradicting settings, an unknown profile, a profiles file that is not valid TOML or has
/// an unknown key or a wrong type (the message names file, line and key), an inline
/// `client_secret` in a file others can read (the message says `chmod 600 FILE`), an unreadable
/// secret file; otherwise as for `tw_client_from_token_url` and `tw_client_discover`.
/// Ownership: on success `*out` is a new client for `tw_client_free`.
/// Thread-safety: any thread (it reads the process environment).
#[no_mangle]
pub unsafe extern "C" fn tw_client_from_env(
    profile: *const c_char,
    out: *mut *mut tw_client,
) -> tw_result {
    tw_client_from_env_with(profile, std::ptr::null(), 0, std::ptr::null(), out)
}

/// `tw_client_from_env` with the environment and options given by the caller (bindings,
/// tests, embedders):
/// - `environ` (`environ_len` name/value pairs) replaces the process environment for the
///   call; NULL (with length 0) reads the process environment;
/// - `options`, when not NULL, win over the environment and the profile: its client id when
///   not empty, and each setting that is set (secret, auth method, scopes, required claims,
///   redirect URI, audience) or differs from the default (timeout, trust); its connect
///   timeout, proxy use, refresh margin and token hook apply as for every constructor.
///
/// Errors, ownership and thread-safety as for `tw_client_from_env`; `options` and `environ`
/// stay the caller's and are only read during the call.
#[no_mangle]
pub unsafe extern "C" fn tw_client_from_env_with(
    profile: *const c_char,
    environ: *const tw_param,
    environ_len: usize,
    options: *const tw_options,
    out: *mut *mut tw_client,
) -> tw_result {
    guard(|| {
        let profile = arg_opt_str(profile, "profile")?;
        let env: Env = if environ.is_null() && environ_len == 0 {
            Env::process()
        } else {
            arg_params(environ, environ_len, "environ")?
                .into_iter()
                .collect()
        };
        let defaults = HttpOptions::default();
        let top: Vec<Layer> = match options.as_ref() {
            None => Vec::new(),
            Some(o) => {
                let c = &o.config;
                let http = &o.http;
                vec![Layer {
                    client_id: Some(c.client_id.clone()).filter(|id| !id.is_empty()),
                    secret: c.client_secret.clone().map(|s| SecretSpec {
                        source: SecretSource::Inline(s),
                        origin: "the options' secret".into(),
                    }),
                    auth_method: c.auth_method.map(|m| m.as_str().to_string()),
                    scope: (!c.scopes.is_empty()).then(|| c.scopes.join(" ")),
                    require_claims: c.required_claims.clone(),
                    redirect_uri: c.redirect_uri.clone(),
                    timeout: (http.timeout != defaults.timeout).then_some(http.timeout),
                    expected_issuer: o.verification.expected_issuer.clone(),
                    leeway: o.verification.leeway,
                    store: o.store.clone(),
                    ..Layer::new(Origin::Options)
                }]
            }
        };
        let out = arg_out(out, "out")?;
        let settings = Settings::load(top, profile, &env)?;
        let secret = settings
            .secret
            .as_ref()
            .map(|s| s.read("client secret", &env))
            .transpose()?;
        let mut config = settings.client_config(secret);
        let mut http = settings.http_options();
        let (refresh_policy, hook) = match options.as_ref() {
            None => (Default::default(), None),
            Some(o) => {
                config.audience = o.config.audience.clone();
                let base = o.http.clone();
                if base.trust != defaults.trust {
                    http.trust = base.trust.clone();
                }
                http = HttpOptions {
                    timeout: http.timeout,
                    trust: http.trust,
                    ..base
                };
                (o.refresh_policy, o.hook)
            }
        };
        let options = tw_options {
            config: config.clone(),
            http,
            refresh_policy,
            hook,
            // The settings carry the options' issuer, leeway and store, and apply them.
            verification: Default::default(),
            store: None,
        };
        build(settings.builder(config)?, &options, out)
    })
}

/// Frees a client and its token cache. NULL is ignored. When it returns, the token hook is
/// not running and will not be called again. A renewal running in the background finishes
/// on its own and its result is dropped.
///
/// Ownership: takes ownership of `client`. Thread-safety: no other call on this client may
/// run concurrently or follow.
/// Errors: none.
#[no_mangle]
pub unsafe extern "C" fn tw_client_free(client: *mut tw_client) {
    guard_value((), || {
        if !client.is_null() {
            // SAFETY: `client` came from a tw_client constructor and is freed once (documented).
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

fn client_ref<'a>(client: *const tw_client) -> FfiResult<&'a Client> {
    arg_ref(client, "client").map(|c| &c.client)
}

/// Copies a valid access token for the configured scopes into `buf`, NUL-terminated, and its
/// length (without the NUL) into `*out_len`.
///
/// The token comes from the cache when it is fresh (no I/O, no lock: tens of nanoseconds).
/// Shortly before it expires one renewal starts in the background while callers keep
/// getting the still-valid token; once it has expired, callers wait for the one request in
/// flight. Renewal uses the refresh token if there is one, else client credentials.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; `TW_ERR_BUFFER_TOO_SMALL`, with the size needed
/// (terminating NUL included) written to `*out_len` and nothing copied: call again with a
/// buffer that large (a renewed token may differ in length, so loop). `buf` may be NULL when
/// `buf_len` is 0, to ask for the size. From the server: `TW_ERR_OAUTH` (e.g.
/// `invalid_client`, `invalid_scope`; details in `tw_last_error_oauth_error()`),
/// `TW_ERR_MISSING_CLAIM`, `TW_ERR_LOGIN_REQUIRED`, `TW_ERR_TRANSPORT`, `TW_ERR_TIMEOUT`,
/// `TW_ERR_HTTP`, `TW_ERR_INVALID_RESPONSE`.
/// Thread-safety: any number of threads may call this on one client at once.
/// Ownership: copied into the caller's buffer; nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_client_access_token(
    client: *const tw_client,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out_len = arg_out(out_len, "out_len")?;
        client.with_token(|token| copy_out(token.access_token().expose(), buf, buf_len, out_len))?
    })
}

/// Like `tw_client_access_token`, and also says for how long the cache would return this same
/// token without renewing it, and which state of the cache it came from: a view of the token
/// that a binding whose calls are costly (Python through ctypes) may keep instead of calling
/// again.
///
/// - `*out_fresh_for_ns`: nanoseconds from a moment during this call until the token's refresh
///   point; 0 when it is already due (or another caller renewed it meanwhile): then keep no
///   copy. A deadline that holds on every platform is a monotonic clock reading taken *before*
///   the call plus this duration (durations agree across clocks; absolute readings do not).
/// - `*out_generation`: the generation of the cache's state the token came from. It grows with
///   every change of the session; `tw_client_generation` reads it. After a call that changes
///   the session (`tw_client_login_finish`, `tw_client_refresh`, `tw_client_resume`,
///   `tw_client_revoke`, `tw_client_access_token_after_rejection`), read
///   `tw_client_generation` and drop every copy labelled with an older generation.
///
/// Errors: as `tw_client_access_token`; `*out_fresh_for_ns` and `*out_generation` are written
/// only on success.
/// Thread-safety: any number of threads may call this on one client at once.
/// Ownership: copied into the caller's buffer; nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_client_access_token_view(
    client: *const tw_client,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_fresh_for_ns: *mut u64,
    out_generation: *mut u64,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out_len = arg_out(out_len, "out_len")?;
        let out_fresh_for = arg_out(out_fresh_for_ns, "out_fresh_for_ns")?;
        let out_generation = arg_out(out_generation, "out_generation")?;
        let (fresh_for, generation) =
            client.with_token_view(|token, fresh_for, generation| {
                copy_out(token.access_token().expose(), buf, buf_len, out_len)
                    .map(|()| (fresh_for, generation))
            })??;
        *out_fresh_for = u64::try_from(fresh_for.as_nanos()).unwrap_or(u64::MAX);
        *out_generation = generation;
        Ok(())
    })
}

/// The generation of the client's token cache (for its configured scopes): a number that grows
/// with every change of the session (a renewal landing, a login, a refresh, a refusal, a
/// revocation). Read it after a call that changes the session to know which copies made with
/// `tw_client_access_token_view` are stale (those labelled with an older generation).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; `*out_generation` is written only on success.
/// Thread-safety: any thread. Ownership: nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_client_generation(
    client: *const tw_client,
    out_generation: *mut u64,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out = arg_out(out_generation, "out_generation")?;
        *out = client.generation();
        Ok(())
    })
}

/// The API refused `rejected` (a 401 for a token from `tw_client_access_token`): renews the
/// token and copies the new one into `buf` as `tw_client_access_token` does. When the cache
/// already holds another token (another thread renewed after the same refusal), that one is
/// copied without a request, so any number of threads refused at once cause one renewal.
/// Retry the API call once with the new token; a second 401 is not a token problem.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8` (`rejected`); buffer rules as for
/// `tw_client_access_token` (calling again with the same `rejected` and a larger buffer
/// copies the token renewed the first time, without another request); the server's, as for
/// `tw_client_access_token`.
/// Thread-safety: any number of threads may call this on one client at once.
/// Ownership: `rejected` is read during the call only; the token is copied into the caller's
/// buffer, nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_client_access_token_after_rejection(
    client: *const tw_client,
    rejected: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let rejected = arg_str(rejected, "rejected")?;
        let out_len = arg_out(out_len, "out_len")?;
        let token = client
            .token_source()
            .renew_after_rejected_access_token(rejected)?;
        copy_out(token.access_token().expose(), buf, buf_len, out_len)
    })
}

/// Like `tw_client_access_token`, but copies the `Authorization` header value:
/// `Bearer <token>`.
///
/// Errors, buffer rules and thread-safety as for `tw_client_access_token`.
/// Ownership: copied into the caller's buffer; nothing to free.
#[no_mangle]
pub unsafe extern "C" fn tw_client_authorization_header(
    client: *const tw_client,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out_len = arg_out(out_len, "out_len")?;
        let header = client.authorization_header()?;
        copy_out(header.expose(), buf, buf_len, out_len)
    })
}

/// The current token with everything that came with it (refresh token, ID token, scope,
/// claims), from the cache or renewed as in `tw_client_access_token`.
///
/// Errors: as for `tw_client_access_token` (no buffer errors).
/// Ownership: on success `*out` is a new `tw_token` for `tw_token_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_token(
    client: *const tw_client,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out = arg_out(out, "out")?;
        *out = token_out(client.token()?);
        Ok(())
    })
}

/// The claims of the current access token as a JSON object (decoded, not verified), e.g. to
/// read `tenant` or `realm_access.roles`. `*out` is NULL when the access token is not a JWT.
///
/// Errors: as for `tw_client_access_token` (no buffer errors).
/// Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_claims_json(
    client: *const tw_client,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out = arg_out(out, "out")?;
        let token = client.token()?;
        *out = match token.claims() {
            Some(c) => owned_string(&c.to_json(), "claims")?,
            None => std::ptr::null_mut(),
        };
        Ok(())
    })
}

/// The client id this client was made with (useful after `tw_client_from_env`, where the
/// settings chose it).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`.
/// Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_client_id(
    client: *const tw_client,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let out = arg_out(out, "out")?;
        *out = owned_string(&client.config().client_id, "client id")?;
        Ok(())
    })
}

fn optional_token_out(out: *mut *mut tw_token, token: Arc<tokenward::Token>) {
    // SAFETY: a non-NULL out-pointer points to writable storage (documented contract).
    if let Some(out) = unsafe { out.as_mut() } {
        *out = token_out(token);
    }
}

/// Renews the cached token now, whatever its age: with the refresh token if there is one
/// (`invalid_grant` drops it), else with client credentials, else `TW_ERR_LOGIN_REQUIRED`.
///
/// `out` may be NULL; otherwise on success `*out` is the new token, for `tw_token_free`.
/// Errors: `TW_ERR_NULL_ARGUMENT` (client), and the server's as for
/// `tw_client_access_token`. Thread-safety: any thread; concurrent renewals are merged.
/// Ownership: `*out`, when asked for, is the caller's (`tw_token_free`).
#[no_mangle]
pub unsafe extern "C" fn tw_client_refresh(
    client: *const tw_client,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let token = client.refresh()?;
        optional_token_out(out, token);
        Ok(())
    })
}

/// Resumes a session from a refresh token stored earlier (e.g. by a token hook): redeems it
/// and puts the new tokens in the cache, so `tw_client_access_token` renews them from now on.
///
/// `out` may be NULL; otherwise on success `*out` is the new token, for `tw_token_free`.
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`; `TW_ERR_OAUTH` with
/// `invalid_grant` when the refresh token is expired, revoked or used (log in again); the
/// network's. Thread-safety: any thread.
/// Ownership: `refresh_token` is read during the call only; `*out`, when asked for, is the
/// caller's (`tw_token_free`).
#[no_mangle]
pub unsafe extern "C" fn tw_client_resume(
    client: *const tw_client,
    refresh_token: *const c_char,
    out: *mut *mut tw_token,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let refresh_token = Secret::new(arg_str(refresh_token, "refresh_token")?);
        let token = client.resume(&refresh_token)?;
        optional_token_out(out, token);
        Ok(())
    })
}

fn token_kind(kind: tw_token_kind) -> FfiResult<TokenKind> {
    match kind {
        TW_TOKEN_KIND_ACCESS => Ok(TokenKind::AccessToken),
        TW_TOKEN_KIND_REFRESH => Ok(TokenKind::RefreshToken),
        other => Err(Failure::invalid(format!(
            "token kind {other} is unknown; use TW_TOKEN_KIND_ACCESS or TW_TOKEN_KIND_REFRESH"
        ))),
    }
}

/// Revokes a token (RFC 7009): `kind` says whether `token` is an access or a refresh token.
/// An unknown or already invalid token is not an error. Revoking the cached token or its
/// refresh token also empties the cache.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8`, `TW_ERR_INVALID_ARGUMENT` (kind);
/// `TW_ERR_CONFIG` when the provider has no revocation endpoint (a bare non-Keycloak token
/// URL); the server's and the network's. Thread-safety: any thread.
/// Ownership: `token` is read during the call only.
#[no_mangle]
pub unsafe extern "C" fn tw_client_revoke(
    client: *const tw_client,
    token: *const c_char,
    kind: tw_token_kind,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let token = Secret::new(arg_str(token, "token")?);
        let kind = token_kind(kind)?;
        Ok(client.revoke(&token, kind)?)
    })
}

/// Asks the server about a token (RFC 7662; Keycloak allows it to confidential clients only).
/// On success `*out` is the server's answer as a JSON object; `"active"` says whether the
/// token is valid.
///
/// Errors: as for `tw_client_revoke`. Ownership: free `*out` with `tw_string_free`.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_introspect(
    client: *const tw_client,
    token: *const c_char,
    kind: tw_token_kind,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let token = Secret::new(arg_str(token, "token")?);
        let kind = token_kind(kind)?;
        let out = arg_out(out, "out")?;
        let answer = client.introspect(&token, kind)?;
        *out = owned_string(&answer.claims.to_json(), "introspection answer")?;
        Ok(())
    })
}

/// The logout (end-session) URL to send the user's browser to, with the cached session's ID
/// token as `id_token_hint` (so Keycloak logs out without asking) and
/// `post_logout_redirect_uri` when it is not NULL. No network traffic.
///
/// Errors: `TW_ERR_NULL_ARGUMENT` (client, out), `TW_ERR_INVALID_UTF8`; `TW_ERR_CONFIG` when
/// the provider has no end-session endpoint or the redirect URI is malformed;
/// `TW_ERR_INSECURE_URL`. Ownership: free `*out` with `tw_string_free` (it may hold the ID
/// token). Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_end_session_url(
    client: *const tw_client,
    post_logout_redirect_uri: *const c_char,
    out: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_ref(client)?;
        let redirect = arg_opt_str(post_logout_redirect_uri, "post_logout_redirect_uri")?;
        let out = arg_out(out, "out")?;
        let url = client.logout_url(redirect)?;
        *out = owned_string(&url, "end-session URL")?;
        Ok(())
    })
}
