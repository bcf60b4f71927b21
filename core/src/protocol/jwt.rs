//! Reading the claims of a JWT **without verifying its signature**.
//!
//! A client uses this to learn about its own access token (expiry, roles, `tenant`), never to
//! make a trust decision: the resource server verifies tokens against the provider's keys.

use crate::prelude::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fields::{Field, Fields};

/// A JWT's `iat` and `exp`: all that lifetime arithmetic needs from its claims. The browser
/// package reads them from the payload `JSON.parse` gave it, native code from [`Claims`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JwtTimes {
    pub iat: Option<u64>,
    pub exp: Option<u64>,
}

impl JwtTimes {
    /// Reads the NumericDate claims (integer or float seconds) of a parsed payload.
    pub fn from_fields(payload: &mut dyn Fields) -> JwtTimes {
        let date = |f: Field| match f {
            Field::Num(n) if n >= 0.0 => Some(n as u64),
            _ => None,
        };
        JwtTimes {
            iat: date(payload.take("iat")),
            exp: date(payload.take("exp")),
        }
    }
}

/// The payload of a JWT as a JSON object, with typed accessors for the claims clients use.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// Decodes the payload of a compact JWS (`header.payload.signature`). An opaque token or a
    /// malformed JWT is an `InvalidResponse` error; the token itself is never in the message.
    pub fn decode_unverified(token: &str) -> Result<Claims> {
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::invalid(
                "the token is not a JWT (expected three dot-separated parts)",
            ));
        };
        // Some issuers pad; RFC 7515 says they must not, so tolerate it rather than fail.
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| Error::invalid("the JWT payload is not base64url"))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Claims(map)),
            _ => Err(Error::invalid("the JWT payload is not a JSON object")),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim (seconds since the epoch), accepting integer or float JSON.
    pub fn numeric_date(&self, name: &str) -> Option<u64> {
        let v = self.0.get(name)?;
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    }

    pub fn exp(&self) -> Option<u64> {
        self.numeric_date("exp")
    }

    pub fn iat(&self) -> Option<u64> {
        self.numeric_date("iat")
    }

    pub fn times(&self) -> JwtTimes {
        JwtTimes {
            iat: self.iat(),
            exp: self.exp(),
        }
    }

    pub fn issuer(&self) -> Option<&str> {
        self.str("iss")
    }

    pub fn subject(&self) -> Option<&str> {
        self.str("sub")
    }

    /// `aud` as a list (the claim may be a string or an array).
    pub fn audience(&self) -> Vec<&str> {
        match self.0.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.str("scope")
            .map(|s| s.split_ascii_whitespace().collect())
            .unwrap_or_default()
    }

    /// Keycloak's realm roles: `realm_access.roles`.
    pub fn realm_roles(&self) -> Vec<&str> {
        self.0
            .get("realm_access")
            .and_then(|r| r.get("roles"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Keycloak's client roles: `resource_access.<client>.roles`.
    pub fn client_roles(&self, client_id: &str) -> Vec<&str> {
        self.0
            .get("resource_access")
            .and_then(|r| r.get(client_id))
            .and_then(|c| c.get("roles"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn has_realm_role(&self, role: &str) -> bool {
        self.realm_roles().contains(&role)
    }

    /// A claim is present when it exists and is not JSON `null` or an empty string.
    pub fn has(&self, name: &str) -> bool {
        match self.0.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

#[cfg(test)]
pub(crate) fn make_test_jwt(payload: &str) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycloak_claims_are_readable() {
        let t = make_test_jwt(
            r#"{"exp":1700000300,"iat":1700000000,"iss":"http://127.0.0.1/realms/iopole","aud":["account","x"],
               "realm_access":{"roles":["admin","offline_access"]},"resource_access":{"x":{"roles":["r1"]}},
               "scope":"email profile","tenant":"acme","empty":""}"#,
        );
        let c = Claims::decode_unverified(&t).unwrap();
        assert_eq!(c.exp(), Some(1_700_000_300));
        assert_eq!(c.iat(), Some(1_700_000_000));
        assert_eq!(c.realm_roles(), ["admin", "offline_access"]);
        assert!(c.has_realm_role("admin") && !c.has_realm_role("user"));
        assert_eq!(c.client_roles("x"), ["r1"]);
        assert_eq!(c.audience(), ["account", "x"]);
        assert_eq!(c.scopes(), ["email", "profile"]);
        assert!(c.has("tenant") && !c.has("empty") && !c.has("nope"));
    }

    #[test]
    fn opaque_and_broken_tokens_are_errors_without_the_token() {
        for t in [
            "opaque-token-value",
            "a.b",
            "a.!!!.c",
            &make_test_jwt("[1,2]"),
        ] {
            let e = Claims::decode_unverified(t).unwrap_err();
            assert!(matches!(e, Error::InvalidResponse(_)));
            assert!(!e.to_string().contains(t));
        }
    }
}
