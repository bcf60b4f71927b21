//! tokenward for the browser: a thin translation layer between the sans-IO core and the JS
//! glue in `js/index.js`, which owns the browser's I/O (`fetch`, storage, redirects, locks) and
//! its JSON parser.
//!
//! Every OAuth decision is the core's: PKCE, the authorization URL, the `state`/`iss`/`error=`
//! checks of the callback, the token request bodies, checking token responses and turning
//! error answers into typed errors, the nonce check, the early-refresh deadlines. This crate
//! only converts arguments and results. JSON is parsed by `JSON.parse` and handed to the core
//! flattened ([`Flat`]), so no JSON parser ships in the module (see wasm/SIZE.md for what each
//! choice costs).
//!
//! # The boundary (internal, not the package's public API)
//!
//! The module has one export, [`tw`]: an operation number ([`op`]), its string arguments joined
//! by U+0002 and up to five numbers, so the generated glue is one small function. It returns
//! one string of fields separated by U+0001: the first field is empty on
//! success, followed by the results; on failure it is the core's stable error code name
//! (`ErrorCode::as_str`), followed by the message, the OAuth `error`, its description, the
//! HTTP status and `1` when the error means the refresh token is dead
//! (`Error::refuses_refresh_token`). One string each way keeps the generated glue and the module
//! small (wasm/SIZE.md).

#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]
// `unsafe` lives in one module, `arena` (the allocator), which says why.
#![deny(unsafe_code)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use tokenward::authorize::{authorization_request, check_nonce, parse_callback};
use tokenward::fields::{Field, Fields};
use tokenward::grant;
use tokenward::http::parse_retry_after;
use tokenward::jwt::JwtTimes;
use tokenward::lifetime::{refresh_token_deadline, usable_lifetime};
use tokenward::pkce::random_string;
use tokenward::policy::{refresh_token_alive, retry_delay};
use tokenward::text::decimal;
use tokenward::token::check_token_answer;
use tokenward::{
    ClientConfig, Error, HttpRequest, LoginOptions, PendingLogin, Pkce, Provider, RandomSource,
    RefreshPolicy, Result, Secret,
};
use wasm_bindgen::prelude::*;

pub mod arena;

/// The module's allocator (see [`arena`]).
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
pub static ARENA: arena::Arena = arena::Arena::new();

/// Without std there is no panic machinery (and none of its formatting code, a third of the
/// module): a panic, which the code is written never to reach, traps. The JS glue then throws
/// a `RuntimeError`. (Built with the `std` feature, as the wasm-bindgen tests are, std's own
/// handler is used.)
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

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

/// An object `JSON.parse` made, as the glue flattens it for the core's checks (`flat` in
/// js/index.js): `o`, then for each key `SEP key SEP value`, the value tagged `s` (string),
/// `n` (number, truncated to an integer and clamped to [-1, 2^53]), `b1`/`b0` (boolean), `x`
/// (array or object) or empty (`null`). Anything that is not an object is the empty string.
///
/// Plain strings rather than JS objects across the boundary: no externref table, no
/// `Reflect.get` import, no float parsing in the module.
pub struct Flat<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Flat<'a> {
    /// `None` when the glue said "not an object".
    pub fn parse(flat: &'a str) -> Option<Flat<'a>> {
        let rest = flat.strip_prefix('o')?;
        let mut parts = rest.split(SEP).skip(1);
        let mut fields = Vec::new();
        while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
            fields.push((k, v));
        }
        Some(Flat(fields))
    }
}

impl Fields for Flat<'_> {
    fn take(&mut self, name: &str) -> Field {
        let Some(i) = self.0.iter().position(|(k, _)| *k == name) else {
            return Field::Missing;
        };
        let (_, v) = self.0.swap_remove(i);
        match v.as_bytes().first() {
            None => Field::Missing,
            Some(b's') => Field::Str(v[1..].to_string()),
            Some(b'n') => v[1..]
                .parse::<i64>()
                .map_or(Field::Other, |n| Field::Num(n as f64)),
            Some(b'b') => Field::Bool(v == "b1"),
            Some(_) => Field::Other,
        }
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
            let status = e.http_status().unwrap_or(0);
            out.push_str(e.code().as_str());
            for f in [
                e.message().as_str(),
                e.oauth_error().unwrap_or(""),
                e.oauth_description().unwrap_or(""),
                decimal(status.into()).as_str(),
                if e.refuses_refresh_token() { "1" } else { "" },
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

/// Milliseconds on the wall clock as the core's monotonic reading. The browser has no
/// monotonic clock that survives a page load, and tokens are kept across reloads in storage.
fn at(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0) as u64)
}

fn ms(d: Duration) -> String {
    decimal(d.as_millis() as u64)
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
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

/// The authorization URL and the pending login's fields, in the order and under the names of
/// `PendingLogin::to_json`: `[url, state, nonce, code_verifier, redirect_uri, issuer,
/// iss_required ("1" or "")]`. The glue stores them as that JSON object.
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
        extra: form_urlencoded::parse(extra_query.as_bytes())
            .into_owned()
            .collect(),
        ..LoginOptions::default()
    };
    let req = authorization_request(&provider, &config, &options, rng)?;
    let p = req.pending;
    Ok(vec![
        req.url,
        p.state.expose().to_string(),
        p.nonce.expose().to_string(),
        p.pkce.verifier().expose().to_string(),
        p.redirect_uri,
        p.issuer.unwrap_or_default(),
        if p.iss_required { "1" } else { "" }.to_string(),
    ])
}

/// The pending login this tab stored (flattened), or `LoginRequired` when there is none.
fn pending_login(stored: &str) -> Result<PendingLogin> {
    let Some(mut stored) = Flat::parse(stored) else {
        // No login was started in this tab (or its callback was already handled): there is
        // no verifier to finish it with, whatever the callback says.
        return Err(Error::LoginRequired(
            "this tab has no pending login to finish (it was started in another tab or session, or this callback was already handled); call login() again".into(),
        ));
    };
    PendingLogin::from_fields(&mut stored)
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
    let pending = pending_login(pending)?;
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

/// The refresh request, or `LoginRequired` when there is no refresh token or it is past its
/// own deadline (`rt_deadline_ms`, 0: none).
pub fn refresh(
    url: &str,
    realm: &str,
    client_id: &str,
    refresh_token: &str,
    rt_deadline_ms: f64,
    now_ms: f64,
) -> Result<Vec<String>> {
    let deadline = (rt_deadline_ms > 0.0).then(|| at(rt_deadline_ms));
    if refresh_token.is_empty() || !refresh_token_alive(deadline, at(now_ms)) {
        return Err(Error::LoginRequired(
            "there is no usable refresh token (none was issued, it expired or the server refused it); call login()".into(),
        ));
    }
    let provider = provider(url, realm)?;
    let config = ClientConfig::new(client_id);
    let rt = Secret::new(refresh_token);
    Ok(request_fields(grant::refresh_token(
        &provider, &config, &rt, None,
    )?))
}

/// What the token endpoint answered, with the glue's readings of it.
pub struct Answer<'a> {
    pub status: u16,
    /// The body parsed by `JSON.parse`, flattened ([`Flat`]; empty when it is not an object).
    pub json: &'a str,
    /// The body as text (for the excerpt of an error page).
    pub body: &'a str,
    /// The `Retry-After` header, `""` when absent.
    pub retry_after: &'a str,
    /// When the request was sent (ms since the epoch).
    pub sent_ms: f64,
    /// The payloads of the access and ID tokens, decoded and flattened by the glue (empty:
    /// not a JWT).
    pub access_claims: &'a str,
    pub id_claims: &'a str,
}

/// What the new token continues: the pending login after a code exchange (its nonce is
/// checked), or the previous refresh token after a refresh (kept when the server sends none).
pub enum Previous<'a> {
    Login(&'a str),
    Refresh { token: &'a str, deadline_ms: f64 },
}

/// Checks a token endpoint answer. Returns `[access token, refresh token, ID token, refresh at,
/// expires at, refresh token deadline]`, the times in ms since the epoch (deadline `0`: none).
pub fn token(a: Answer<'_>, previous: Previous<'_>, policy: RefreshPolicy) -> Result<Vec<String>> {
    let retry = parse_retry_after(a.retry_after);
    let mut json = Flat::parse(a.json);
    let json = json.as_mut().map(|j| j as &mut dyn Fields);
    let mut t = check_token_answer(a.status, json, a.body.as_bytes(), retry)?;
    let sent = at(a.sent_ms);
    match previous {
        Previous::Login(pending) => {
            let nonce = Flat::parse(a.id_claims).and_then(|mut c| c.take("nonce").into_str());
            check_nonce(&pending_login(pending)?, &t, nonce.as_deref())?;
        }
        Previous::Refresh { token, deadline_ms } if !token.is_empty() => {
            let deadline = (deadline_ms > 0.0).then(|| at(deadline_ms));
            t.inherit_refresh_token(&Secret::new(token), deadline, sent);
        }
        Previous::Refresh { .. } => {}
    }
    let rt_deadline = refresh_token_deadline(sent, t.refresh_expires_in);
    let times = Flat::parse(a.access_claims)
        .map(|mut c| JwtTimes::from_fields(&mut c))
        .unwrap_or_default();
    let lifetime = usable_lifetime(t.expires_in, times, sent.as_secs());
    let d = policy.deadlines(sent, lifetime, Duration::ZERO);
    Ok(vec![
        t.access_token.expose().to_string(),
        t.refresh_token
            .map(|s| s.expose().to_string())
            .unwrap_or_default(),
        t.id_token
            .map(|s| s.expose().to_string())
            .unwrap_or_default(),
        ms(d.refresh_at),
        ms(d.expires_at),
        rt_deadline.map_or_else(|| "0".to_string(), ms),
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
    let hint = opt(id_token).map(Secret::new);
    Ok(vec![tokenward::session::end_session_url(
        &provider,
        &config,
        hint.as_ref(),
        opt(post_logout_redirect_uri),
        opt(state),
    )?])
}

/// How a request failed without an answer the core could read.
pub const NO_ANSWER: u8 = 0;
pub const TIMED_OUT: u8 = 1;
pub const TOO_LARGE: u8 = 2;

/// The core's error for a request that failed in the glue: `Transport` with the browser's
/// reason, `Timeout` after `limit` ms, or a body over the `limit`-byte cap.
pub fn failure(kind: u8, limit: f64, reason: &str) -> Error {
    match kind {
        TIMED_OUT => Error::Timeout(at(limit)),
        TOO_LARGE => Error::response_too_large(limit.max(0.0) as u64),
        _ => Error::Transport(reason.to_string()),
    }
}

/// The refresh policy from the client's options (negative: the core's default).
fn policy(fraction: f64, max_margin_ms: f64) -> RefreshPolicy {
    let mut p = RefreshPolicy::default();
    if fraction >= 0.0 {
        p.fraction = fraction;
    }
    if max_margin_ms >= 0.0 {
        p.max_margin = at(max_margin_ms);
    }
    p
}

// ---- the one export ----

/// Separator of the string arguments of [`tw`] (the glue replaces it inside them with U+FFFD;
/// flattened objects inside an argument use [`SEP`]).
pub const ARG: char = '\u{2}';

/// What [`tw`] runs. Numbers, not names: they are all the glue needs to say.
pub mod op {
    /// `[]` -> `[random string]`.
    pub const RANDOM: u32 = 0;
    /// `[]` -> `[verifier, challenge]`.
    pub const PKCE: u32 = 1;
    /// `[verifier]` -> `[challenge]`.
    pub const CHALLENGE: u32 = 2;
    /// `[url, realm, client id, redirect URI, scope, extra query]` -> see [`super::login`].
    pub const LOGIN: u32 = 3;
    /// `[url, realm, client id, pending login (flat), callback URL]` -> the request.
    pub const EXCHANGE: u32 = 4;
    /// `[url, realm, client id, refresh token]`, `n = [deadline, now]` -> the request.
    pub const REFRESH: u32 = 5;
    /// `[json (flat), body, Retry-After, access claims (flat), ID claims (flat), pending login
    /// (flat)]`, `n = [status, sent, -, fraction, max margin]`: the answer to a code exchange.
    pub const TOKEN_AFTER_LOGIN: u32 = 6;
    /// As [`TOKEN_AFTER_LOGIN`] with the previous refresh token instead of the pending login
    /// and `n[2]` its deadline: the answer to a refresh.
    pub const TOKEN_AFTER_REFRESH: u32 = 7;
    /// `[url, realm, client id, ID token, post-logout redirect URI, state]` -> `[url]`.
    pub const LOGOUT: u32 = 8;
    /// `[Retry-After]`, `n = [failures]` -> `[ms to wait]`.
    pub const BACKOFF: u32 = 9;
    /// `[reason]`, `n = [kind, limit]` -> always an error ([`super::failure`]).
    pub const FAILURE: u32 = 10;
}

/// The module's only export, so the generated glue passes one string per call: runs `op`
/// on the [`ARG`]-separated `args` and the numbers `n0..n4` (missing arguments read as empty,
/// missing numbers as NaN) and returns the encoded result (see the crate docs).
#[wasm_bindgen]
pub fn tw(op: u32, args: &str, n0: f64, n1: f64, n2: f64, n3: f64, n4: f64) -> String {
    let args: Vec<&str> = args.split(ARG).collect();
    let a = |i: usize| args.get(i).copied().unwrap_or("");
    let result = match op {
        op::RANDOM => random(&WebCrypto),
        op::PKCE => pkce(&WebCrypto),
        op::CHALLENGE => challenge(a(0)),
        op::LOGIN => login(&WebCrypto, a(0), a(1), a(2), a(3), a(4), a(5)),
        op::EXCHANGE => exchange(a(0), a(1), a(2), a(3), a(4)),
        op::REFRESH => refresh(a(0), a(1), a(2), a(3), n0, n1),
        op::TOKEN_AFTER_LOGIN | op::TOKEN_AFTER_REFRESH => {
            let answer = Answer {
                status: n0 as u16,
                json: a(0),
                body: a(1),
                retry_after: a(2),
                sent_ms: n1,
                access_claims: a(3),
                id_claims: a(4),
            };
            let previous = if op == op::TOKEN_AFTER_LOGIN {
                Previous::Login(a(5))
            } else {
                Previous::Refresh {
                    token: a(5),
                    deadline_ms: n2,
                }
            };
            token(answer, previous, policy(n3, n4))
        }
        op::LOGOUT => logout(a(0), a(1), a(2), a(3), a(4), a(5)),
        op::BACKOFF => Ok(vec![ms(retry_delay(n0 as u32, parse_retry_after(a(0))))]),
        op::FAILURE => Err(failure(n0 as u8, n1, a(0))),
        _ => Err(Error::Config(
            "unknown operation; the glue and the module are from different builds".into(),
        )),
    };
    encode(result)
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
        assert_eq!(&f[2..], ["", "", "0", ""]);
        let e = encode(Err(Error::OAuth {
            error: "invalid_grant".into(),
            error_description: Some("Code not valid".into()),
            error_uri: None,
            status: Some(400),
        }));
        assert_eq!(
            &fields(&e)[2..],
            ["invalid_grant", "Code not valid", "400", "1"]
        );
    }

    #[test]
    fn login_returns_the_url_and_the_pending_login_fields() {
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
        assert!(r[0].contains(&format!("state={}", r[1])));
        assert_eq!(r[4], "http://127.0.0.1:8765/callback");
        assert_eq!(r[5], "http://127.0.0.1:9/realms/vion");
        assert_eq!(r[6], "", "Keycloak without discovery does not promise iss");
        let e = login(
            &rng,
            KC,
            "vion",
            "vion-spa",
            "http://app.example/cb",
            "openid",
            "",
        )
        .unwrap_err();
        assert_eq!(e.code(), tokenward::ErrorCode::InsecureUrl);
    }

    #[test]
    fn refresh_needs_a_live_refresh_token() {
        let req = refresh(KC, "vion", "vion-spa", "rt", 2_000.0, 1_000.0).unwrap();
        assert_eq!(
            req[0],
            "http://127.0.0.1:9/realms/vion/protocol/openid-connect/token"
        );
        assert!(req[1].contains("grant_type=refresh_token&refresh_token=rt"));
        for (rt, deadline, now) in [("", 0.0, 0.0), ("rt", 2_000.0, 2_000.0)] {
            let e = refresh(KC, "vion", "vion-spa", rt, deadline, now).unwrap_err();
            assert_eq!(e.code(), tokenward::ErrorCode::LoginRequired);
        }
        assert!(
            refresh(KC, "vion", "vion-spa", "rt", 0.0, 9e12).is_ok(),
            "no deadline"
        );
    }

    #[test]
    fn failures_in_the_glue_are_core_errors() {
        let t = failure(TIMED_OUT, 2_500.0, "");
        assert_eq!(t.code(), tokenward::ErrorCode::Timeout);
        assert!(t.to_string().contains("within 2.5 s"), "{t}");
        let big = failure(TOO_LARGE, 1_048_576.0, "");
        assert!(big.to_string().contains("1048576 byte limit"), "{big}");
        let net = failure(NO_ANSWER, 0.0, "http://127.0.0.1:9: Failed to fetch");
        assert_eq!(net.code(), tokenward::ErrorCode::Transport);
    }

    #[test]
    fn flattened_objects_read_as_fields() {
        let mut f = Flat::parse(
            "o\u{1}a\u{1}sx\u{1}n\u{1}n300\u{1}neg\u{1}n-1\u{1}b\u{1}b1\u{1}z\u{1}\u{1}o\u{1}x",
        )
        .unwrap();
        assert_eq!(f.take("a"), Field::Str("x".into()));
        assert_eq!(f.take("a"), Field::Missing, "taken once");
        assert_eq!(f.take("n").seconds("n"), Ok(Some(300)));
        assert!(f.take("neg").seconds("neg").is_err());
        assert_eq!(f.take("b"), Field::Bool(true));
        assert_eq!(f.take("z"), Field::Missing);
        assert_eq!(f.take("o"), Field::Other);
        assert_eq!(f.take("absent"), Field::Missing);
        assert!(Flat::parse("").is_none());
        assert!(Flat::parse("o").unwrap().take("x") == Field::Missing);
        assert_eq!(
            pending_login("").unwrap_err().code(),
            tokenward::ErrorCode::LoginRequired
        );
        let e = pending_login("o\u{1}state\u{1}ss").unwrap_err();
        assert!(e.to_string().contains("has no `nonce`"), "{e}");
    }

    #[test]
    fn backoff_is_the_cores() {
        let wait =
            |failures, retry_after| tw(op::BACKOFF, retry_after, failures, 0.0, 0.0, 0.0, 0.0);
        assert_eq!(wait(1.0, ""), "\u{1}250");
        assert_eq!(wait(3.0, " 7 "), "\u{1}7000");
        assert_eq!(wait(9.0, "soon"), "\u{1}10000");
    }

    #[test]
    fn one_export_runs_every_operation() {
        // RFC 7636 appendix B (the random operations need the browser's crypto: tests/web.rs).
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = fields_owned(tw(op::CHALLENGE, verifier, 0.0, 0.0, 0.0, 0.0, 0.0));
        assert_eq!(c, ["", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"]);
        let args = ["http://127.0.0.1:9", "vion", "vion-spa", "rt"].join("\u{2}");
        let req = fields_owned(tw(op::REFRESH, &args, 0.0, 1.0, 0.0, 0.0, 0.0));
        assert!(
            req[1].ends_with("/realms/vion/protocol/openid-connect/token"),
            "{req:?}"
        );
        let fail = fields_owned(tw(op::FAILURE, "reset", 1.0, 2_500.0, 0.0, 0.0, 0.0));
        assert_eq!(fail[0], "timeout");
        let unknown = fields_owned(tw(99, "", 0.0, 0.0, 0.0, 0.0, 0.0));
        assert_eq!(unknown[0], "config");
        let short = fields_owned(tw(op::LOGOUT, "", f64::NAN, 0.0, 0.0, 0.0, 0.0));
        assert_eq!(
            short[0], "config",
            "missing arguments are empty, not a trap"
        );
    }

    fn fields_owned(s: String) -> Vec<String> {
        s.split(SEP).map(str::to_string).collect()
    }

    #[test]
    fn logout_url_has_the_hint() {
        let u = logout(KC, "vion", "vion-spa", "idt", "http://127.0.0.1:8765/", "").unwrap();
        assert_eq!(u[0], "http://127.0.0.1:9/realms/vion/protocol/openid-connect/logout?client_id=vion-spa&id_token_hint=idt&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2F");
    }
}
