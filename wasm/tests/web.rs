//! The exports as the browser runs them: in headless Chromium (wasm-bindgen-test), with the
//! page's real `crypto.getRandomValues`. Run by tests/browser/run; native builds skip this file.
#![cfg(target_arch = "wasm32")]

use tokenward_wasm::{auth, code, pair, rnd, s256, SEP};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn ok(s: String) -> Vec<String> {
    let mut f = s.split(SEP).map(str::to_string);
    assert_eq!(f.next().as_deref(), Some(""), "an error came back: {s}");
    f.collect()
}

#[wasm_bindgen_test]
fn random_values_come_from_web_crypto() {
    let a = ok(rnd()).remove(0);
    let b = ok(rnd()).remove(0);
    assert_eq!(a.len(), 43);
    assert_ne!(a, b);
}

#[wasm_bindgen_test]
fn s256_matches_rfc7636_appendix_b() {
    let c = ok(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    assert_eq!(c, ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"]);
    assert!(s256("short").starts_with("config\u{1}"));
}

#[wasm_bindgen_test]
fn pair_is_a_verifier_and_its_challenge() {
    let p = ok(pair());
    assert_eq!(ok(s256(&p[0])), [p[1].clone()]);
}

#[wasm_bindgen_test]
fn login_url_then_callback_checks() {
    let kc = "http://127.0.0.1:9";
    let r = ok(auth(
        kc,
        "vion",
        "vion-spa",
        "http://127.0.0.1:8765/callback",
        "openid",
        "",
    ));
    assert!(r[0].starts_with("http://127.0.0.1:9/realms/vion/protocol/openid-connect/auth?"));
    assert!(r[0].contains("code_challenge_method=S256"));
    let bad = code(
        kc,
        "vion",
        "vion-spa",
        &r[1],
        "http://127.0.0.1:8765/callback?state=forged&code=x",
    );
    assert!(bad.starts_with("state_mismatch\u{1}"), "{bad}");
}
