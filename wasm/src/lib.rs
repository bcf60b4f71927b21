//! tokenward for the browser: typed exports over the sans-IO core, one per step a browser
//! client takes, for the JS glue in `js/index.js`, which owns the browser's I/O (`fetch`,
//! storage, redirects, Web Locks) and its parsers (`JSON.parse`, `URL`, `URLSearchParams`).
//!
//! Every decision is the core's: the provider's endpoints (Keycloak realm, URL template or a
//! checked discovery document), PKCE, the authorization URL, the `state`/`iss`/`error=` checks
//! of the callback, the token requests, checking token answers and typing error answers, the
//! nonce check, the token's deadlines, and the renewal policy (`tokenward::cache::state`):
//! serve, renew in the background, wait, renew, fail with the last error, or ask for a login.
//! This crate only converts between JS values and the core's types.
//!
//! # The boundary
//!
//! - In: strings and numbers, and the objects `JSON.parse` and the platform made, read field
//!   by field through `Reflect.get` ([`Obj`], the core's [`Fields`]): no JSON parser in the
//!   module. Lists of pairs (`[...searchParams]`, `Object.entries`) come as arrays of `[k, v]`.
//! - Out: JSON text ([`Json`]) for the glue's `JSON.parse`. A failure is `{"thrown": error}`
//!   ([`done`]), the error being `{code, message, error, description, status, retryAfterMs,
//!   refusesRefreshToken}` ([`error`]); the glue throws it as a `TokenwardError`.
//! - State: the module keeps none between calls (its allocator relies on that, see [`arena`]).
//!   The provider, the pending login, the stored token and the renewal state live in the glue
//!   (memory or storage) as the objects these exports returned, and come back as arguments.
//! - Time: milliseconds on the wall clock (`Date.now()`), handed to the core as `Duration`s.
//!   Tokens in storage outlive the page, and `performance.now()` starts over with each page.

#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]
// `unsafe` lives in one module, `arena` (the allocator), which says why.
#![deny(unsafe_code)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use tokenward::authorize::{authorization_request, check_callback, check_nonce};
use tokenward::cache::keys::{keys_ttl, should_fetch, KeysState};
use tokenward::cache::state::{
    decide as decide_action, login_required, Action, AfterFailure, Entry, Grant, Renewals, Session,
    Timing,
};
use tokenward::fields::{Field, Fields};
use tokenward::grant;
use tokenward::http::parse_retry_after;
use tokenward::jws::{self, Jwk, KeySet};
use tokenward::jwt::JwtTimes;
use tokenward::lifetime::{refresh_token_deadline, usable_lifetime};
use tokenward::pkce::random_string;
use tokenward::text::decimal;
use tokenward::token::check_token_answer;
use tokenward::verify::{check_id_token, ClaimsView, Expect, IdTokenExpect, DEFAULT_LEEWAY};
use tokenward::{
    ClientConfig, Error, HttpRequest, LoginOptions, Params, PendingLogin, Pkce, Provider,
    RandomSource, Redirect, RefreshPolicy, Result, Secret, TokenCheck,
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

#[wasm_bindgen]
extern "C" {
    /// `crypto.getRandomValues`: the browser's CSPRNG (also in node 20+).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);

    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn reflect_get(target: &JsValue, key: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn reflect_index(target: &JsValue, index: u32) -> JsValue;
    #[wasm_bindgen(js_namespace = Array, js_name = isArray)]
    fn js_sys_is_array(v: &JsValue) -> bool;
}

/// The browser's CSPRNG as the core's randomness seam.
pub struct WebCrypto;

impl RandomSource for WebCrypto {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        get_random_values(dest);
        Ok(())
    }
}

// ---- JS values in ----

/// A JS object (anything else reads as an object without fields), read by the core's checks
/// one field at a time.
pub struct Obj(JsValue);

impl Obj {
    /// `None` when `v` is not an object (`JSON.parse` gave a string, a number, `null`...).
    pub fn new(v: JsValue) -> Option<Obj> {
        v.is_object().then_some(Obj(v))
    }

    fn get(&self, name: &str) -> JsValue {
        if self.0.is_object() {
            reflect_get(&self.0, name)
        } else {
            JsValue::UNDEFINED
        }
    }

    fn str(&self, name: &str) -> String {
        self.get(name).as_string().unwrap_or_default()
    }

    fn num(&self, name: &str) -> f64 {
        self.get(name).as_f64().unwrap_or(0.0)
    }
}

impl Fields for Obj {
    fn take(&mut self, name: &str) -> Field {
        let v = self.get(name);
        if let Some(s) = v.as_string() {
            Field::Str(s)
        } else if let Some(n) = v.as_f64() {
            Field::Num(n)
        } else if let Some(b) = v.as_bool() {
            Field::Bool(b)
        } else if v.is_object() {
            // An array or object (`null` is not one here).
            Field::Other
        } else {
            // `null` or absent: `JSON.parse` makes nothing else.
            Field::Missing
        }
    }

    fn holds(&mut self, name: &str, item: &str) -> Option<bool> {
        let list = self.get(name);
        js_sys_is_array(&list).then(|| items(&list).any(|v| v.as_string().as_deref() == Some(item)))
    }
}

/// The members of a JS array (or of any object with a `length`; nothing else has members).
fn items(v: &JsValue) -> impl Iterator<Item = JsValue> + '_ {
    let len = match v.is_object() {
        true => reflect_get(v, "length").as_f64().unwrap_or(0.0) as u32,
        false => 0,
    };
    (0..len).map(move |i| reflect_index(v, i))
}

/// An ID token's payload as `JSON.parse` made it, read by the core's claim checks.
impl ClaimsView for Obj {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).as_string().map(Cow::Owned)
    }

    fn date(&self, name: &str) -> Option<u64> {
        self.get(name)
            .as_f64()
            .filter(|f| *f >= 0.0)
            .map(|f| f as u64)
    }

    fn audience(&self) -> Vec<Cow<'_, str>> {
        let aud = self.get("aud");
        match aud.as_string() {
            Some(one) => alloc::vec![Cow::Owned(one)],
            None if js_sys_is_array(&aud) => items(&aud)
                .filter_map(|a| a.as_string())
                .map(Cow::Owned)
                .collect(),
            None => Vec::new(),
        }
    }
}

/// An array of `[key, value]` arrays (`[...url.searchParams]`, `Object.entries(o)`); `None`
/// when `v` is not an object. Non-string members read as empty strings.
fn pairs(v: &JsValue) -> Option<Vec<(String, String)>> {
    if !v.is_object() {
        return None;
    }
    let s = |p: &JsValue, i| reflect_index(p, i).as_string().unwrap_or_default();
    Some(items(v).map(|p| (s(&p, 0), s(&p, 1))).collect())
}

/// Milliseconds on the wall clock as the core's `Duration`.
fn at(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0) as u64)
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

// ---- results out ----

/// A result written as JSON text for the glue's `JSON.parse`: one string per call, instead of
/// a JS object built field by field from the module (wasm/SIZE.md has what that saved).
pub struct Json(String);

impl Json {
    pub fn new() -> Json {
        Json(String::from("{"))
    }

    fn key(mut self, k: &str) -> Json {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        quote(&mut self.0, k);
        self.0.push(':');
        self
    }

    pub fn str(self, k: &str, v: &str) -> Json {
        let mut j = self.key(k);
        quote(&mut j.0, v);
        j
    }

    /// The field only when there is a value.
    pub fn opt(self, k: &str, v: Option<&str>) -> Json {
        match v {
            Some(v) => self.str(k, v),
            None => self,
        }
    }

    /// A whole number (milliseconds, counts, statuses).
    pub fn num(self, k: &str, v: u64) -> Json {
        let mut j = self.key(k);
        j.0.push_str(&decimal(v));
        j
    }

    pub fn bool(self, k: &str, v: bool) -> Json {
        let mut j = self.key(k);
        j.0.push_str(if v { "true" } else { "false" });
        j
    }

    /// Name/value pairs as `[[name, value], ...]`, the list `URLSearchParams` takes.
    pub fn pairs(self, k: &str, params: &Params) -> Json {
        let mut j = self.key(k);
        j.0.push('[');
        for (i, (name, value)) in params.iter().enumerate() {
            if i > 0 {
                j.0.push(',');
            }
            j.0.push('[');
            quote(&mut j.0, name);
            j.0.push(',');
            quote(&mut j.0, value);
            j.0.push(']');
        }
        j.0.push(']');
        j
    }

    /// A nested object another `Json` wrote.
    pub fn obj(self, k: &str, v: String) -> Json {
        let mut j = self.key(k);
        j.0.push_str(&v);
        j
    }

    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

impl Default for Json {
    fn default() -> Self {
        Json::new()
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                for d in [c as u32 >> 4, c as u32 & 15] {
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The error a failure throws (as JSON text): the core's stable code name, its message, the
/// server's OAuth `error` and description, the HTTP status, the server's `Retry-After`, and
/// whether the error means the refresh token is dead (for [`failed`]).
pub fn error(e: Error) -> String {
    Json::new()
        .str("code", e.code().as_str())
        .str("message", &e.message())
        .opt("error", e.oauth_error())
        .opt("description", e.oauth_description())
        .num("status", e.http_status().unwrap_or(0).into())
        .num(
            "retryAfterMs",
            e.retry_after().map_or(0, |d| d.as_millis() as u64),
        )
        .bool("refusesRefreshToken", e.refuses_refresh_token())
        .end()
}

/// What an export returns: JSON text as a JS string, the result or, for a failure,
/// `{"thrown": error}`, which the glue throws. (Neither `Result<String, String>` nor `String`:
/// wasm-bindgen writes a shim for each such export on both sides of the boundary, to throw or
/// to copy and free; wasm/SIZE.md has the figures.)
pub fn done(r: Result<String>) -> JsValue {
    r.unwrap_or_else(|e| Json::new().obj("thrown", error(e)).end())
        .into()
}

/// A string result as JSON text.
fn string(s: &str) -> String {
    let mut out = String::new();
    quote(&mut out, s);
    out
}

fn ms_u(d: Duration) -> u64 {
    d.as_millis() as u64
}

// ---- PKCE ----

/// A random 43-character base64url string (256 bits): a PKCE verifier, a `state` or a `nonce`.
#[wasm_bindgen(js_name = randomString)]
pub fn random() -> JsValue {
    done(random_string(&WebCrypto).map(|r| string(r.expose())))
}

/// The S256 challenge of a verifier (checked against RFC 7636's alphabet and length).
#[wasm_bindgen(js_name = codeChallenge)]
pub fn code_challenge(verifier: &str) -> JsValue {
    done(Pkce::from_verifier(verifier).map(|p| string(p.challenge())))
}

// ---- the provider ----

/// The provider as the glue keeps it: the issuer and the endpoints the browser uses.
fn provider_out(p: Provider) -> String {
    Json::new()
        .opt("issuer", p.issuer.as_deref())
        .str("token_endpoint", &p.token_endpoint)
        .opt(
            "authorization_endpoint",
            p.authorization_endpoint.as_deref(),
        )
        .opt("end_session_endpoint", p.end_session_endpoint.as_deref())
        .opt("jwks_uri", p.jwks_uri.as_deref())
        .bool("callback_iss_required", p.callback_iss_required)
        .end()
}

/// The provider back from the object [`provider_out`] made (the glue keeps it in memory).
fn provider_in(v: &JsValue) -> Provider {
    let o = Obj(v.clone());
    let opt_s = |k| opt(&o.str(k)).map(str::to_string);
    Provider {
        issuer: opt_s("issuer"),
        token_endpoint: o.str("token_endpoint"),
        authorization_endpoint: opt_s("authorization_endpoint"),
        end_session_endpoint: opt_s("end_session_endpoint"),
        jwks_uri: opt_s("jwks_uri"),
        callback_iss_required: o.get("callback_iss_required").as_bool() == Some(true),
        ..Provider::default()
    }
}

/// The provider of a client's options: a Keycloak `url` and `realm` (or a realm's URL alone),
/// a URL `template` and its `values` (`[[name, value], ...]`), or an `issuer` and its
/// discovery `document` (the body as `JSON.parse` read it), checked: the issuer it names,
/// the https rule for every endpoint.
#[wasm_bindgen]
pub fn provider(options: JsValue) -> JsValue {
    let o = Obj(options);
    let p = if !o.str("template").is_empty() {
        let values = pairs(&o.get("values")).unwrap_or_default();
        let values: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Provider::from_template(&o.str("template"), &values)
    } else if !o.str("issuer").is_empty() {
        match Obj::new(o.get("document")) {
            Some(mut doc) => Provider::from_discovery_fields(&o.str("issuer"), &mut doc),
            None => Err(Error::InvalidResponse(
                "the discovery document is not a JSON object; is this an OpenID provider's issuer URL?"
                    .into(),
            )),
        }
    } else if o.str("realm").is_empty() {
        Provider::keycloak_issuer(&o.str("url"))
    } else {
        Provider::keycloak(&o.str("url"), &o.str("realm"))
    };
    done(p.map(provider_out))
}

/// Where an issuer's discovery document is.
#[wasm_bindgen(js_name = discoveryUrl)]
pub fn discovery_url(issuer: &str) -> JsValue {
    done(Provider::discovery_url(issuer).map(|u| string(&u)))
}

// ---- the login ----

/// Where a login sends the user (`{endpoint, params}`, see [`redirect_out`]), and the pending
/// login to keep until the callback (the fields and names of `PendingLogin::to_json`).
/// `extra`: further parameters, `[[name, value], ...]`.
#[wasm_bindgen]
pub fn authorize(
    provider: JsValue,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: JsValue,
) -> JsValue {
    let config = ClientConfig::new(client_id)
        .scope(scope)
        .redirect_uri(redirect_uri);
    let options = LoginOptions {
        extra: pairs(&extra).unwrap_or_default(),
        ..LoginOptions::default()
    };
    let req = authorization_request(&provider_in(&provider), &config, &options, &WebCrypto);
    done(req.map(|req| {
        let p = req.pending;
        let pending = Json::new()
            .str("state", p.state.expose())
            .str("nonce", p.nonce.expose())
            .str("code_verifier", p.pkce.verifier().expose())
            .str("redirect_uri", &p.redirect_uri)
            .opt("issuer", p.issuer.as_deref())
            .bool("iss_required", p.iss_required)
            .end();
        redirect_out(Json::new(), &req.redirect)
            .obj("pending", pending)
            .end()
    }))
}

/// The pending login this tab stored (`JSON.parse`d), or `LoginRequired` when there is none.
fn pending_login(stored: JsValue) -> Result<PendingLogin> {
    let Some(mut stored) = Obj::new(stored) else {
        // No login was started in this tab (or its callback was already handled): there is
        // no verifier to finish it with, whatever the callback says.
        return Err(Error::LoginRequired(
            "this tab has no pending login to finish (it was started in another tab or session, or this callback was already handled); call login() again".into(),
        ));
    };
    PendingLogin::from_fields(&mut stored)
}

/// A URL the core chose, for the glue to encode: `endpoint` and its `params` as
/// `[[name, value], ...]` (`URLSearchParams` appends them).
fn redirect_out(j: Json, r: &Redirect) -> Json {
    j.str("endpoint", &r.endpoint).pairs("params", &r.params)
}

/// A request for the glue to send: `{url, headers: {name: value}, form: [[name, value],
/// ...]}` (the form's parameters, which `URLSearchParams` encodes as the body). The browser's
/// client is public, so no request carries a client secret.
fn request_out(req: HttpRequest) -> String {
    let headers = req
        .headers
        .iter()
        .fold(Json::new(), |j, (k, v)| j.str(k, v))
        .end();
    Json::new()
        .str("url", &req.url)
        .obj("headers", headers)
        .pairs("form", req.form.as_ref().unwrap_or(&Params::new()))
        .end()
}

/// Checks a callback against the pending login (`state`, `iss`, `error=`) and builds the code
/// exchange. `params`: the callback's query as `[...url.searchParams]`, `null` when the URL
/// has no query string.
#[wasm_bindgen]
pub fn exchange(provider: JsValue, client_id: &str, pending: JsValue, params: JsValue) -> JsValue {
    let req = pending_login(pending).and_then(|pending| {
        let code = check_callback(&pending, pairs(&params))?;
        grant::authorization_code(
            &provider_in(&provider),
            &ClientConfig::new(client_id),
            code.code.expose(),
            &pending.redirect_uri,
            pending.pkce.verifier(),
        )
    });
    done(req.map(request_out))
}

// ---- tokens ----

/// The cache entry of a stored token (its deadlines; the token itself stays in the glue):
/// `{a: access token, r: refresh token ("" none), i: ID token ("" none), t: sent, ra: refresh
/// at, ea: expires at, rx: refresh token deadline (0: none)}`, times in ms on the wall clock.
fn entry_in(stored: &JsValue) -> Option<Entry<()>> {
    let o = Obj::new(stored.clone())?;
    let rx = o.num("rx");
    Some(Entry {
        token: (),
        refresh_at: at(o.num("ra")),
        expires_at: at(o.num("ea")),
        refresh_token: (!o.str("r").is_empty()).then(|| (rx > 0.0).then(|| at(rx))),
    })
}

/// The refresh request for a stored token.
#[wasm_bindgen(js_name = refreshRequest)]
pub fn refresh_request(provider: JsValue, client_id: &str, stored: JsValue) -> JsValue {
    let rt = Secret::new(Obj(stored).str("r"));
    let req = grant::refresh_token(
        &provider_in(&provider),
        &ClientConfig::new(client_id),
        &rt,
        None,
    );
    done(req.map(request_out))
}

/// Checks a token endpoint answer and returns the token to store (see [`entry_in`]), its
/// deadlines by the core's cache entry.
///
/// `answer`, as the glue read it: `{status, json (JSON.parse of the body, undefined when not
/// JSON), body (text), retryAfter (header or ""), sent (ms), accessClaims, idClaims (the
/// tokens' payloads decoded, null when not JWTs)}`. `previous`: `{pending}` after a code
/// exchange (the login's nonce is checked), `{stored}` after a refresh (its refresh token is
/// kept when the server sends none). `fraction`, `max_margin_ms`: the refresh policy
/// (negative: the core's default).
#[wasm_bindgen(js_name = tokenAnswer)]
pub fn token_answer(
    answer: JsValue,
    previous: JsValue,
    fraction: f64,
    max_margin_ms: f64,
) -> JsValue {
    let a = Obj(answer);
    let previous = Obj(previous);
    let sent = at(a.num("sent"));
    let checked = (|| {
        let mut json = Obj::new(a.get("json"));
        let json = json.as_mut().map(|j| j as &mut dyn Fields);
        let retry = parse_retry_after(&a.str("retryAfter"));
        let status = a.num("status") as u16;
        let mut t = check_token_answer(status, json, a.str("body").as_bytes(), retry)?;
        let stored = previous.get("stored");
        match entry_in(&stored) {
            // A refresh: RFC 6749 section 6, no refresh token in the answer keeps the old one.
            Some(prev) if prev.refresh_token.is_some() => {
                let rt = Secret::new(Obj(stored).str("r"));
                t.inherit_refresh_token(&rt, prev.refresh_token.flatten(), sent);
            }
            Some(_) => {}
            // A code exchange: the ID token's nonce must be this login's.
            None => {
                let nonce = Obj::new(a.get("idClaims")).map(|c| c.str("nonce"));
                check_nonce(
                    &pending_login(previous.get("pending"))?,
                    &t,
                    nonce.as_deref(),
                )?;
            }
        }
        Ok(t)
    })();
    done(checked.map(|t| {
        let times = Obj::new(a.get("accessClaims"))
            .map(|mut c| JwtTimes::from_fields(&mut c))
            .unwrap_or_default();
        let timing = Timing {
            sent,
            lifetime: usable_lifetime(t.expires_in, times, sent.as_secs()),
            refresh_token: t
                .refresh_token
                .as_ref()
                .map(|_| refresh_token_deadline(sent, t.refresh_expires_in)),
        };
        let e = Entry::new((), timing, &policy(fraction, max_margin_ms), Duration::ZERO);
        fn expose(s: &Option<Secret>) -> &str {
            s.as_ref().map_or("", |s| s.expose())
        }
        Json::new()
            .str("a", t.access_token.expose())
            .str("r", expose(&t.refresh_token))
            .str("i", expose(&t.id_token))
            .num("t", ms_u(sent))
            .num("ra", ms_u(e.refresh_at))
            .num("ea", ms_u(e.expires_at))
            .num("rx", e.refresh_token.flatten().map_or(0, ms_u))
            .end()
    }))
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

// ---- the ID token: the core's rules, WebCrypto's arithmetic ----

/// The key set state the glue keeps per page: `{fetchedAt, ttl, lastAttempt}` (ms; absent
/// before the first fetch / attempt).
fn keys_state(v: &JsValue) -> KeysState {
    let o = Obj(v.clone());
    let ms = |k| o.get(k).as_f64().map(at);
    KeysState {
        fetched_at: ms("fetchedAt"),
        ttl: ms("ttl").unwrap_or_default(),
        last_attempt: ms("lastAttempt"),
    }
}

/// A fetched key set document (`JSON.parse` of the body, `undefined` when it was not JSON or
/// not a 200) checked: how long to keep it (ms, from its `Cache-Control`), or the error that
/// says why it is unusable (not a set, too many keys).
#[wasm_bindgen(js_name = keySet)]
pub fn key_set(doc: JsValue, cache_control: &str) -> JsValue {
    let keys = Obj::new(doc).map(|d| d.get("keys")).filter(js_sys_is_array);
    let checked = match keys {
        Some(keys) => jws::check_key_count(items(&keys).count()),
        None => Err(jws::not_a_key_set()),
    };
    done(checked.map(|()| decimal(ms_u(keys_ttl(opt(cache_control))))))
}

/// Which key checks an ID token's signature. `header`: the token's header as `JSON.parse` read
/// it; `doc`, `state`: the key set held (see [`key_set`], [`keys_state`]); `fetched`: this
/// verification fetched the set already. Returns `{unverified}` (the provider publishes no
/// keys: the token is kept, never trusted), `{fetch: max bytes}` (fetch the set, then ask
/// again), `{failed}` (no set held: throw the fetch's error), or `{key, alg}`: the index in
/// `doc.keys` of the key to verify with by `alg`. A refused algorithm, a malformed token or
/// an unknown key is the error.
#[wasm_bindgen(js_name = idTokenKey)]
pub fn id_token_key(
    provider: JsValue,
    token: &str,
    header: JsValue,
    doc: JsValue,
    state: JsValue,
    now: f64,
    fetched: bool,
) -> JsValue {
    let r = (|| {
        if provider_in(&provider).jwks_uri.is_none() {
            return Ok(Json::new().bool("unverified", true).end());
        }
        jws::split(token)?;
        let mut header = Obj::new(header);
        let (alg, kid, _) = jws::header(header.as_mut().map(|h| h as &mut dyn Fields))?;
        // The signing keys, and where each is in `doc.keys`.
        let (mut at_index, mut set) = (Vec::new(), KeySet::default());
        let keys = Obj(doc).get("keys");
        for (i, k) in items(&keys).enumerate() {
            if let Some(jwk) = Obj::new(k).and_then(|mut k| Jwk::from_fields(&mut k)) {
                at_index.push(i);
                set.keys.push(jwk);
            }
        }
        let found = set.position(kid.as_deref(), alg);
        let state = keys_state(&state);
        Ok(match found {
            _ if !fetched && should_fetch(&state, at(now), found.is_some()) => Json::new()
                .num("fetch", jws::MAX_KEY_SET_BYTES as u64)
                .end(),
            _ if state.fetched_at.is_none() => Json::new().bool("failed", true).end(),
            Some(i) => Json::new()
                .num("key", at_index[i] as u64)
                .str("alg", alg.as_str())
                .end(),
            None => return Err(jws::no_key(alg, kid.as_deref())),
        })
    })();
    done(r)
}

/// What WebCrypto said of an ID token's signature (`idTokenChecked`'s `signed`).
pub const SIGNATURE_BAD: u8 = 0;
pub const SIGNATURE_GOOD: u8 = 1;
/// `crypto.subtle` is missing or threw (refused the key or the algorithm).
pub const NO_WEBCRYPTO: u8 = 2;

/// After WebCrypto checked the signature (`signed`, see [`SIGNATURE_GOOD`]), the ID token's claims (OIDC Core
/// §3.1.3.7): `iss` (the provider's issuer), `aud` / `azp` (`client_id`), `exp` / `iat` at
/// `now` (ms) within `leeway_ms` (negative: the core's default), and the login's `nonce`
/// (`""`: a refresh, none to check).
#[wasm_bindgen(js_name = idTokenChecked)]
pub fn id_token_checked(
    signed: u8,
    claims: JsValue,
    provider: JsValue,
    client_id: &str,
    nonce: &str,
    now: f64,
    leeway_ms: f64,
) -> JsValue {
    let r = (|| {
        match signed {
            SIGNATURE_GOOD => {}
            NO_WEBCRYPTO => return Err(Error::invalid_token(
                TokenCheck::Signature,
                "this browser could not check the token's signature: WebCrypto (`crypto.subtle`) is missing or refused the key; it exists only on pages served over https or from localhost, and EdDSA needs a recent browser",
            )),
            _ => return Err(jws::bad_signature()),
        }
        let p = provider_in(&provider);
        let issuer = p.issuer.as_deref().ok_or_else(|| {
            Error::Config("the provider's issuer is unknown, so its ID tokens cannot be verified; name the provider by discovery or by Keycloak URL and realm".into())
        })?;
        let expect = Expect {
            issuer,
            now: at(now).as_secs(),
            leeway: if leeway_ms >= 0.0 {
                at(leeway_ms)
            } else {
                DEFAULT_LEEWAY
            },
        };
        let id = IdTokenExpect {
            client_id,
            nonce: opt(nonce),
            max_age: None,
        };
        let claims = Obj::new(claims).unwrap_or(Obj(JsValue::NULL));
        check_id_token(&claims, &expect, &id)?;
        Ok(Json::new().end())
    })();
    done(r)
}

/// Where logout sends the user (`{endpoint, params}`, see [`redirect_out`]): the end-session
/// endpoint with `id_token_hint`.
#[wasm_bindgen(js_name = logoutUrl)]
pub fn logout_url(
    provider: JsValue,
    client_id: &str,
    id_token: &str,
    post_logout_redirect_uri: &str,
    state: &str,
) -> JsValue {
    let hint = opt(id_token).map(Secret::new);
    let to = tokenward::session::end_session_redirect(
        &provider_in(&provider),
        &ClientConfig::new(client_id),
        hint.as_ref(),
        opt(post_logout_redirect_uri),
        opt(state),
    );
    done(to.map(|r| redirect_out(Json::new(), &r).end()))
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

/// [`failure`] as the error (JSON text) the glue throws.
#[wasm_bindgen(js_name = requestFailed)]
pub fn request_failed(kind: u8, limit: f64, reason: &str) -> JsValue {
    error(failure(kind, limit, reason)).into()
}

// ---- the renewal policy: tokenward::cache::state, driven by the glue ----

/// The renewal state as the glue keeps it (per page): `{session: "user" | "client" | absent,
/// inFlight, failures, retryNotBefore (ms)}`.
fn renewals_in(v: JsValue) -> Renewals {
    let o = Obj(v);
    Renewals {
        session: match o.str("session").as_str() {
            "user" => Some(Session::User),
            "client" => Some(Session::ClientCredentials),
            _ => None,
        },
        in_flight: o.get("inFlight").as_bool() == Some(true),
        failures: o.num("failures") as u32,
        retry_not_before: at(o.num("retryNotBefore")),
    }
}

fn renewals_out(r: &Renewals) -> String {
    let session = match r.session {
        Some(Session::User) => Some("user"),
        Some(Session::ClientCredentials) => Some("client"),
        None => None,
    };
    Json::new()
        .opt("session", session)
        .bool("inFlight", r.in_flight)
        .num("failures", r.failures.into())
        .num("retryNotBefore", ms_u(r.retry_not_before))
        .end()
}

fn grant_in(g: &str) -> Grant {
    if g == Grant::ClientCredentials.as_str() {
        Grant::ClientCredentials
    } else {
        Grant::RefreshToken
    }
}

/// The browser client is public: it never runs client credentials.
const CONFIDENTIAL: bool = false;

/// What a caller asking for a token at `now` (ms) gets: `{action, grant?, renewals, error?}`.
/// `action` is `serve`, `serveAndRenew`, `wait`, `renew`, `failWithLast` or `loginRequired`
/// (with the `error` to throw). `expired`: treat the stored token as expired (an explicit
/// refresh, or an API refused it).
#[wasm_bindgen]
pub fn decide(stored: JsValue, renewals: JsValue, now: f64, expired: bool) -> JsValue {
    let mut r = renewals_in(renewals);
    let entry = entry_in(&stored).map(|e| if expired { e.expired() } else { e });
    let action = decide_action(entry.as_ref(), &mut r, at(now), CONFIDENTIAL);
    let (name, grant) = match action {
        Action::Serve => ("serve", None),
        Action::ServeAndRenew(g) => ("serveAndRenew", Some(g)),
        Action::Wait => ("wait", None),
        Action::Renew(g) => ("renew", Some(g)),
        Action::FailWithLast => ("failWithLast", None),
        Action::LoginRequired => ("loginRequired", None),
    };
    let j = Json::new()
        .str("action", name)
        .opt("grant", grant.map(Grant::as_str))
        .obj("renewals", renewals_out(&r));
    match action {
        Action::LoginRequired => j.obj("error", error(login_required(false))),
        _ => j,
    }
    .end()
    .into()
}

/// A renewal by `grant` landed a token (here, or in another tab): the new renewal state.
#[wasm_bindgen]
pub fn renewed(renewals: JsValue, grant: &str) -> JsValue {
    let mut r = renewals_in(renewals);
    r.renewed(grant_in(grant));
    renewals_out(&r).into()
}

/// A renewal by `grant` failed at `now` (ms) with `err` (the error object the failure threw):
/// `{renewals, dropRefreshToken, fallThrough?, loginRequired?}`: whether the glue removes the
/// refused refresh token from the stored token, the grant to run next in the same flight, and
/// the error callers get instead of the renewal's own.
#[wasm_bindgen]
pub fn failed(renewals: JsValue, now: f64, grant: &str, err: JsValue) -> JsValue {
    let mut r = renewals_in(renewals);
    let e = Obj(err);
    let refused = e.get("refusesRefreshToken").as_bool() == Some(true);
    let retry_after = Some(e.num("retryAfterMs")).filter(|&ms| ms > 0.0).map(at);
    let after = r.failed(at(now), grant_in(grant), refused, retry_after, CONFIDENTIAL);
    let j = Json::new().obj("renewals", renewals_out(&r));
    match after {
        AfterFailure::FallThrough(next) => j
            .bool("dropRefreshToken", true)
            .str("fallThrough", next.as_str()),
        AfterFailure::Failed {
            drop_refresh_token,
            login_required: refused,
        } => {
            let j = j.bool("dropRefreshToken", drop_refresh_token);
            if refused {
                j.obj("loginRequired", error(login_required(true)))
            } else {
                j
            }
        }
    }
    .end()
    .into()
}

/// A user's login landed a token: a new session, not held back by earlier failures.
#[wasm_bindgen]
pub fn began(renewals: JsValue) -> JsValue {
    let mut r = renewals_in(renewals);
    r.began(Session::User);
    renewals_out(&r).into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn time_crosses_as_milliseconds() {
        assert_eq!(at(1_500.0), Duration::from_millis(1_500));
        assert_eq!(at(-5.0), Duration::ZERO);
        assert_eq!(at(f64::NAN), Duration::ZERO);
        assert_eq!(ms_u(Duration::from_secs(2)), 2_000);
        let p = policy(-1.0, -1.0);
        assert_eq!(p, RefreshPolicy::default());
        assert_eq!(policy(0.5, 1_000.0).max_margin, Duration::from_secs(1));
    }

    #[test]
    fn results_are_json_text() {
        let j = Json::new()
            .str("s", "a\"b\\c\u{1}\n")
            .opt("none", None)
            .num("n", 9_007_199_254_740_991)
            .bool("b", true)
            .obj("o", Json::new().end())
            .end();
        assert_eq!(
            j,
            r#"{"s":"a\"b\\c\u0001\u000a","n":9007199254740991,"b":true,"o":{}}"#
        );
        let e = error(failure(TIMED_OUT, 2_500.0, ""));
        assert!(e.starts_with(r#"{"code":"timeout","message":"#), "{e}");
        assert!(e.ends_with(r#""status":0,"retryAfterMs":0,"refusesRefreshToken":false}"#));
    }

    #[test]
    fn grants_cross_by_their_grant_type() {
        for g in [Grant::RefreshToken, Grant::ClientCredentials] {
            assert_eq!(grant_in(g.as_str()), g);
        }
    }
}
