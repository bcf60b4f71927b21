//! Client authentication by a signed JWT (RFC 7523 §2.2, OIDC Core §9): `private_key_jwt`
//! (RS256 / ES256 with the client's private key) and `client_secret_jwt` (HS256 with the
//! client secret), Keycloak's `client-jwt` and `client-secret-jwt` authenticators.
//!
//! The claims and the compact form are built here, purely; the signature, the clock and the
//! `jti`'s randomness are the runtime's, through [`AssertionSigner`] (native: ring, in
//! `native::assertion`).

use crate::prelude::*;

use alloc::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::secret::Secret;
use crate::text::text;

/// `client_assertion_type` of a JWT assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is good for: long enough for one request, short enough that a copy
/// is useless soon.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;

/// The runtime's half of a client assertion: a key that signs, the wall clock and a source of
/// unique `jti`s. Implementations keep the key out of `Debug` and zeroize it on drop.
pub trait AssertionSigner: Send + Sync {
    /// The JWS `alg`: `RS256`, `ES256` or `HS256`.
    fn algorithm(&self) -> &str;
    /// The `kid` header, naming the key in the client's registered key set.
    fn key_id(&self) -> Option<&str>;
    /// The signature over `signing_input` (for ES256 the 64-byte `r || s` form).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>>;
    /// Seconds since the Unix epoch.
    fn unix_time(&self) -> u64;
    /// A fresh identifier no other assertion of this client carries.
    fn jti(&self) -> Result<String>;

    /// The signed assertion for `client_id`, addressed to `audience`: [`client_assertion`].
    /// A method rather than a call in `form_post`, so that a runtime with no signer (the
    /// browser's public client) links none of the assertion code.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<Secret> {
        client_assertion(self, client_id, audience)
    }
}

/// A shared [`AssertionSigner`], as [`crate::config::ClientConfig`] holds it; `Debug` shows
/// only the algorithm and key id.
#[derive(Clone)]
pub struct ClientSigner(pub Arc<dyn AssertionSigner>);

impl ClientSigner {
    pub fn new(signer: impl AssertionSigner + 'static) -> ClientSigner {
        ClientSigner(Arc::new(signer))
    }

    pub fn algorithm(&self) -> &str {
        self.0.algorithm()
    }
}

impl core::fmt::Debug for ClientSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientSigner")
            .field("alg", &self.0.algorithm())
            .field("kid", &self.0.key_id())
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The JOSE header: `alg`, `typ: JWT`, and `kid` when the key has one.
pub fn assertion_header(alg: &str, kid: Option<&str>) -> String {
    let mut h = Map::new();
    h.insert("alg".into(), Value::from(alg));
    h.insert("typ".into(), Value::from("JWT"));
    if let Some(kid) = kid {
        h.insert("kid".into(), Value::from(kid));
    }
    Value::Object(h).to_string()
}

/// RFC 7523 §3: `iss` = `sub` = the client id, `aud` = who checks it (Keycloak accepts its
/// issuer URL for every endpoint), `jti` unique, `iat` now and `exp` a minute later.
pub fn assertion_claims(client_id: &str, audience: &str, now: u64, jti: &str) -> String {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": jti,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    })
    .to_string()
}

/// A signed assertion for `client_id`, addressed to `audience`.
pub fn client_assertion<S: AssertionSigner + ?Sized>(
    signer: &S,
    client_id: &str,
    audience: &str,
) -> Result<Secret> {
    let header = assertion_header(signer.algorithm(), signer.key_id());
    let claims = assertion_claims(client_id, audience, signer.unix_time(), &signer.jti()?);
    let input = text!(
        URL_SAFE_NO_PAD.encode(header),
        ".",
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = signer.sign(input.as_bytes())?;
    Ok(Secret::new(text!(
        input,
        ".",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl AssertionSigner for Fake {
        fn algorithm(&self) -> &str {
            "RS256"
        }
        fn key_id(&self) -> Option<&str> {
            Some("k1")
        }
        fn sign(&self, input: &[u8]) -> Result<Vec<u8>> {
            Ok(input.len().to_be_bytes().to_vec())
        }
        fn unix_time(&self) -> u64 {
            1_700_000_000
        }
        fn jti(&self) -> Result<String> {
            Ok("j-1".into())
        }
    }

    #[test]
    fn the_assertion_carries_the_rfc_7523_claims() {
        let a = client_assertion(&Fake, "vion-jwt", "https://sso.example/realms/vion").unwrap();
        let parts: Vec<&str> = a.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"iss": "vion-jwt", "sub": "vion-jwt", "aud": "https://sso.example/realms/vion",
                   "jti": "j-1", "iat": 1_700_000_000u64, "exp": 1_700_000_060u64})
        );
        let signed_len = parts[0].len() + 1 + parts[1].len();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            signed_len.to_be_bytes()
        );
        assert!(!format!("{:?}", ClientSigner::new(Fake)).contains("j-1"));
    }
}
