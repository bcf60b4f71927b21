//! Signature arithmetic for [`crate::jws`] with ring, the crypto library rustls already links
//! (so verification adds no second one to `libtokenward`). Which algorithm a key may check is
//! decided in `jws`; this module only does the maths.

use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

use crate::jws::{Algorithm, Jwk, KeyMaterial, SignatureCheck};
use crate::prelude::*;

/// ring's verifiers.
#[derive(Debug, Clone, Copy, Default)]
pub struct RingSignatures;

impl SignatureCheck for RingSignatures {
    fn verify(&self, alg: Algorithm, key: &Jwk, signing_input: &[u8], sig: &[u8]) -> bool {
        match &key.material {
            KeyMaterial::Rsa { n, e } => {
                let params = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, signing_input, sig)
                    .is_ok()
            }
            KeyMaterial::Ec { x, y, .. } => {
                let params = match alg {
                    Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return false,
                };
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                UnparsedPublicKey::new(params, point)
                    .verify(signing_input, sig)
                    .is_ok()
            }
            KeyMaterial::Ed25519 { x } => {
                alg == Algorithm::EdDSA
                    && UnparsedPublicKey::new(&signature::ED25519, x)
                        .verify(signing_input, sig)
                        .is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::{check_signature, Jws, KeySet};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    fn signed(header: &str, payload: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let sig = sign(input.as_bytes());
        format!("{input}.{}", b64(&sig))
    }

    #[test]
    fn es256_and_eddsa_signatures_verify_and_a_flipped_byte_does_not() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let ec = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let public = ec.public_key().as_ref();
        let (x, y) = (&public[1..33], &public[33..65]);
        let ed_pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(ed_pkcs8.as_ref()).unwrap();
        let set = format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"ec1","x":"{}","y":"{}"}},{{"kty":"OKP","crv":"Ed25519","kid":"ed1","x":"{}"}}]}}"#,
            b64(x),
            b64(y),
            b64(ed.public_key().as_ref())
        );
        let keys = KeySet::parse(set.as_bytes()).unwrap();
        let es = signed(r#"{"alg":"ES256","kid":"ec1"}"#, r#"{"sub":"a"}"#, |m| {
            ec.sign(&rng, m).unwrap().as_ref().to_vec()
        });
        let eddsa = signed(r#"{"alg":"EdDSA","kid":"ed1"}"#, r#"{"sub":"b"}"#, |m| {
            ed.sign(m).as_ref().to_vec()
        });
        for token in [&es, &eddsa] {
            let jws = Jws::parse(token).unwrap();
            assert!(
                check_signature(&jws, &keys, &RingSignatures).unwrap(),
                "{token}"
            );
            let mut bad = token.clone().into_bytes();
            let at = token.find('.').unwrap() + 3; // inside the payload
            bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
            let bad = String::from_utf8(bad).unwrap();
            if let Ok(jws) = Jws::parse(&bad) {
                let e = check_signature(&jws, &keys, &RingSignatures).unwrap_err();
                assert_eq!(e.token_check(), Some(crate::TokenCheck::Signature));
            }
        }
        // The EC key cannot check an EdDSA token naming it.
        let confused = signed(r#"{"alg":"EdDSA","kid":"ec1"}"#, r#"{"sub":"b"}"#, |m| {
            ed.sign(m).as_ref().to_vec()
        });
        assert!(!check_signature(&Jws::parse(&confused).unwrap(), &keys, &RingSignatures).unwrap());
    }
}
