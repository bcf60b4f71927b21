//! The exports as the browser runs them: in headless Chromium (wasm-bindgen-test), with the
//! page's real `crypto.getRandomValues`, `JSON.parse` and `Reflect`. Run by tests/browser/run;
//! native builds skip this file. (The shared vectors run through the built package in
//! tests/browser/unit.mjs.)
#![cfg(target_arch = "wasm32")]

use tokenward_wasm::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen]
extern "C" {
    /// What the glue hands over: values `JSON.parse` made.
    #[wasm_bindgen(js_namespace = JSON)]
    fn parse(text: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn get(target: &JsValue, key: &str) -> JsValue;
}

fn field(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

/// What an export returned (JSON text), parsed as the glue does.
fn json(r: JsValue) -> JsValue {
    parse(&r.as_string().expect("JSON text"))
}

/// A result that is not a failure.
fn ok(r: JsValue) -> JsValue {
    let v = json(r);
    // (Reflect.get throws on a string result.)
    assert!(
        !v.is_object() || get(&v, "thrown").is_undefined(),
        "an error came back"
    );
    v
}

/// The code of a failure.
fn code(r: JsValue) -> String {
    let thrown = get(&json(r), "thrown");
    assert!(thrown.is_object(), "no error");
    field(&thrown, "code")
}

#[wasm_bindgen_test]
fn random_values_come_from_web_crypto() {
    let a = ok(random()).as_string().unwrap();
    let b = ok(random()).as_string().unwrap();
    assert_eq!(a.len(), 43);
    assert_ne!(a, b);
}

// The challenge of each verifier in tests/vectors/pkce.json (RFC 7636 Appendix B among them):
// tests/browser/unit.mjs runs them through the built package, the same module.
#[wasm_bindgen_test]
fn a_verifiers_challenge() {
    // The glue's pkcePair: a random verifier and its challenge.
    let verifier = ok(random()).as_string().unwrap();
    let challenge = ok(code_challenge(&verifier)).as_string().unwrap();
    assert_eq!(challenge.len(), 43);
    assert_ne!(challenge, verifier);
    assert_eq!(code(code_challenge("short")), "config");
}

fn vion() -> JsValue {
    ok(provider(parse(
        r#"{"url": "http://127.0.0.1:9", "realm": "vion"}"#,
    )))
}

#[wasm_bindgen_test]
fn providers_from_keycloak_a_template_or_discovery() {
    assert_eq!(field(&vion(), "issuer"), "http://127.0.0.1:9/realms/vion");
    let t = ok(provider(parse(
        r#"{"template": "https://kc.{env}.example.com/realms/{tenant}", "values": [["env", "prod"], ["tenant", "t1"]]}"#,
    )));
    assert_eq!(field(&t, "issuer"), "https://kc.prod.example.com/realms/t1");
    let doc = r#"{"issuer": "https://idp.example.com", "document": {"issuer": "https://idp.example.com",
        "token_endpoint": "https://idp.example.com/token", "authorization_endpoint": "https://idp.example.com/auth",
        "authorization_response_iss_parameter_supported": true}}"#;
    let d = ok(provider(parse(doc)));
    assert_eq!(field(&d, "token_endpoint"), "https://idp.example.com/token");
    assert_eq!(get(&d, "callback_iss_required").as_bool(), Some(true));
    let wrong = r#"{"issuer": "https://other.example.com", "document": {"issuer": "https://idp.example.com"}}"#;
    assert_eq!(code(provider(parse(wrong))), "issuer_mismatch");
    assert_eq!(
        code(provider(parse(
            r#"{"url": "http://kc.example.com", "realm": "r"}"#
        ))),
        "insecure_url"
    );
}

#[wasm_bindgen_test]
fn login_url_then_callback_checks() {
    let r = ok(authorize(
        vion(),
        "vion-spa",
        "http://127.0.0.1:8765/callback",
        "openid",
        parse(r#"[["prompt", "login"]]"#),
    ));
    let url = field(&r, "url");
    assert!(url.starts_with("http://127.0.0.1:9/realms/vion/protocol/openid-connect/auth?"));
    assert!(url.contains("code_challenge_method=S256") && url.contains("prompt=login"));
    let pending = get(&r, "pending");
    let state = field(&pending, "state");
    let params = |q: &str| parse(q);
    let forged = exchange(
        vion(),
        "vion-spa",
        pending.clone(),
        params(r#"[["state", "forged"], ["code", "x"]]"#),
    );
    assert_eq!(code(forged), "state_mismatch");
    let good = ok(exchange(
        vion(),
        "vion-spa",
        pending.clone(),
        params(&format!(r#"[["state", "{state}"], ["code", "c0de"]]"#)),
    ));
    let body = field(&good, "body");
    assert!(body.contains("code=c0de") && body.contains(&field(&pending, "code_verifier")));
    let none = exchange(vion(), "vion-spa", JsValue::NULL, params("[]"));
    assert_eq!(code(none), "login_required");
    let no_query = exchange(vion(), "vion-spa", pending, JsValue::NULL);
    assert_eq!(code(no_query), "config");
}

#[wasm_bindgen_test]
fn token_answers_become_stored_tokens_with_the_cores_deadlines() {
    // Sent at 1,000 s; the old refresh token's deadline 1,000 s later; default policy.
    let stored = parse(
        r#"{"stored": {"a": "old", "r": "old-rt", "i": "", "t": 0, "ra": 0, "ea": 0, "rx": 2000000}}"#,
    );
    let answer = |status: u32, json: &str, body: &str| {
        parse(&format!(
            r#"{{"status": {status}, "json": {json}, "body": "{body}", "retryAfter": "", "sent": 1000000}}"#
        ))
    };
    let body = r#"{"access_token": "opaque", "expires_in": 300, "refresh_token": "rt", "refresh_expires_in": 1800}"#;
    let t = ok(token_answer(
        answer(200, body, ""),
        stored.clone(),
        -1.0,
        -1.0,
    ));
    assert_eq!(field(&t, "a"), "opaque");
    assert_eq!(field(&t, "r"), "rt");
    for (k, v) in [
        ("ra", 1_270_000.0),
        ("ea", 1_300_000.0),
        ("rx", 2_799_000.0),
    ] {
        assert_eq!(get(&t, k).as_f64(), Some(v), "{k}");
    }
    let kept = ok(token_answer(
        answer(200, r#"{"access_token": "b"}"#, ""),
        stored.clone(),
        -1.0,
        -1.0,
    ));
    assert_eq!(field(&kept, "r"), "old-rt", "old refresh token kept");
    assert_eq!(
        get(&kept, "rx").as_f64(),
        Some(2_000_000.0),
        "with its deadline"
    );
    let refused = r#"{"error": "invalid_grant", "error_description": "Session not active"}"#;
    let e = get(
        &json(token_answer(
            answer(400, refused, ""),
            stored.clone(),
            -1.0,
            -1.0,
        )),
        "thrown",
    );
    assert_eq!(field(&e, "code"), "oauth");
    assert_eq!(field(&e, "error"), "invalid_grant");
    assert_eq!(get(&e, "refusesRefreshToken").as_bool(), Some(true));
    let page = answer(502, "null", "<h1>Bad Gateway</h1>");
    assert_eq!(code(token_answer(page, stored, -1.0, -1.0)), "http");
}

#[wasm_bindgen_test]
fn the_renewal_policy_is_the_state_machines() {
    let stored = parse(r#"{"a": "A", "r": "R1", "ra": 270000, "ea": 300000, "rx": 1800000}"#);
    let d = json(decide(stored.clone(), JsValue::UNDEFINED, 100_000.0, false));
    assert_eq!(field(&d, "action"), "serve");
    let d = json(decide(stored.clone(), JsValue::UNDEFINED, 280_000.0, false));
    assert_eq!(field(&d, "action"), "serveAndRenew");
    assert_eq!(field(&d, "grant"), "refresh_token");
    let renewals = get(&d, "renewals");
    assert_eq!(get(&renewals, "inFlight").as_bool(), Some(true));
    let d = json(decide(stored.clone(), renewals.clone(), 300_000.0, false));
    assert_eq!(field(&d, "action"), "wait");
    let busy = parse(r#"{"code": "http", "retryAfterMs": 7000, "refusesRefreshToken": false}"#);
    let after = json(failed(renewals, 300_000.0, "refresh_token", busy));
    let renewals = get(&after, "renewals");
    assert_eq!(get(&renewals, "retryNotBefore").as_f64(), Some(307_000.0));
    let d = json(decide(stored.clone(), renewals.clone(), 301_000.0, false));
    assert_eq!(field(&d, "action"), "failWithLast");
    let d = json(decide(JsValue::NULL, json(began(renewals)), 0.0, false));
    assert_eq!(field(&d, "action"), "loginRequired");
    assert_eq!(field(&get(&d, "error"), "code"), "login_required");
}
