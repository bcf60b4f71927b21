//! PKCE (RFC 7636), always S256, and the random values a login needs (`state`, `nonce`).
//!
//! Randomness comes in through [`RandomSource`] so the browser can hand in
//! `crypto.getRandomValues` and tests can be deterministic; natively it is the OS RNG
//! ([`OsRandom`](crate::native::random::OsRandom)).

use crate::prelude::*;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Fills buffers with cryptographically secure random bytes.
pub trait RandomSource: Send + Sync {
    fn fill(&self, dest: &mut [u8]) -> Result<()>;
}

/// 32 random bytes, base64url without padding: 43 characters, 256 bits.
pub fn random_string(rng: &dyn RandomSource) -> Result<Secret> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill(&mut bytes[..])?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(&bytes[..])))
}

/// A code verifier and its S256 challenge.
#[derive(Debug, Clone)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh pair: a 43-character verifier (256 random bits) and its challenge.
    pub fn generate(rng: &dyn RandomSource) -> Result<Pkce> {
        let verifier = random_string(rng)?;
        let challenge = s256_challenge(verifier.expose());
        Ok(Pkce {
            verifier,
            challenge,
        })
    }

    /// Rebuilds the pair from a stored verifier, checking RFC 7636 §4.1's alphabet and length.
    pub fn from_verifier(verifier: &str) -> Result<Pkce> {
        let ok_len = (43..=128).contains(&verifier.len());
        let ok_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !ok_len || !ok_chars {
            return Err(Error::config(
                "a PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
            ));
        }
        Ok(Pkce {
            challenge: s256_challenge(verifier),
            verifier: Secret::new(verifier),
        })
    }

    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`; the method is always `S256`, `plain` is never sent.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u8);
    impl RandomSource for Fixed {
        fn fill(&self, dest: &mut [u8]) -> Result<()> {
            dest.fill(self.0);
            Ok(())
        }
    }

    #[test]
    fn generated_verifier_is_43_unreserved_chars() {
        let p = Pkce::generate(&Fixed(0xfb)).unwrap();
        assert_eq!(p.verifier().expose().len(), 43);
        assert!(Pkce::from_verifier(p.verifier().expose()).is_ok());
        assert_eq!(p.challenge(), s256_challenge(p.verifier().expose()));
    }
}
