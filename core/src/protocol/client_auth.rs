//! Client authentication (RFC 6749 §2.3.1), added to every request in one place, [`form_post`]:
//! `client_secret_post` puts `client_id` and `client_secret` in the form, `client_secret_basic`
//! sends `Authorization: Basic`, `private_key_jwt` and `client_secret_jwt` send a signed
//! assertion ([`crate::client_assertion`]), a public client sends only `client_id`.

use crate::prelude::*;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::client_assertion::ASSERTION_TYPE;
use crate::config::{AuthMethod, ClientConfig};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, Method};
use crate::params::Params;
use crate::provider::Provider;
use crate::secret::Secret;
use crate::text::text;

/// A form POST to `url` with the client's authentication added; a signed assertion is
/// addressed to `url`.
pub fn form_post(url: &str, config: &ClientConfig, params: &[(&str, &str)]) -> Result<HttpRequest> {
    form_post_to(url, url, config, params)
}

/// A form POST to one of `provider`'s endpoints: a signed assertion is addressed to the
/// provider's issuer when known (Keycloak accepts it at every endpoint), else to `url`.
pub fn form_post_for(
    provider: &Provider,
    url: &str,
    config: &ClientConfig,
    params: &[(&str, &str)],
) -> Result<HttpRequest> {
    let audience = provider.issuer.as_deref().unwrap_or(url);
    form_post_to(url, audience, config, params)
}

fn form_post_to(
    url: &str,
    audience: &str,
    config: &ClientConfig,
    params: &[(&str, &str)],
) -> Result<HttpRequest> {
    config.validate()?;
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    let mut form = Params::new();
    for (k, v) in params {
        form.add(k, v);
    }
    match (config.effective_auth_method(), &config.client_secret) {
        (AuthMethod::ClientSecretBasic, Some(secret)) => {
            // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. That is the
            // method's rule (servers differ on it), so the core writes this header itself; the
            // browser's public client never sends it.
            let id: String = form_urlencoded::byte_serialize(config.client_id.as_bytes()).collect();
            let pw: String = form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
            let creds = Secret::new(text!(id, ":", pw));
            headers.push((
                "Authorization".to_string(),
                text!("Basic ", STANDARD.encode(creds.expose())),
            ));
        }
        (AuthMethod::ClientSecretPost, Some(secret)) => {
            form.add("client_id", &config.client_id);
            form.add("client_secret", secret.expose());
        }
        (AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt, _) => {
            let signer = config.signer.as_ref().ok_or_else(|| {
                Error::config(
                    "client_secret_jwt needs a signer made from the secret; build the client with tokenward's Client (it makes one), or set ClientConfig::signer",
                )
            })?;
            let assertion = signer.0.assertion(&config.client_id, audience)?;
            form.add("client_id", &config.client_id);
            form.add("client_assertion_type", ASSERTION_TYPE);
            form.add("client_assertion", assertion.expose());
        }
        _ => {
            form.add("client_id", &config.client_id);
        }
    }
    Ok(HttpRequest {
        method: Method::Post,
        url: url.to_string(),
        headers,
        form: Some(form),
    })
}
