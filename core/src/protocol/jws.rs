//! Signed JWTs (compact JWS, RFC 7515) and the provider's keys (JWK sets, RFC 7517): parsing
//! and the decisions around them: which algorithms are accepted, which key may check which
//! signature, and the caps that keep a hostile key set or token from costing memory.
//!
//! The signature arithmetic itself is the runtime's ([`SignatureCheck`]): ring natively (the
//! crypto library rustls already links), WebCrypto in the browser. Nothing here does I/O.

use crate::prelude::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result, TokenCheck};
use crate::fields::{Field, Fields};
use crate::jwt::Claims;
use crate::text::text;

/// The signature algorithms an OpenID provider's tokens may use (the ones Keycloak issues).
/// `none` and the HMAC algorithms are never accepted for provider-signed tokens: `none` has no
/// signature, and an HMAC "signature" checked with the provider's public key as the secret is
/// the classic RS/HS confusion forgery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Algorithm {
    /// The algorithm a JWS header names, if tokenward accepts it for provider-signed tokens.
    pub fn from_name(name: &str) -> Result<Algorithm> {
        Ok(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" => Algorithm::EdDSA,
            "none" => {
                return Err(Error::invalid_token(
                    TokenCheck::Algorithm,
                    "the token is unsigned (`alg: none`), which is never accepted",
                ))
            }
            n if n.starts_with("HS") => {
                return Err(Error::invalid_token(
                    TokenCheck::Algorithm,
                    text!(
                        "the token is signed with `",
                        n,
                        "` (a shared secret), which is never accepted for a token the provider signs; check that the provider's signing keys are RSA, EC or Ed25519"
                    ),
                ))
            }
            n => {
                return Err(Error::invalid_token(
                    TokenCheck::Algorithm,
                    text!(
                        "the token's algorithm `",
                        n.chars().take(20).collect::<String>(),
                        "` is not supported (RS256/384/512, PS256/384/512, ES256/384, EdDSA are)"
                    ),
                ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Whether a key of this material can check this algorithm's signatures.
    fn fits(self, key: &KeyMaterial) -> bool {
        match key {
            KeyMaterial::Rsa { .. } => matches!(
                self,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyMaterial::Ec {
                curve: Curve::P256, ..
            } => self == Algorithm::ES256,
            KeyMaterial::Ec {
                curve: Curve::P384, ..
            } => self == Algorithm::ES384,
            KeyMaterial::Ed25519 { .. } => self == Algorithm::EdDSA,
        }
    }
}

/// An elliptic curve of a JWK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

/// A public key's numbers, decoded from its JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// Modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The point's coordinates, big-endian, each the curve's size.
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// The 32-byte public key.
    Ed25519 { x: Vec<u8> },
}

/// One signing key of the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The algorithm the key is for, when the set says.
    pub alg: Option<Algorithm>,
    pub material: KeyMaterial,
}

/// The provider's signing keys (its `jwks_uri` document), with what was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    pub keys: Vec<Jwk>,
}

/// The most keys a set may hold: Keycloak publishes a handful; a set of thousands is an attack
/// on the client's memory and lookup time.
pub const MAX_KEYS: usize = 100;
/// The largest key set document read (the transport's cap may be larger).
pub const MAX_KEY_SET_BYTES: usize = 256 * 1024;
/// RSA moduli below 2048 bits are refused (NIST, and ring's own floor), above 8192 too.
const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

impl KeySet {
    /// Parses a JWK set. Keys that cannot sign (`use: enc`, `key_ops` without `verify`), of a
    /// type tokenward does not check, or malformed, are left out; a set that is not JSON, too
    /// large, or holds too many keys is an error that says so.
    pub fn parse(body: &[u8]) -> Result<KeySet> {
        if body.len() > MAX_KEY_SET_BYTES {
            return Err(Error::invalid_token(
                TokenCheck::KeySet,
                text!(
                    "the provider's key set is larger than ",
                    MAX_KEY_SET_BYTES / 1024,
                    " KB; check the jwks_uri"
                ),
            ));
        }
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Value>,
        }
        let doc: Doc = serde_json::from_slice(body).map_err(|_| not_a_key_set())?;
        check_key_count(doc.keys.len())?;
        let keys = doc
            .keys
            .into_iter()
            .filter_map(|k| match k {
                Value::Object(mut k) => Jwk::from_fields(&mut k),
                _ => None,
            })
            .collect();
        Ok(KeySet { keys })
    }

    /// The key that may check a signature by `alg` from the key named `kid`: the key with that
    /// `kid` (or, for a token without one, the only key that fits), whose type fits `alg` and
    /// whose own `alg`, if any, is `alg`. `None` when no key fits: an unknown `kid` (perhaps the
    /// provider rotated: refetch the set once) or a key of another type.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Jwk> {
        self.position(kid, alg).map(|i| &self.keys[i])
    }

    /// [`KeySet::find`] as the key's index in [`KeySet::keys`].
    pub fn position(&self, kid: Option<&str>, alg: Algorithm) -> Option<usize> {
        let mut fitting = (self.keys.iter().enumerate())
            .filter(|(_, k)| alg.fits(&k.material) && k.alg.is_none_or(|a| a == alg));
        match kid {
            Some(kid) => fitting
                .find(|(_, k)| k.kid.as_deref() == Some(kid))
                .map(|(i, _)| i),
            None => match (fitting.next(), fitting.next()) {
                (Some((only, _)), None) => Some(only),
                _ => None,
            },
        }
    }
}

/// The error for a key set document that is not one.
pub fn not_a_key_set() -> Error {
    Error::invalid_token(
        TokenCheck::KeySet,
        "the provider's key set is not a JSON object with a `keys` array; check the jwks_uri",
    )
}

/// A key set may hold at most [`MAX_KEYS`] keys (`count`: how many the document holds).
pub fn check_key_count(count: usize) -> Result<()> {
    if count > MAX_KEYS {
        return Err(Error::invalid_token(
            TokenCheck::KeySet,
            text!(
                "the provider's key set holds ",
                count,
                " keys, more than the ",
                MAX_KEYS,
                " accepted; check the jwks_uri"
            ),
        ));
    }
    Ok(())
}

impl Jwk {
    /// A JWK (one member of a set's `keys`, however parsed) as a signing key, or `None` when
    /// it is not one tokenward checks signatures with: `use` other than `sig`, `key_ops`
    /// without `verify`, a type or curve not checked, malformed or weak numbers, or an `alg`
    /// that does not fit the key.
    pub fn from_fields(k: &mut dyn Fields) -> Option<Jwk> {
        if k.take("use").into_str().is_some_and(|u| u != "sig") {
            return None;
        }
        if k.holds("key_ops", "verify") == Some(false) {
            return None;
        }
        let b64 =
            |k: &mut dyn Fields, name: &str| b64url(k.take(name).into_str()?.trim_end_matches('='));
        let material = match k.take("kty").into_str()?.as_str() {
            "RSA" => {
                let n = strip_zeros(b64(k, "n")?);
                let e = strip_zeros(b64(k, "e")?);
                if !RSA_BITS.contains(&(n.len() * 8)) || e.is_empty() || e.len() > 8 {
                    return None;
                }
                KeyMaterial::Rsa { n, e }
            }
            "EC" => {
                let (curve, size) = match k.take("crv").into_str()?.as_str() {
                    "P-256" => (Curve::P256, 32),
                    "P-384" => (Curve::P384, 48),
                    _ => return None,
                };
                let (x, y) = (b64(k, "x")?, b64(k, "y")?);
                if x.len() != size || y.len() != size {
                    return None;
                }
                KeyMaterial::Ec { curve, x, y }
            }
            "OKP" if k.take("crv").into_str()? == "Ed25519" => {
                let x = b64(k, "x")?;
                if x.len() != 32 {
                    return None;
                }
                KeyMaterial::Ed25519 { x }
            }
            _ => return None,
        };
        let alg = match k.take("alg").into_str() {
            Some(a) => Some(Algorithm::from_name(&a).ok()?),
            None => None,
        };
        let kid = k
            .take("kid")
            .into_str()
            .map(|k| k.chars().take(200).collect());
        let jwk = Jwk { kid, alg, material };
        // A key whose stated `alg` does not fit its type can check nothing.
        if jwk.alg.is_some_and(|a| !a.fits(&jwk.material)) {
            return None;
        }
        Some(jwk)
    }
}

/// base64url without padding (RFC 7515 §2), as a JWK's numbers are written, or `None`: a
/// character outside the alphabet, a length no bytes have, or non-zero trailing bits. The
/// same answers as the base64 crate's `URL_SAFE_NO_PAD` in a few lines, as the browser
/// package links no base64 decoder otherwise (wasm/SIZE.md).
fn b64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6 | u32::from(v)) & 0xfff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Six bits left make no byte; the two or four left after the last byte must be zero.
    (bits < 6 && acc & ((1 << bits) - 1) == 0).then_some(out)
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let lead = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..lead);
    bytes
}

/// A compact JWS taken apart, its signature not yet checked.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    pub alg: Algorithm,
    pub kid: Option<String>,
    /// The header's `typ`, if any (`JWT`, `at+jwt`, ...).
    pub typ: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
    /// The payload's claims: not to be trusted before the signature is checked.
    pub claims: Claims,
}

/// The most bytes of a token tokenward will take apart.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A token that is not a compact JWS: the error says why, never quoting the token.
fn malformed(what: &str) -> Error {
    Error::invalid_token(
        TokenCheck::Format,
        text!("the token is not a signed JWT: ", what),
    )
}

/// A compact JWS's size and three parts (`header.payload.signature`), undecoded.
pub fn split(token: &str) -> Result<(&str, &str, &str)> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("it is larger than 64 KB"));
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(sig), None) => Ok((h, p, sig)),
        _ => Err(malformed("expected three dot-separated parts (an encrypted JWE or an opaque token cannot be verified)")),
    }
}

/// What a JWS header says, however parsed: its algorithm (refused unless accepted, see
/// [`Algorithm::from_name`]), `kid` and `typ`. `None`: the header is not a JSON object.
pub fn header(
    header: Option<&mut dyn Fields>,
) -> Result<(Algorithm, Option<String>, Option<String>)> {
    let Some(h) = header else {
        return Err(malformed("its header is not a JSON object"));
    };
    if h.take("crit") != Field::Missing {
        return Err(malformed(
            "its header has `crit` extensions, which tokenward does not understand",
        ));
    }
    let alg = match h.take("alg").into_str() {
        Some(a) => Algorithm::from_name(&a)?,
        None => return Err(malformed("its header has no `alg`")),
    };
    Ok((alg, h.take("kid").into_str(), h.take("typ").into_str()))
}

impl<'a> Jws<'a> {
    /// Takes a compact JWS apart. Errors never quote the token.
    pub fn parse(token: &'a str) -> Result<Jws<'a>> {
        let (h, p, sig) = split(token)?;
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| malformed(&text!("its ", what, " is not base64url")))
        };
        let mut map = serde_json::from_slice::<Map<String, Value>>(&decode(h, "header")?).ok();
        let (alg, kid, typ) = header(map.as_mut().map(|m| m as &mut dyn Fields))?;
        let claims = match serde_json::from_slice::<Value>(&decode(p, "payload")?) {
            Ok(Value::Object(m)) => Claims(m),
            _ => return Err(malformed("its payload is not a JSON object")),
        };
        Ok(Jws {
            alg,
            kid,
            typ,
            signing_input: &token.as_bytes()[..h.len() + 1 + p.len()],
            signature: decode(sig, "signature")?,
            claims,
        })
    }
}

/// The runtime's signature arithmetic: true when `signature` over `signing_input` is valid for
/// `key` by `alg`. Natively ring, in the browser WebCrypto.
pub trait SignatureCheck: Send + Sync {
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], signature: &[u8]) -> bool;
}

/// Checks a parsed token's signature against `keys`. `Ok(false)` when no key fits its `kid`
/// and algorithm (the caller may refetch the key set once and try again); an error when a key
/// fits and the signature is wrong.
pub fn check_signature(jws: &Jws<'_>, keys: &KeySet, crypto: &dyn SignatureCheck) -> Result<bool> {
    let Some(key) = keys.find(jws.kid.as_deref(), jws.alg) else {
        return Ok(false);
    };
    if crypto.verify(jws.alg, key, jws.signing_input, &jws.signature) {
        Ok(true)
    } else {
        Err(bad_signature())
    }
}

/// The error for a signature that does not verify with the key that fits it.
pub fn bad_signature() -> Error {
    Error::invalid_token(
        TokenCheck::Signature,
        "the token's signature does not verify with the provider's key; it was altered or not issued by this provider",
    )
}

/// The error for a token whose key is not in the provider's set, even after a refetch.
pub fn unknown_key(jws: &Jws<'_>) -> Error {
    no_key(jws.alg, jws.kid.as_deref())
}

/// [`unknown_key`] for a token known by its header's `alg` and `kid`.
pub fn no_key(alg: Algorithm, kid: Option<&str>) -> Error {
    let kid = kid.map(|k| k.chars().take(80).collect::<String>());
    Error::invalid_token(
        TokenCheck::Key,
        match kid {
            Some(kid) => text!(
                "no ",
                alg.as_str(),
                " key `",
                kid,
                "` in the provider's key set; the token was signed by a key the provider no longer publishes (disabled or rotated out) or by someone else"
            ),
            None => text!(
                "the token names no key (`kid`) and the provider's key set has no single ",
                alg.as_str(),
                " key to check it with"
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    fn token(header: &str, payload: &str) -> String {
        text!(
            b64(header.as_bytes()),
            ".",
            b64(payload.as_bytes()),
            ".",
            b64(b"sig")
        )
    }

    #[test]
    fn none_and_hmac_are_refused_by_name() {
        for alg in ["none", "HS256", "HS512"] {
            let t = token(&text!(r#"{"alg":""#, alg, r#""}"#), r#"{"sub":"x"}"#);
            let e = Jws::parse(&t).unwrap_err();
            assert_eq!(e.token_check(), Some(TokenCheck::Algorithm), "{alg}: {e}");
        }
        let t = token(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"sub":"x"}"#,
        );
        let j = Jws::parse(&t).unwrap();
        assert_eq!(
            (j.alg, j.kid.as_deref(), j.typ.as_deref()),
            (Algorithm::RS256, Some("k1"), Some("JWT"))
        );
        assert_eq!(j.signature, b"sig");
        assert_eq!(j.claims.subject(), Some("x"));
    }

    #[test]
    fn malformed_tokens_are_format_errors_without_the_token() {
        for t in [
            "tw-opaque-token-value",
            "tw.opaque",
            "tw.a.b.c.d",
            "!!.e30.c2ln",
            &token("[]", "{}"),
            &token(r#"{"alg":"RS256","crit":["x"]}"#, "{}"),
        ] {
            let e = Jws::parse(t).unwrap_err();
            assert_eq!(e.token_check(), Some(TokenCheck::Format), "{t}: {e}");
            assert!(!e.to_string().contains(t), "{e}");
        }
    }

    fn rsa_jwk(kid: &str, extra: &str) -> String {
        text!(
            r#"{"kty":"RSA","kid":""#,
            kid,
            r#"","n":""#,
            b64(&[0xc5; 256]),
            r#"","e":"AQAB""#,
            extra,
            "}"
        )
    }

    #[test]
    fn only_signing_keys_of_a_fitting_type_are_kept() {
        let set = text!(
            r#"{"keys":["#,
            rsa_jwk("sig", r#","use":"sig","alg":"RS256""#),
            ",",
            rsa_jwk("enc", r#","use":"enc","alg":"RSA-OAEP""#),
            ",",
            rsa_jwk("short", ""),
            r#",{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},"#,
            r#"{"kty":"EC","crv":"P-256","kid":"ec","x":""#,
            b64(&[1; 32]),
            r#"","y":""#,
            b64(&[2; 32]),
            r#""}]}"#
        );
        let keys = KeySet::parse(set.as_bytes()).unwrap();
        let kids: Vec<_> = keys
            .keys
            .iter()
            .map(|k| k.kid.as_deref().unwrap())
            .collect();
        // "short" is a full 2048-bit key too (same helper); enc and oct are gone.
        assert_eq!(kids, ["sig", "short", "ec"]);
        assert!(keys.find(Some("sig"), Algorithm::RS256).is_some());
        assert!(
            keys.find(Some("sig"), Algorithm::PS256).is_none(),
            "the key says RS256 only"
        );
        assert!(keys.find(Some("ec"), Algorithm::ES256).is_some());
        assert!(keys.find(Some("ec"), Algorithm::RS256).is_none());
        assert!(keys.find(Some("nope"), Algorithm::RS256).is_none());
        assert!(
            keys.find(None, Algorithm::ES256).is_some(),
            "the only EC key"
        );
        assert!(
            keys.find(None, Algorithm::RS256).is_none(),
            "two RSA keys: ambiguous"
        );
    }

    #[test]
    fn hostile_key_sets_are_refused_with_a_reason() {
        let many = text!(
            r#"{"keys":["#,
            vec![rsa_jwk("k", ""); MAX_KEYS + 1].join(","),
            "]}"
        );
        let e = KeySet::parse(many.as_bytes()).unwrap_err();
        assert_eq!(e.token_check(), Some(TokenCheck::KeySet));
        assert!(e.to_string().contains("keys"), "{e}");
        let big = vec![b' '; MAX_KEY_SET_BYTES + 1];
        assert_eq!(
            KeySet::parse(&big).unwrap_err().token_check(),
            Some(TokenCheck::KeySet)
        );
        assert_eq!(
            KeySet::parse(b"<html>").unwrap_err().token_check(),
            Some(TokenCheck::KeySet)
        );
        let weak = r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        assert!(
            KeySet::parse(weak.as_bytes()).unwrap().keys.is_empty(),
            "a 24-bit RSA key"
        );
    }

    #[test]
    fn keys_read_one_by_one_and_the_index_of_the_one_to_use() {
        // As the browser package reads a set: each member through `Fields`, kept in order.
        let members = [
            rsa_jwk("enc", r#","use":"enc""#),
            rsa_jwk("wrap", r#","key_ops":["wrapKey"]"#),
            rsa_jwk("rs", r#","key_ops":["verify"],"alg":"RS256""#),
            text!(
                r#"{"kty":"EC","crv":"P-384","kid":"ec","x":""#,
                b64(&[1; 48]),
                r#"","y":""#,
                b64(&[2; 48]),
                r#""}"#
            ),
        ];
        let read: Vec<Option<Jwk>> = members
            .iter()
            .map(|m| {
                let mut k: Map<String, Value> = serde_json::from_str(m).unwrap();
                Jwk::from_fields(&mut k)
            })
            .collect();
        assert!(read[0].is_none() && read[1].is_none(), "not signing keys");
        let set = KeySet {
            keys: read.into_iter().flatten().collect(),
        };
        assert_eq!(set.position(Some("rs"), Algorithm::RS256), Some(0));
        assert_eq!(set.position(None, Algorithm::ES384), Some(1));
        assert_eq!(set.position(Some("ec"), Algorithm::ES256), None);
        assert_eq!(set.position(Some("rs"), Algorithm::PS256), None);
        assert!(check_key_count(MAX_KEYS).is_ok() && check_key_count(MAX_KEYS + 1).is_err());
        let mut h: Map<String, Value> =
            serde_json::from_str(r#"{"alg":"ES384","kid":"ec"}"#).unwrap();
        let (alg, kid, _) = header(Some(&mut h)).unwrap();
        assert_eq!((alg, kid.as_deref()), (Algorithm::ES384, Some("ec")));
        let e = header(None).unwrap_err();
        assert_eq!(e.token_check(), Some(TokenCheck::Format));
    }

    #[test]
    fn b64url_answers_as_the_base64_crate_does() {
        let mut inputs: Vec<String> = [
            "", "A", "AA", "AB", "AAA", "AAB", "AQAB", "-_8", "a+b/", "ab=", "é",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            let enc = b64(&bytes);
            inputs.push(enc.clone());
            // One character changed to each of a few others, and one dropped.
            for c in ['A', 'B', 'z', '_', '.'] {
                if let Some((i, _)) = enc.char_indices().nth(usize::from(n) % enc.len().max(1)) {
                    let mut e = enc.clone();
                    e.replace_range(i..i + 1, &c.to_string());
                    inputs.push(e);
                }
            }
            inputs.push(enc[..enc.len().saturating_sub(1)].to_string());
        }
        for i in &inputs {
            assert_eq!(b64url(i), URL_SAFE_NO_PAD.decode(i).ok(), "{i:?}");
        }
    }
}
