//! The authorization code flow's front half: the URL the user is sent to, the state kept
//! meanwhile ([`PendingLogin`]), and checking the callback that comes back.

use crate::prelude::*;

use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::config::{check_redirect_uri, check_scope_token, ClientConfig};
use crate::error::{Error, Result};
use crate::fields::{Field, Fields};
use crate::params::{Params, Redirect};
use crate::pkce::{random_string, Pkce, RandomSource};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::text::text;

/// Options for one login; unset fields fall back to the client's configuration.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// Overrides the configured scopes (e.g. `["openid", "user_impersonation"]`).
    pub scopes: Option<Vec<String>>,
    pub redirect_uri: Option<String>,
    /// Further query parameters: `prompt`, `login_hint`, `kc_idp_hint`, `ui_locales`, ...
    pub extra: Vec<(String, String)>,
}

/// What must survive the round trip through the browser to finish a login. Keep it server-side
/// or in session storage: it holds the PKCE verifier.
///
/// Good for one callback, whatever its outcome: the native `Client::exchange_code` takes it by
/// value (it is not `Clone`), and a binding that holds one behind a handle answers a second
/// finish with [`spent_login`].
#[derive(Debug)]
pub struct PendingLogin {
    pub state: Secret,
    pub nonce: Secret,
    pub pkce: Pkce,
    pub redirect_uri: String,
    /// The issuer the callback's `iss` must name, when known.
    pub issuer: Option<String>,
    /// Refuse a callback without `iss` (the provider promised it, RFC 9207).
    pub iss_required: bool,
}

/// Where to send the user, and what to keep until the callback.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The authorization endpoint and the login's parameters (the browser's glue encodes them
    /// with `URLSearchParams`; [`AuthorizationRequest::url`] natively).
    pub redirect: Redirect,
    pub pending: PendingLogin,
}

impl AuthorizationRequest {
    /// The URL to send the user to.
    pub fn url(&self) -> String {
        self.redirect.url()
    }
}

/// The checked result of a callback: the code to exchange.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub code: Secret,
}

const RESERVED: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// Builds the authorization URL with PKCE S256, a fresh `state` and `nonce`.
pub fn authorization_request(
    provider: &Provider,
    config: &ClientConfig,
    options: &LoginOptions,
    rng: &dyn RandomSource,
) -> Result<AuthorizationRequest> {
    let endpoint = provider.endpoint(&provider.authorization_endpoint, "authorization endpoint")?;
    if config.client_id.trim().is_empty() {
        return Err(Error::config("the client id is empty"));
    }
    let redirect_uri = options
        .redirect_uri
        .clone()
        .or_else(|| config.redirect_uri.clone())
        .ok_or_else(|| {
            Error::config(
                "a login needs a redirect URI; set one on the client or pass one for this login",
            )
        })?;
    check_redirect_uri(&redirect_uri)?;
    let scopes = options.scopes.as_ref().unwrap_or(&config.scopes);
    for s in scopes {
        check_scope_token(s)?;
    }
    if let Some((k, _)) = options
        .extra
        .iter()
        .find(|(k, _)| RESERVED.contains(&k.as_str()))
    {
        return Err(Error::config(text!(
            "extra parameter `",
            k,
            "` is set by tokenward itself; pass it through the login options instead"
        )));
    }
    let pending = PendingLogin {
        state: random_string(rng)?,
        nonce: random_string(rng)?,
        pkce: Pkce::generate(rng)?,
        redirect_uri,
        issuer: provider.issuer.clone(),
        iss_required: provider.callback_iss_required,
    };
    let mut q = Params::new();
    q.add("response_type", "code");
    q.add("client_id", &config.client_id);
    q.add("redirect_uri", &pending.redirect_uri);
    if !scopes.is_empty() {
        q.add("scope", &scopes.join(" "));
    }
    q.add("state", pending.state.expose());
    q.add("nonce", pending.nonce.expose());
    q.add("code_challenge", pending.pkce.challenge());
    q.add("code_challenge_method", "S256");
    for (k, v) in &options.extra {
        q.add(k, v);
    }
    Ok(AuthorizationRequest {
        redirect: Redirect {
            endpoint: endpoint.to_string(),
            params: q,
        },
        pending,
    })
}

/// The error for a pending login finished a second time: a login is spent by its first
/// callback, whatever the outcome (a forged callback included), so only a new login helps.
pub fn spent_login() -> Error {
    Error::LoginRequired(
        "this login was already finished by an earlier callback (a login is good for one callback, whatever its outcome); start a new login".into(),
    )
}

/// Checks a callback (a full URL, or just its query string) against the pending login:
/// `state` first (constant time), then `iss` (RFC 9207), then an `error=` answer, then the code.
pub fn parse_callback(pending: &PendingLogin, callback: &str) -> Result<AuthorizationCode> {
    let query = match callback.split_once('?') {
        Some((_, q)) => Some(q),
        None if callback.contains('=') => Some(callback),
        None => None,
    };
    let query = query.map(|q| q.split('#').next().unwrap_or(""));
    check_callback(pending, query.map(|q| form_urlencoded::parse(q.as_bytes())))
}

/// [`parse_callback`] on a query string the platform already decoded (the browser's
/// `URLSearchParams`): every parameter in order, repeats included; `None` when the URL has no
/// query string at all.
pub fn check_callback<K, V>(
    pending: &PendingLogin,
    params: Option<impl IntoIterator<Item = (K, V)>>,
) -> Result<AuthorizationCode>
where
    K: AsRef<str>,
    V: Into<String>,
{
    let Some(params) = params else {
        return Err(Error::config(
            "the callback URL has no query string; pass the full URL the browser was redirected to",
        ));
    };
    let mut state = None;
    let mut iss = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    let mut uri = None;
    for (k, v) in params {
        let k = k.as_ref();
        let slot = match k {
            "state" => &mut state,
            "iss" => &mut iss,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            "error_uri" => &mut uri,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::config(text!(
                "the callback repeats the `",
                k,
                "` parameter; it may be forged"
            )));
        }
        *slot = Some(v.into());
    }
    let state = Secret::new(state.unwrap_or_default());
    let expected = pending.state.expose().as_bytes();
    if !bool::from(state.expose().as_bytes().ct_eq(expected)) {
        return Err(Error::StateMismatch);
    }
    match (&pending.issuer, iss) {
        (Some(expected), Some(found)) if *expected != found => {
            return Err(Error::IssuerMismatch {
                expected: expected.clone(),
                found,
            })
        }
        (Some(expected), None) if pending.iss_required => {
            return Err(Error::IssuerMismatch {
                expected: expected.clone(),
                found: String::new(),
            })
        }
        _ => {}
    }
    if let Some(error) = error {
        return Err(Error::OAuth {
            error,
            error_description: description,
            error_uri: uri,
            status: None,
        });
    }
    match code {
        Some(c) if !c.is_empty() => Ok(AuthorizationCode {
            code: Secret::new(c),
        }),
        _ => Err(Error::invalid(
            "the callback has neither `code` nor `error`",
        )),
    }
}

/// OIDC Core §3.1.3.7: the ID token's `nonce` must be the one this login sent. The runtime
/// verified the ID token's signature and other claims when the answer arrived
/// ([`crate::verify`]); this is the login's own part.
pub fn check_id_token_nonce(pending: &PendingLogin, token: &crate::token::Token) -> Result<()> {
    let Some(id_token) = token.id_token() else {
        return Ok(());
    };
    let claims = match token.id_token_claims() {
        Some(verified) => verified.clone(),
        None => crate::jwt::Claims::decode_unverified(id_token.expose())?,
    };
    check_nonce(pending, token.fields(), claims.str("nonce"))
}

/// [`check_id_token_nonce`] for callers that decode the ID token themselves (the browser):
/// `found` is the `nonce` claim of `token`'s ID token. Without an ID token there is nothing to
/// check.
pub fn check_nonce(
    pending: &PendingLogin,
    token: &crate::token::TokenFields,
    found: Option<&str>,
) -> Result<()> {
    if token.id_token.is_none() {
        return Ok(());
    }
    crate::verify::check_nonce(found, pending.nonce.expose())
}

impl PendingLogin {
    /// Serializes for storage between the redirect and the callback (it holds the verifier:
    /// store it where only this user's session can read it).
    pub fn to_json(&self) -> Secret {
        Secret::new(
            json!({
                "state": self.state.expose(),
                "nonce": self.nonce.expose(),
                "code_verifier": self.pkce.verifier().expose(),
                "redirect_uri": self.redirect_uri,
                "issuer": self.issuer,
                "iss_required": self.iss_required,
            })
            .to_string(),
        )
    }

    pub fn from_json(text: &str) -> Result<PendingLogin> {
        let mut obj =
            serde_json::from_str::<serde_json::Map<String, Value>>(text).map_err(|_| {
                Error::config("the stored login state is not a JSON object; start a new login")
            })?;
        PendingLogin::from_fields(&mut obj)
    }

    /// Restores a pending login from the fields [`PendingLogin::to_json`] wrote, parsed by any
    /// JSON parser (the browser keeps it in storage and reads it with `JSON.parse`).
    pub fn from_fields(obj: &mut dyn Fields) -> Result<PendingLogin> {
        let mut field = |k: &str| -> Result<String> {
            obj.take(k).into_str().ok_or_else(|| {
                Error::config(text!(
                    "the stored login state has no `",
                    k,
                    "`; start a new login"
                ))
            })
        };
        let state = Secret::new(field("state")?);
        let nonce = Secret::new(field("nonce")?);
        let pkce = Pkce::from_verifier(&field("code_verifier")?)?;
        let redirect_uri = field("redirect_uri")?;
        Ok(PendingLogin {
            state,
            nonce,
            pkce,
            redirect_uri,
            issuer: obj.take("issuer").into_str(),
            iss_required: obj.take("iss_required") == Field::Bool(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl RandomSource for Counter {
        fn fill(&self, dest: &mut [u8]) -> Result<()> {
            dest.fill(self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
            Ok(())
        }
    }

    fn login() -> AuthorizationRequest {
        let p = Provider::keycloak("https://auth.test.ecocoa.ch", "vion").unwrap();
        let c = ClientConfig::new("vion-spa")
            .scope("openid user_impersonation")
            .redirect_uri("http://127.0.0.1:8765/callback");
        let opts = LoginOptions {
            extra: vec![("prompt".into(), "login".into())],
            ..Default::default()
        };
        authorization_request(&p, &c, &opts, &Counter(Default::default())).unwrap()
    }

    #[test]
    fn url_carries_pkce_s256_state_nonce_and_scope() {
        let r = login();
        let url = r.url();
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(
            base,
            "https://auth.test.ecocoa.ch/realms/vion/protocol/openid-connect/auth"
        );
        let q: std::collections::HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "vion-spa");
        assert_eq!(q["scope"], "openid user_impersonation");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], r.pending.pkce.challenge());
        assert_eq!(q["state"], r.pending.state.expose());
        assert_eq!(q["nonce"], r.pending.nonce.expose());
        assert_eq!(q["prompt"], "login");
        assert_ne!(r.pending.state.expose(), r.pending.nonce.expose());
        assert!(!url.contains(r.pending.pkce.verifier().expose()));
    }

    #[test]
    fn good_callback_yields_the_code() {
        let r = login();
        let cb = format!(
            "http://127.0.0.1:8765/callback?state={}&session_state=x&iss=https%3A%2F%2Fauth.test.ecocoa.ch%2Frealms%2Fvion&code=abc",
            r.pending.state.expose()
        );
        assert_eq!(
            parse_callback(&r.pending, &cb).unwrap().code.expose(),
            "abc"
        );
    }

    #[test]
    fn decoded_callback_parameters_get_the_same_checks() {
        let r = login();
        let state = r.pending.state.expose().to_string();
        let good = [("state", state.as_str()), ("code", "abc")];
        assert_eq!(
            check_callback(&r.pending, Some(good))
                .unwrap()
                .code
                .expose(),
            "abc"
        );
        let repeated = [("state", state.as_str()), ("code", "a"), ("code", "b")];
        assert!(check_callback(&r.pending, Some(repeated))
            .unwrap_err()
            .to_string()
            .contains("repeats the `code`"));
        let none: Option<[(&str, &str); 0]> = None;
        assert_eq!(
            check_callback(&r.pending, none).unwrap_err().code(),
            crate::ErrorCode::Config
        );
    }

    #[test]
    fn pending_login_round_trips_through_json() {
        let r = login();
        let back = PendingLogin::from_json(r.pending.to_json().expose()).unwrap();
        assert_eq!(back.state, r.pending.state);
        assert_eq!(back.pkce.challenge(), r.pending.pkce.challenge());
        assert_eq!(back.redirect_uri, r.pending.redirect_uri);
        assert!(PendingLogin::from_json("{}").is_err());
        assert!(!format!("{:?}", r.pending).contains(r.pending.pkce.verifier().expose()));
    }

    #[test]
    fn reserved_extras_and_missing_redirect_are_config_errors() {
        let p = Provider::keycloak("https://a.example", "r").unwrap();
        let c = ClientConfig::new("x");
        assert!(authorization_request(
            &p,
            &c,
            &LoginOptions::default(),
            &Counter(Default::default())
        )
        .is_err());
        let opts = LoginOptions {
            redirect_uri: Some("http://127.0.0.1/cb".into()),
            extra: vec![("state".into(), "mine".into())],
            ..Default::default()
        };
        assert!(authorization_request(&p, &c, &opts, &Counter(Default::default())).is_err());
    }
}
