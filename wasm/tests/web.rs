//! The exports as the browser runs them: in headless Chromium (wasm-bindgen-test), with the
//! page's real `crypto.getRandomValues`. Run by tests/browser/run; native builds skip this file.
#![cfg(target_arch = "wasm32")]

use tokenward_wasm::{op, tw, ARG, SEP};
use wasm_bindgen_test::*;

/// What the glue's `flat` makes of an object with these (already tagged) values.
fn flat(fields: &[(&str, &str)]) -> String {
    let mut out = String::from("o");
    for (k, v) in fields {
        out.push(SEP);
        out.push_str(k);
        out.push(SEP);
        out.push_str(v);
    }
    out
}

wasm_bindgen_test_configure!(run_in_browser);

/// The module's export as the glue calls it.
fn call(op: u32, args: &[&str], n: [f64; 5]) -> String {
    tw(
        op,
        &args.join(&ARG.to_string()),
        n[0],
        n[1],
        n[2],
        n[3],
        n[4],
    )
}

const NONE: [f64; 5] = [0.0; 5];

fn rnd() -> String {
    call(op::RANDOM, &[], NONE)
}

fn pair() -> String {
    call(op::PKCE, &[], NONE)
}

fn s256(verifier: &str) -> String {
    call(op::CHALLENGE, &[verifier], NONE)
}

fn code(url: &str, realm: &str, client_id: &str, pending: &str, callback: &str) -> String {
    call(
        op::EXCHANGE,
        &[url, realm, client_id, pending, callback],
        NONE,
    )
}

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

// The challenge of each verifier in tests/vectors/pkce.json (RFC 7636 Appendix B among them):
// tests/browser/unit.mjs runs them through the built package, the same module.
#[wasm_bindgen_test]
fn pair_is_a_verifier_and_its_challenge() {
    let p = ok(pair());
    assert_eq!(ok(s256(&p[0])), [p[1].clone()]);
    assert!(s256("short").starts_with("config\u{1}"));
}

#[wasm_bindgen_test]
fn login_url_then_callback_checks() {
    let kc = "http://127.0.0.1:9";
    let r = ok(call(
        op::LOGIN,
        &[
            kc,
            "vion",
            "vion-spa",
            "http://127.0.0.1:8765/callback",
            "openid",
            "",
        ],
        NONE,
    ));
    assert!(r[0].starts_with("http://127.0.0.1:9/realms/vion/protocol/openid-connect/auth?"));
    assert!(r[0].contains("code_challenge_method=S256"));
    // The glue stores the pending login as a JSON object and hands it back flattened.
    let pending = flat(&[
        ("state", &format!("s{}", r[1])),
        ("nonce", &format!("s{}", r[2])),
        ("code_verifier", &format!("s{}", r[3])),
        ("redirect_uri", &format!("s{}", r[4])),
        ("issuer", &format!("s{}", r[5])),
        ("iss_required", "b0"),
    ]);
    let cb = |q: &str| format!("http://127.0.0.1:8765/callback?{q}");
    let bad = code(kc, "vion", "vion-spa", &pending, &cb("state=forged&code=x"));
    assert!(bad.starts_with("state_mismatch\u{1}"), "{bad}");
    let good = ok(code(
        kc,
        "vion",
        "vion-spa",
        &pending,
        &cb(&format!("state={}&code=c0de", r[1])),
    ));
    assert!(
        good[1].contains("code=c0de") && good[1].contains(&r[3]),
        "{good:?}"
    );
    let none = code(kc, "vion", "vion-spa", "", &cb("state=x&code=y"));
    assert!(none.starts_with("login_required\u{1}"), "{none}");
}

#[wasm_bindgen_test]
fn token_answers_are_checked_from_flattened_json() {
    let answer = flat(&[
        ("access_token", "sopaque"),
        ("expires_in", "n300"),
        ("refresh_token", "srt"),
        ("refresh_expires_in", "n1800"),
        ("token_type", "sBearer"),
    ]);
    let refreshed = |status: f64, json: &str, body| {
        call(
            op::TOKEN_AFTER_REFRESH,
            &[json, body, "", "", "", "old-rt"],
            // Sent at 1,000 s; the old refresh token's deadline 1,000 s later; default policy.
            [status, 1_000_000.0, 2_000_000.0, -1.0, -1.0],
        )
    };
    let t = ok(refreshed(200.0, &answer, ""));
    assert_eq!(t, ["opaque", "rt", "", "1270000", "1300000", "2799000"]);
    let kept = ok(refreshed(200.0, &flat(&[("access_token", "sb")]), ""));
    assert_eq!(
        &kept[1..],
        ["old-rt", "", "1054000", "1060000", "2000000"],
        "old refresh token kept, with its deadline"
    );
    let refused = flat(&[
        ("error", "sinvalid_grant"),
        ("error_description", "sSession not active"),
    ]);
    let e = refreshed(400.0, &refused, "");
    assert!(
        e.starts_with("oauth\u{1}")
            && e.ends_with("\u{1}invalid_grant\u{1}Session not active\u{1}400\u{1}1"),
        "{e}"
    );
    let page = refreshed(502.0, "", "<h1>Bad Gateway</h1>");
    assert!(
        page.starts_with("http\u{1}") && page.contains("Bad Gateway"),
        "{page}"
    );
    let e = refreshed(200.0, &flat(&[("access_token", "n7")]), "");
    assert!(e.starts_with("invalid_response\u{1}"), "{e}");
}
