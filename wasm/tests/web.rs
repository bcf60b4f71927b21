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
    #[wasm_bindgen(js_namespace = JSON)]
    fn stringify(v: &JsValue) -> String;
}

fn field(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

/// Whether a `[[name, value], ...]` list the core returned holds the pair.
fn holds(list: &JsValue, name: &str, value: &str) -> bool {
    stringify(list).contains(&format!(r#"["{name}","{value}"]"#))
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
    assert_eq!(
        field(&r, "endpoint"),
        "http://127.0.0.1:9/realms/vion/protocol/openid-connect/auth"
    );
    let query = get(&r, "params");
    assert!(holds(&query, "code_challenge_method", "S256") && holds(&query, "prompt", "login"));
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
    let form = get(&good, "form");
    assert!(holds(&form, "code", "c0de"));
    assert!(holds(
        &form,
        "code_verifier",
        &field(&pending, "code_verifier")
    ));
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

// ID-token verification's decisions, on objects JSON.parse made (the glue's WebCrypto call sits
// between `idTokenKey` and `idTokenChecked`; tests/browser/unit.mjs and e2e.mjs run it).
#[wasm_bindgen_test]
fn id_token_keys_and_claims_are_the_cores_decisions() {
    let kc = ok(provider(parse(
        r#"{"url":"https://kc.example","realm":"vion"}"#,
    )));
    assert_eq!(
        field(&kc, "jwks_uri"),
        "https://kc.example/realms/vion/protocol/openid-connect/certs"
    );
    // 32 bytes of 0x01, base64url: a P-256 coordinate's size.
    let xy = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
    let doc = parse(&format!(
        r#"{{"keys":[{{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}},
            {{"kty":"EC","crv":"P-256","kid":"ec","x":"{xy}","y":"{xy}"}}]}}"#
    ));
    assert_eq!(
        ok(key_set(doc.clone(), "max-age=600")).as_f64(),
        Some(600_000.0)
    );
    assert_eq!(code(key_set(parse(r#"{"keys":{}}"#), "")), "invalid_token");

    let header = |alg: &str, kid: &str| parse(&format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#));
    let held = parse(r#"{"fetchedAt":1000,"ttl":300000,"lastAttempt":1000}"#);
    let key = |h, state: &JsValue| {
        id_token_key(
            kc.clone(),
            "h.p.s",
            h,
            doc.clone(),
            state.clone(),
            2000.0,
            false,
        )
    };
    let never = parse("{}");
    assert_eq!(
        get(&ok(key(header("ES256", "ec"), &never)), "fetch").as_f64(),
        Some(262_144.0)
    );
    let found = ok(key(header("ES256", "ec"), &held));
    assert_eq!(
        (get(&found, "key").as_f64(), field(&found, "alg")),
        (Some(1.0), "ES256".into())
    );
    for (alg, kid) in [
        ("none", "ec"),
        ("HS256", "ec"),
        ("ES256", "gone"),
        ("RS256", "ec"),
    ] {
        assert_eq!(
            code(key(header(alg, kid), &held)),
            "invalid_token",
            "{alg} {kid}"
        );
    }
    assert_eq!(
        code(id_token_key(
            kc.clone(),
            "opaque",
            header("ES256", "ec"),
            doc,
            held,
            2000.0,
            false
        )),
        "invalid_token"
    );

    let claims = |aud: &str| {
        parse(&format!(
            r#"{{"iss":"https://kc.example/realms/vion","aud":"{aud}","iat":1700000000,"exp":1700000300,"nonce":"n1"}}"#
        ))
    };
    let at = 1_700_000_100_000.0;
    let checked =
        |signed, c, nonce: &str| id_token_checked(signed, c, kc.clone(), "spa", nonce, at, -1.0);
    ok(checked(SIGNATURE_GOOD, claims("spa"), "n1"));
    ok(checked(SIGNATURE_GOOD, claims("spa"), ""));
    // A bad signature, no WebCrypto, another audience, another nonce.
    for (signed, aud, nonce) in [
        (SIGNATURE_BAD, "spa", "n1"),
        (NO_WEBCRYPTO, "spa", "n1"),
        (SIGNATURE_GOOD, "other", "n1"),
        (SIGNATURE_GOOD, "spa", "n2"),
    ] {
        assert_eq!(
            code(checked(signed, claims(aud), nonce)),
            "invalid_token",
            "{signed} {aud} {nonce}"
        );
    }
}
