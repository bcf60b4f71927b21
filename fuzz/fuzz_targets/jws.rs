//! The JWS and JWKS parsers, the first code that sees a hostile token or key set: any bytes as
//! a compact JWS (and as its header and payload segments, so serde is reached directly), and any
//! bytes as a JWK set, whose keys are then looked up by kid and algorithm. Nothing here checks
//! a signature (that is ring's arithmetic); the claim checks of `verify` run on what parsed.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use tokenward::jws::{Algorithm, Jws, KeySet};
use tokenward::verify::{check_access_token, check_id_token, AccessTokenExpect, Expect, IdTokenExpect};

const ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "none",
];

fn claims_checks(jws: &Jws<'_>) {
    let expect = Expect {
        issuer: "https://sso.example/realms/r",
        now: 1_800_000_000,
        leeway: core::time::Duration::from_secs(30),
    };
    let id = IdTokenExpect {
        client_id: "app",
        nonce: Some("n-0S6_WzA2Mj"),
        max_age: Some(300),
    };
    let _ = check_id_token(&jws.claims, &expect, &id);
    let claims = ["tenant".to_string()];
    let roles = ["admin".to_string()];
    let access = AccessTokenExpect {
        audience: Some("api"),
        required_claims: &claims,
        required_roles: &roles,
    };
    let _ = check_access_token(jws.typ.as_deref(), &jws.claims, &expect, &access);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(jws) = Jws::parse(text) {
            claims_checks(&jws);
        }
    }
    // The bytes as a header, then as a payload, of an otherwise well-formed JWS.
    let seg = b64url(data);
    for token in [
        format!("{seg}.e30.c2ln"),
        format!("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.{seg}.c2ln"),
    ] {
        if let Ok(jws) = Jws::parse(&token) {
            claims_checks(&jws);
        }
    }
    // The bytes as a key set; whatever parsed is searched like a verification would.
    if let Ok(set) = KeySet::parse(data) {
        for name in ALGS {
            if let Ok(alg) = Algorithm::from_name(name) {
                let _ = set.find(None, alg);
                let _ = set.find(Some("k1"), alg);
                for k in &set.keys {
                    let _ = set.find(k.kid.as_deref(), alg);
                }
            }
        }
    }
});

/// Unpadded base64url, as a JWT segment is written.
fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}
