//! The native signers of client assertions ([`crate::client_assertion`]): `private_key_jwt`
//! with an RSA (RS256) or EC (ES256 / ES384) private key from a PEM file or PKCS#8 bytes, and
//! `client_secret_jwt` (HS256 with the client secret), both with ring.
//!
//! The key's bytes are read into buffers zeroized on drop and handed to ring, whose key
//! objects hold them from then on (ring does not zeroize its own copies; they live in this
//! process only). `Debug` shows the algorithm and key id, never the key.

use crate::prelude::*;

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::client_assertion::{AssertionSigner, ClientSigner};
use crate::config::{AuthMethod, ClientConfig};
use crate::error::{Error, Result};
use crate::secret::Secret;

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str),
}

/// A client's private key for `private_key_jwt`.
pub struct PrivateKey {
    key: Key,
    kid: String,
    rng: SystemRandom,
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

fn key_error(what: &str) -> Error {
    Error::Config(format!(
        "the client's private key {what}; use an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) with an RSA (2048+ bits) or EC P-256/P-384 key: `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem` converts one"
    ))
}

impl PrivateKey {
    /// Reads a PEM file: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 RSA (`BEGIN RSA PRIVATE KEY`).
    /// `kid` names the key in the client's registered key set; `None` uses its RFC 7638
    /// thumbprint.
    pub fn from_pem_file(path: impl AsRef<Path>, kid: Option<&str>) -> Result<PrivateKey> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::Config(format!(
                "cannot read the private key file {}: {}",
                path.display(),
                e.kind()
            ))
        })?);
        let text = core::str::from_utf8(&bytes).map_err(|_| key_error("file is not PEM text"))?;
        PrivateKey::from_pem(text, kid)
    }

    /// Parses PEM text (see [`PrivateKey::from_pem_file`]).
    pub fn from_pem(pem: &str, kid: Option<&str>) -> Result<PrivateKey> {
        let (label, der) = pem_body(pem)?;
        match label.as_str() {
            "PRIVATE KEY" => PrivateKey::from_pkcs8(&der, kid),
            "RSA PRIVATE KEY" => {
                let key = RsaKeyPair::from_der(&der)
                    .map_err(|_| key_error("is not a usable PKCS#1 RSA key"))?;
                PrivateKey::with(Key::Rsa(key), kid)
            }
            "ENCRYPTED PRIVATE KEY" => Err(key_error("is encrypted")),
            "EC PRIVATE KEY" => Err(key_error("is in the SEC1 form")),
            _ => Err(key_error("is not a private key")),
        }
    }

    /// Reads PKCS#8 DER bytes (RSA or EC).
    pub fn from_pkcs8(der: &[u8], kid: Option<&str>) -> Result<PrivateKey> {
        if let Ok(key) = RsaKeyPair::from_pkcs8(der) {
            return PrivateKey::with(Key::Rsa(key), kid);
        }
        let rng = SystemRandom::new();
        for (alg, name) in [
            (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "ES256"),
            (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "ES384"),
        ] {
            if let Ok(key) = EcdsaKeyPair::from_pkcs8(alg, der, &rng) {
                return PrivateKey::with(Key::Ec(key, name), kid);
            }
        }
        Err(key_error(
            "is neither an RSA nor an EC P-256/P-384 PKCS#8 key",
        ))
    }

    fn with(key: Key, kid: Option<&str>) -> Result<PrivateKey> {
        let kid = match kid {
            Some(k) if !k.trim().is_empty() => k.to_string(),
            _ => thumbprint(&key),
        };
        Ok(PrivateKey {
            key,
            kid,
            rng: SystemRandom::new(),
        })
    }

    /// The key id the assertions carry.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (for the client's registration at the provider).
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut jwk = public_members(&self.key);
        jwk["kid"] = self.kid.clone().into();
        jwk["use"] = "sig".into();
        jwk["alg"] = self.algorithm().into();
        jwk
    }

    pub fn into_signer(self) -> ClientSigner {
        ClientSigner::new(self)
    }
}

/// RFC 7638 members of the public key, in the order the thumbprint hashes them.
fn public_members(key: &Key) -> serde_json::Value {
    match key {
        Key::Rsa(k) => {
            let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
            let trim = |b: &[u8]| b[b.iter().take_while(|x| **x == 0).count()..].to_vec();
            let (n, e) = (trim(&c.n), trim(&c.e));
            serde_json::json!({"e": URL_SAFE_NO_PAD.encode(e), "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n)})
        }
        Key::Ec(k, alg) => {
            let point = k.public_key().as_ref();
            let half = (point.len() - 1) / 2;
            let crv = if *alg == "ES256" { "P-256" } else { "P-384" };
            serde_json::json!({"crv": crv, "kty": "EC",
                "x": URL_SAFE_NO_PAD.encode(&point[1..1 + half]),
                "y": URL_SAFE_NO_PAD.encode(&point[1 + half..])})
        }
    }
}

fn thumbprint(key: &Key) -> String {
    // serde_json's maps are sorted, so this is RFC 7638's canonical form.
    let canonical = public_members(key).to_string();
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The label and the decoded body of the first PEM block.
fn pem_body(pem: &str) -> Result<(String, Zeroizing<Vec<u8>>)> {
    let start = pem
        .find("-----BEGIN ")
        .ok_or_else(|| key_error("is not PEM (no BEGIN line)"))?;
    let rest = &pem[start + 11..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| key_error("has a broken BEGIN line"))?;
    let label = rest[..label_end].to_string();
    let body_and_end = &rest[label_end + 5..];
    let end = body_and_end
        .find("-----END ")
        .ok_or_else(|| key_error("has no END line"))?;
    let b64: Zeroizing<String> = Zeroizing::new(
        body_and_end[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    let der = STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| key_error("has a body that is not base64"))?;
    Ok((label, Zeroizing::new(der)))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_jti() -> Result<String> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Config(format!("the OS random generator failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn signing_failed() -> Error {
    Error::Config("signing the client assertion failed; check the private key".into())
}

impl AssertionSigner for PrivateKey {
    fn algorithm(&self) -> &str {
        match &self.key {
            Key::Rsa(_) => "RS256",
            Key::Ec(_, alg) => alg,
        }
    }

    fn key_id(&self) -> Option<&str> {
        Some(&self.kid)
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        match &self.key {
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    signing_input,
                    &mut sig,
                )
                .map_err(|_| signing_failed())?;
                Ok(sig)
            }
            Key::Ec(k, _) => k
                .sign(&self.rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| signing_failed()),
        }
    }

    fn unix_time(&self) -> u64 {
        unix_now()
    }

    fn jti(&self) -> Result<String> {
        new_jti()
    }
}

/// `client_secret_jwt`: HS256 keyed with the client secret's bytes (as Keycloak checks it).
pub struct SecretSigner {
    key: ring::hmac::Key,
}

impl SecretSigner {
    pub fn new(secret: &Secret) -> SecretSigner {
        SecretSigner {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.expose().as_bytes()),
        }
    }
}

impl core::fmt::Debug for SecretSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretSigner([redacted])")
    }
}

impl AssertionSigner for SecretSigner {
    fn algorithm(&self) -> &str {
        "HS256"
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        Ok(ring::hmac::sign(&self.key, signing_input).as_ref().to_vec())
    }

    fn unix_time(&self) -> u64 {
        unix_now()
    }

    fn jti(&self) -> Result<String> {
        new_jti()
    }
}

/// What the native runtime adds to a configuration before use: the HS256 signer of
/// `client_secret_jwt`, made from the secret.
pub(crate) fn complete_config(config: &mut ClientConfig) {
    if config.auth_method == Some(AuthMethod::ClientSecretJwt) && config.signer.is_none() {
        if let Some(secret) = &config.client_secret {
            config.signer = Some(ClientSigner::new(SecretSigner::new(secret)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_assertion::client_assertion;
    use crate::jws::{Jwk, KeySet, SignatureCheck};

    const KEY_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/keycloak/keys/");

    #[test]
    fn rsa_and_ec_keys_sign_what_their_public_halves_verify() {
        for (file, alg) in [("vion-jwt-rsa.pem", "RS256"), ("vion-jwt-ec.pem", "ES256")] {
            let key = PrivateKey::from_pem_file(format!("{KEY_DIR}{file}"), Some("k")).unwrap();
            assert_eq!(key.algorithm(), alg);
            let debug = format!("{key:?}");
            assert!(
                debug.contains("[redacted]") && !debug.contains("MII"),
                "{debug}"
            );
            let jwt = client_assertion(&key, "vion-jwt", "http://127.0.0.1/realms/vion").unwrap();
            let set = serde_json::json!({"keys": [key.public_jwk()]}).to_string();
            let jwk: Jwk = KeySet::parse(set.as_bytes()).unwrap().keys.remove(0);
            let parts: Vec<&str> = jwt.expose().rsplitn(2, '.').collect();
            let sig = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
            let algorithm = crate::jws::Algorithm::from_name(alg).unwrap();
            assert!(crate::native::signature::RingSignatures.verify(
                algorithm,
                &jwk,
                parts[1].as_bytes(),
                &sig
            ));
        }
        let thumb = PrivateKey::from_pem_file(format!("{KEY_DIR}vion-jwt-rsa.pem"), None).unwrap();
        assert_eq!(thumb.key_id().len(), 43);
    }

    #[test]
    fn unusable_keys_say_how_to_fix_them() {
        let e = PrivateKey::from_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("openssl pkcs8"), "{e}");
        assert!(PrivateKey::from_pem("not a key", None).is_err());
        assert!(PrivateKey::from_pkcs8(b"\x30\x03\x02\x01\x00", None).is_err());
        let e = PrivateKey::from_pem_file("/nonexistent/key.pem", None).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
