//! Client authentication (RFC 6749 §2.3.1), added to every request in one place, [`form_post`]:
//! `client_secret_post` puts `client_id` and `client_secret` in the form, `client_secret_basic`
//! sends `Authorization: Basic`, a public client sends only `client_id`.

use crate::prelude::*;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::config::{AuthMethod, ClientConfig};
use crate::error::Result;
use crate::http::{HttpRequest, Method};
use crate::secret::Secret;
use crate::text::text;

/// A form POST to `url` with the client's authentication added.
pub fn form_post(url: &str, config: &ClientConfig, params: &[(&str, &str)]) -> Result<HttpRequest> {
    config.validate()?;
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Accept".to_string(), "application/json".to_string()),
    ];
    let capacity = params
        .iter()
        .map(|(k, v)| k.len() + v.len() * 3 + 2)
        .sum::<usize>()
        + 256;
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(capacity));
    form.extend_pairs(params.iter().copied());
    match (config.effective_auth_method(), &config.client_secret) {
        (AuthMethod::ClientSecretBasic, Some(secret)) => {
            // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
            let id: String = form_urlencoded::byte_serialize(config.client_id.as_bytes()).collect();
            let pw: String = form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
            let creds = Secret::new(text!(id, ":", pw));
            headers.push((
                "Authorization".to_string(),
                text!("Basic ", STANDARD.encode(creds.expose())),
            ));
        }
        (AuthMethod::ClientSecretPost, Some(secret)) => {
            form.append_pair("client_id", &config.client_id);
            form.append_pair("client_secret", secret.expose());
        }
        _ => {
            form.append_pair("client_id", &config.client_id);
        }
    }
    Ok(HttpRequest {
        method: Method::Post,
        url: url.to_string(),
        headers,
        body: Some(Secret::new(form.finish())),
    })
}
