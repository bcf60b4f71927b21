//! JWT claims read without verification (what the cache uses for `exp`): any string, and any
//! payload bytes wrapped as the middle segment of a JWT so the JSON parser is reached directly.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use tokenward::Claims;

fn poke(c: &Claims) {
    let _ = (
        c.exp(),
        c.iat(),
        c.issuer(),
        c.subject(),
        c.audience(),
        c.scopes(),
    );
    let _ = (
        c.realm_roles(),
        c.client_roles("app"),
        c.has_realm_role("admin"),
    );
    let _ = (
        c.has("tenant"),
        c.str("tenant"),
        c.numeric_date("nbf"),
        c.to_json(),
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Claims::decode_unverified(text) {
            poke(&c);
        }
    }
    let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", b64url(data));
    if let Ok(c) = Claims::decode_unverified(&jwt) {
        poke(&c);
    }
});

/// Unpadded base64url, as a JWT segment is written.
fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}
