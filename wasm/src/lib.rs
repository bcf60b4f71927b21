//! tokenward for the browser: a thin translation layer between the sans-IO core and the JS
//! glue in `js/index.js`, which owns the browser's I/O (`fetch`, storage, redirects, locks).
//!
//! Every OAuth decision is the core's: PKCE, the authorization URL, the `state`/`iss`/`error=`
//! checks of the callback, the token request bodies, parsing token responses and the
//! early-refresh policy. This crate only converts arguments and results.
//!
//! # The boundary (internal, not the package's public API)
//!
//! Each export returns one string of fields separated by U+0001: the first field is empty on
//! success, followed by the results; on failure it is the core's stable error code name
//! (`ErrorCode::as_str`), followed by the message, the OAuth `error`, its description and the
//! HTTP status. One string per call keeps the generated glue and the module small (a result
//! class or a JS array per call costs more; see /work/shared/WASM-SIZE.md).

use std::time::Duration;

use tokenward::authorize::{authorization_request, check_id_token_nonce, parse_callback};
use tokenward::grant;
use tokenward::pkce::random_string;
use tokenward::token::parse_token_response;
use tokenward::{
    ClientConfig, Error, HttpRequest, HttpResponse, LoginOptions, PendingLogin, Pkce, Provider,
    RandomSource, RefreshPolicy, Result, Secret, SentAt, Token,
};
use wasm_bindgen::prelude::*;

/// Field separator of the boundary encoding.
pub const SEP: char = '\u{1}';

#[wasm_bindgen]
extern "C" {
    /// `crypto.getRandomValues`: the browser's CSPRNG (also in node 20+).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// The browser's CSPRNG as the core's randomness seam.
pub struct WebCrypto;

impl RandomSource for WebCrypto {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        get_random_values(dest);
        Ok(())
    }
}

/// Encodes a result for the boundary (see the crate docs).
pub fn encode(result: Result<Vec<String>>) -> String {
    let mut out = String::new();
    match result {
        Ok(fields) => {
            for f in fields {
                out.push(SEP);
                out.push_str(&f);
            }
        }
        Err(e) => {
            let status = match &e {
                Error::OAuth { status, .. } => status.unwrap_or(0),
                Error::Http { status, .. } | Error::Api { status, .. } => *status,
                _ => 0,
            };
            out.push_str(e.code().as_str());
            for f in [
                e.to_string().as_str(),
                e.oauth_error().unwrap_or(""),
                e.oauth_description().unwrap_or(""),
                status.to_string().as_str(),
            ] {
                out.push(SEP);
                out.push_str(f);
            }
        }
    }
    out
}

/// The provider: a Keycloak base URL and realm, or (realm empty) a realm issuer URL.
pub fn provider(url: &str, realm: &str) -> Result<Provider> {
    if realm.is_empty() {
        Provider::keycloak_issuer(url)
    } else {
        Provider::keycloak(url, realm)
    }
}

fn request_fields(req: HttpRequest) -> Vec<String> {
    let mut out = vec![
        req.url,
        req.body.map(|b| b.expose().to_string()).unwrap_or_default(),
    ];
    for (k, v) in req.headers {
        out.push(k);
        out.push(v);
    }
    out
}

fn sent_at(ms: f64) -> SentAt {
    // The browser has no monotonic clock that survives a page load, so the wall clock anchors
    // both readings (tokens are kept across reloads in storage).
    let d = Duration::from_millis(ms.max(0.0) as u64);
    SentAt {
        monotonic: d,
        unix: d.as_secs(),
    }
}

fn ms(d: Duration) -> String {
    // u64, not `as_millis()`'s u128: its formatting code is larger.
    (d.as_millis() as u64).to_string()
}

/// A random 43-character base64url string (256 bits): a PKCE verifier, a `state` or a `nonce`.
pub fn random(rng: &dyn RandomSource) -> Result<Vec<String>> {
    Ok(vec![random_string(rng)?.expose().to_string()])
}

/// A fresh PKCE pair: `[verifier, challenge]` in one call.
pub fn pkce(rng: &dyn RandomSource) -> Result<Vec<String>> {
    let p = Pkce::generate(rng)?;
    Ok(vec![
        p.verifier().expose().to_string(),
        p.challenge().to_string(),
    ])
}

/// The S256 challenge of a verifier (checked against RFC 7636's alphabet and length).
pub fn challenge(verifier: &str) -> Result<Vec<String>> {
    Ok(vec![Pkce::from_verifier(verifier)?.challenge().to_string()])
}

/// The authorization URL and the pending login to keep until the callback.
pub fn login(
    rng: &dyn RandomSource,
    url: &str,
    realm: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra_query: &str,
) -> Result<Vec<String>> {
    let provider = provider(url, realm)?;
    let config = ClientConfig::new(client_id)
        .scope(scope)
        .redirect_uri(redirect_uri);
    let options = LoginOptions {
        extra: form_pairs(extra_query),
        ..LoginOptions::default()
    };
    let req = authorization_request(&provider, &config, &options, rng)?;
    Ok(vec![req.url, req.pending.to_json().expose().to_string()])
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Checks a callback URL against the pending login (state, iss, `error=`) and builds the code
/// exchange request: `[url, body, header name, header value, ...]`.
pub fn exchange(
    url: &str,
    realm: &str,
    client_id: &str,
    pending: &str,
    callback: &str,
) -> Result<Vec<String>> {
    // No login was started in this tab (or it was already finished): whatever the callback
    // says, its `state` matches nothing we sent.
    if pending.is_empty() {
        return Err(Error::StateMismatch);
    }
    let pending = PendingLogin::from_json(pending)?;
    let code = parse_callback(&pending, callback)?;
    let provider = provider(url, realm)?;
    let config = ClientConfig::new(client_id);
    let req = grant::authorization_code(
        &provider,
        &config,
        code.code.expose(),
        &pending.redirect_uri,
        pending.pkce.verifier(),
    )?;
    Ok(request_fields(req))
}

/// Rebuilds a stored token: the response fields as the server sent them, and when it was sent.
fn stored_token(response_json: &str, sent_ms: f64) -> Result<Token> {
    let resp = HttpResponse::new(200, Vec::new(), response_json.as_bytes().to_vec());
    parse_token_response(&resp, sent_at(sent_ms))
}

/// The refresh request for a stored token, or `LoginRequired` when it has no usable refresh
/// token.
pub fn refresh(
    url: &str,
    realm: &str,
    client_id: &str,
    response_json: &str,
    sent_ms: f64,
    now_ms: f64,
) -> Result<Vec<String>> {
    let login_required = || {
        Error::LoginRequired(
            "there is no usable refresh token (none was issued, it expired or the server refused it); call login()".into(),
        )
    };
    if response_json.is_empty() {
        return Err(Error::LoginRequired(
            "no token is stored; call login() first".into(),
        ));
    }
    let token = stored_token(response_json, sent_ms)?;
    let rt = token.refresh_token().ok_or_else(login_required)?;
    if token
        .refresh_expires_at()
        .is_some_and(|at| sent_at(now_ms).monotonic >= at)
    {
        return Err(login_required());
    }
    let provider = provider(url, realm)?;
    let config = ClientConfig::new(client_id);
    Ok(request_fields(grant::refresh_token(
        &provider, &config, rt, None,
    )?))
}

/// Parses a token endpoint response. `previous` is the pending login (after a code exchange:
/// the ID token's nonce is checked) or the stored token's response (after a refresh: its
/// refresh token carries over when the server sends none). Returns
/// `[response JSON, access token, refresh at (ms), expires at (ms)]`.
#[allow(clippy::too_many_arguments)]
pub fn token(
    status: u16,
    body: &str,
    sent_ms: f64,
    previous: &str,
    previous_sent_ms: f64,
    after_refresh: bool,
    fraction: f64,
    max_margin_ms: f64,
) -> Result<Vec<String>> {
    let resp = HttpResponse::new(status, Vec::new(), body.as_bytes().to_vec());
    let mut token = parse_token_response(&resp, sent_at(sent_ms))?;
    if after_refresh {
        if !previous.is_empty() {
            token.inherit_refresh_token(&stored_token(previous, previous_sent_ms)?);
        }
    } else {
        check_id_token_nonce(&PendingLogin::from_json(previous)?, &token)?;
    }
    let mut policy = RefreshPolicy::default();
    if fraction >= 0.0 {
        policy.fraction = fraction;
    }
    if max_margin_ms >= 0.0 {
        policy.max_margin = Duration::from_millis(max_margin_ms as u64);
    }
    let lifetime = token.lifetime().unwrap_or(policy.unknown_lifetime);
    let expires_at = token.sent_at().monotonic + lifetime;
    let refresh_at = expires_at.saturating_sub(policy.margin(lifetime));
    // `response_json` is the core's lossless form of a token: it is what gets stored.
    let json = serde_json::Value::Object(token.response_json()).to_string();
    Ok(vec![
        json,
        token.access_token().expose().to_string(),
        ms(refresh_at),
        ms(expires_at),
    ])
}

/// The logout (end-session) URL with `id_token_hint`.
pub fn logout(
    url: &str,
    realm: &str,
    client_id: &str,
    id_token: &str,
    post_logout_redirect_uri: &str,
    state: &str,
) -> Result<Vec<String>> {
    let provider = provider(url, realm)?;
    let config = ClientConfig::new(client_id);
    let hint = (!id_token.is_empty()).then(|| Secret::new(id_token));
    let redirect = (!post_logout_redirect_uri.is_empty()).then_some(post_logout_redirect_uri);
    let state = (!state.is_empty()).then_some(state);
    Ok(vec![grant::end_session_url(
        &provider,
        &config,
        hint.as_ref(),
        redirect,
        state,
    )?])
}

/// A JWT's claims as JSON, unverified (for display; the resource server verifies).
pub fn claims(jwt: &str) -> Result<Vec<String>> {
    Ok(vec![tokenward::Claims::decode_unverified(jwt)?.to_json()])
}

// ---- exports: names are short on purpose (they are the module's import/export strings) ----

#[wasm_bindgen]
pub fn rnd() -> String {
    encode(random(&WebCrypto))
}

#[wasm_bindgen]
pub fn pair() -> String {
    encode(pkce(&WebCrypto))
}

#[wasm_bindgen]
pub fn s256(verifier: &str) -> String {
    encode(challenge(verifier))
}

#[wasm_bindgen]
pub fn auth(
    url: &str,
    realm: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &str,
) -> String {
    encode(login(
        &WebCrypto,
        url,
        realm,
        client_id,
        redirect_uri,
        scope,
        extra,
    ))
}

#[wasm_bindgen]
pub fn code(url: &str, realm: &str, client_id: &str, pending: &str, callback: &str) -> String {
    encode(exchange(url, realm, client_id, pending, callback))
}

#[wasm_bindgen]
pub fn rt(
    url: &str,
    realm: &str,
    client_id: &str,
    response_json: &str,
    sent_ms: f64,
    now_ms: f64,
) -> String {
    encode(refresh(
        url,
        realm,
        client_id,
        response_json,
        sent_ms,
        now_ms,
    ))
}

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn tok(
    status: u16,
    body: &str,
    sent_ms: f64,
    previous: &str,
    previous_sent_ms: f64,
    after_refresh: bool,
    fraction: f64,
    max_margin_ms: f64,
) -> String {
    encode(token(
        status,
        body,
        sent_ms,
        previous,
        previous_sent_ms,
        after_refresh,
        fraction,
        max_margin_ms,
    ))
}

#[wasm_bindgen]
pub fn out(
    url: &str,
    realm: &str,
    client_id: &str,
    id_token: &str,
    post_logout_redirect_uri: &str,
    state: &str,
) -> String {
    encode(logout(
        url,
        realm,
        client_id,
        id_token,
        post_logout_redirect_uri,
        state,
    ))
}

#[wasm_bindgen]
pub fn jwt(token: &str) -> String {
    encode(claims(token))
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

    const KC: &str = "http://127.0.0.1:9";

    fn fields(s: &str) -> Vec<&str> {
        s.split(SEP).collect()
    }

    #[test]
    fn results_and_errors_are_encoded_for_the_glue() {
        assert_eq!(encode(Ok(vec!["a".into(), "b".into()])), "\u{1}a\u{1}b");
        let e = encode(challenge("short"));
        let f = fields(&e);
        assert_eq!(f[0], "config");
        assert!(f[1].contains("43 to 128"), "{e}");
        assert_eq!(&f[2..], ["", "", "0"]);
        let e = encode(Err(Error::OAuth {
            error: "invalid_grant".into(),
            error_description: Some("Code not valid".into()),
            error_uri: None,
            status: Some(400),
        }));
        assert_eq!(&fields(&e)[2..], ["invalid_grant", "Code not valid", "400"]);
    }

    #[test]
    fn login_then_callback_builds_the_code_exchange() {
        let rng = Counter(Default::default());
        let r = login(
            &rng,
            KC,
            "vion",
            "vion-spa",
            "http://127.0.0.1:8765/callback",
            "openid",
            "prompt=login&ui_locales=de+fr",
        )
        .unwrap();
        assert!(
            r[0].contains("prompt=login") && r[0].contains("ui_locales=de+fr"),
            "{}",
            r[0]
        );
        let pending = PendingLogin::from_json(&r[1]).unwrap();
        let cb = format!(
            "http://127.0.0.1:8765/callback?state={}&code=c0de",
            pending.state.expose()
        );
        let req = exchange(KC, "vion", "vion-spa", &r[1], &cb).unwrap();
        assert_eq!(
            req[0],
            "http://127.0.0.1:9/realms/vion/protocol/openid-connect/token"
        );
        assert!(req[1].contains("code=c0de") && req[1].contains(pending.pkce.verifier().expose()));
        assert_eq!(
            &req[2..4],
            ["Content-Type", "application/x-www-form-urlencoded"]
        );
        assert_eq!(
            exchange(KC, "vion", "vion-spa", "", &cb).unwrap_err(),
            Error::StateMismatch
        );
    }

    #[test]
    fn token_deadlines_follow_the_core_policy() {
        let body = r#"{"access_token":"opaque","expires_in":300,"refresh_token":"rt","refresh_expires_in":1800,"token_type":"Bearer"}"#;
        let t = token(200, body, 1_000_000.0, "", 0.0, true, -1.0, -1.0).unwrap();
        assert_eq!(t[1], "opaque");
        assert_eq!(t[3], "1300000");
        assert_eq!(t[2], "1270000", "a 300 s token renews at 270 s");
        // A refresh answer without a refresh token keeps the previous one.
        let next = token(
            200,
            r#"{"access_token":"b","expires_in":300}"#,
            2_000_000.0,
            &t[0],
            1_000_000.0,
            true,
            -1.0,
            -1.0,
        )
        .unwrap();
        assert!(next[0].contains(r#""refresh_token":"rt""#), "{}", next[0]);
        let req = refresh(KC, "vion", "vion-spa", &next[0], 2_000_000.0, 2_100_000.0).unwrap();
        assert!(req[1].contains("grant_type=refresh_token&refresh_token=rt"));
        // Past the refresh token's own deadline: a new login.
        let e = refresh(
            KC,
            "vion",
            "vion-spa",
            &t[0],
            1_000_000.0,
            1_000_000.0 + 1_800_000.0,
        )
        .unwrap_err();
        assert_eq!(e.code(), tokenward::ErrorCode::LoginRequired);
        assert_eq!(
            refresh(KC, "vion", "vion-spa", "", 0.0, 0.0)
                .unwrap_err()
                .code(),
            tokenward::ErrorCode::LoginRequired
        );
    }

    #[test]
    fn logout_url_has_the_hint() {
        let u = logout(KC, "vion", "vion-spa", "idt", "http://127.0.0.1:8765/", "").unwrap();
        assert_eq!(u[0], "http://127.0.0.1:9/realms/vion/protocol/openid-connect/logout?client_id=vion-spa&id_token_hint=idt&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F");
    }
}
