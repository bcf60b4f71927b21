//! Token exchange (RFC 8693), as Keycloak's standard token exchange (V2, 26.2+) takes it: a
//! confidential client trades a subject token (an access token issued to a user, with this
//! client in its audience) for one with another `audience` and/or `scope`. Pure builder; the
//! answer is a token answer ([`crate::token::parse_token_response`]).

use crate::prelude::*;

use crate::client_auth::form_post_for;
use crate::config::{check_scope_token, ClientConfig};
use crate::error::{Error, Result};
use crate::http::HttpRequest;
use crate::provider::Provider;
use crate::secret::Secret;

/// `grant_type` of a token exchange.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §3 token type identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TokenType {
    #[default]
    AccessToken,
    RefreshToken,
    IdToken,
}

impl TokenType {
    pub fn as_urn(self) -> &'static str {
        match self {
            TokenType::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            TokenType::RefreshToken => "urn:ietf:params:oauth:token-type:refresh_token",
            TokenType::IdToken => "urn:ietf:params:oauth:token-type:id_token",
        }
    }

    /// The short name (`access_token`, `refresh_token`, `id_token`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::AccessToken => "access_token",
            TokenType::RefreshToken => "refresh_token",
            TokenType::IdToken => "id_token",
        }
    }

    /// Parses the short names and the URNs.
    pub fn parse(s: &str) -> Result<TokenType> {
        let short = s
            .strip_prefix("urn:ietf:params:oauth:token-type:")
            .unwrap_or(s);
        match short {
            "access_token" => Ok(TokenType::AccessToken),
            "refresh_token" => Ok(TokenType::RefreshToken),
            "id_token" => Ok(TokenType::IdToken),
            _ => Err(Error::config(format!(
                "unknown token type `{}`; use access_token, refresh_token or id_token",
                s.chars().take(60).collect::<String>()
            ))),
        }
    }
}

/// What to exchange a subject token for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ExchangeOptions {
    /// The client id(s) the new token is for (Keycloak: a client the requester may reach).
    pub audience: Vec<String>,
    /// Scopes of the new token (narrower than, or others than, the subject token's).
    pub scopes: Vec<String>,
    /// `access_token` (default) or `refresh_token` (Keycloak then also issues a refresh token).
    pub requested_token_type: TokenType,
}

/// RFC 8693 §2.1: the exchange request, with the client's authentication.
pub fn token_exchange(
    provider: &Provider,
    config: &ClientConfig,
    subject_token: &Secret,
    subject_token_type: TokenType,
    options: &ExchangeOptions,
) -> Result<HttpRequest> {
    if subject_token.is_empty() {
        return Err(Error::config(
            "the subject token is empty; pass the access token to exchange",
        ));
    }
    if config.client_secret.is_none() && config.signer.is_none() {
        return Err(Error::config(
            "token exchange needs a confidential client (a secret or a signing key): Keycloak refuses public clients",
        ));
    }
    for s in &options.scopes {
        check_scope_token(s)?;
    }
    let scope = options.scopes.join(" ");
    let mut params = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("subject_token", subject_token.expose()),
        ("subject_token_type", subject_token_type.as_urn()),
        (
            "requested_token_type",
            options.requested_token_type.as_urn(),
        ),
    ];
    for a in &options.audience {
        params.push(("audience", a));
    }
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    form_post_for(provider, &provider.token_endpoint, config, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keycloak_v2_exchange_request() {
        let p = Provider::keycloak("https://sso.example", "vion").unwrap();
        let c = ClientConfig::new("vion-exchange").secret("s");
        let options = ExchangeOptions {
            audience: vec!["vion-service".into()],
            scopes: vec!["openid".into()],
            requested_token_type: TokenType::AccessToken,
        };
        let r = token_exchange(
            &p,
            &c,
            &Secret::new("SUBJECT"),
            TokenType::AccessToken,
            &options,
        )
        .unwrap();
        let body: Vec<(String, String)> =
            form_urlencoded::parse(r.body().unwrap().expose().as_bytes())
                .into_owned()
                .collect();
        let get = |k: &str| body.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("grant_type"), Some(TOKEN_EXCHANGE_GRANT));
        assert_eq!(get("subject_token"), Some("SUBJECT"));
        assert_eq!(
            get("subject_token_type"),
            Some("urn:ietf:params:oauth:token-type:access_token")
        );
        assert_eq!(get("audience"), Some("vion-service"));
        assert_eq!(get("scope"), Some("openid"));
        assert!(!format!("{r:?}").contains("SUBJECT"));
        let public = ClientConfig::new("spa");
        let e = token_exchange(
            &p,
            &public,
            &Secret::new("x"),
            TokenType::AccessToken,
            &options,
        )
        .unwrap_err();
        assert!(e.to_string().contains("confidential client"), "{e}");
        assert_eq!(
            TokenType::parse("refresh_token"),
            Ok(TokenType::RefreshToken)
        );
        assert!(TokenType::parse("saml2").is_err());
    }
}
