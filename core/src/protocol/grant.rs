//! The token endpoint's grants: pure functions from provider + config to [`HttpRequest`].
//! Nothing here does I/O. Client authentication is added by [`form_post_for`] (its own module);
//! requests that are not grants (revocation, introspection, logout) are in [`crate::session`].

use crate::prelude::*;

use crate::client_auth::form_post_for;
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::http::HttpRequest;
use crate::provider::Provider;
use crate::secret::Secret;

/// `grant_type=client_credentials`, with the scopes (space-separated) when any are given.
pub fn client_credentials(
    provider: &Provider,
    config: &ClientConfig,
    scopes: &[String],
) -> Result<HttpRequest> {
    if !config.can_use_client_credentials() {
        return Err(Error::config(
            "client credentials need a client secret; a public client must log a user in instead",
        ));
    }
    let scope = scopes.join(" ");
    let mut params = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    if let Some(aud) = &config.audience {
        params.push(("audience", aud));
    }
    form_post_for(provider, &provider.token_endpoint, config, &params)
}

/// `grant_type=authorization_code` with the PKCE verifier and the exact redirect URI used.
pub fn authorization_code(
    provider: &Provider,
    config: &ClientConfig,
    code: &str,
    redirect_uri: &str,
    code_verifier: &Secret,
) -> Result<HttpRequest> {
    form_post_for(
        provider,
        &provider.token_endpoint,
        config,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier.expose()),
        ],
    )
}

/// `grant_type=refresh_token`. Scopes are omitted unless narrowed: the server then keeps the
/// original grant's scopes.
pub fn refresh_token(
    provider: &Provider,
    config: &ClientConfig,
    refresh_token: &Secret,
    scopes: Option<&[String]>,
) -> Result<HttpRequest> {
    let scope = scopes.map(|s| s.join(" ")).unwrap_or_default();
    let mut params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    form_post_for(provider, &provider.token_endpoint, config, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthMethod;
    use crate::http::Method;
    use crate::session::{end_session_redirect, introspection, revocation, TokenKind};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn provider() -> Provider {
        Provider::keycloak("https://auth.test.ecocoa.ch", "vion").unwrap()
    }

    fn body(r: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(r.body().unwrap().expose().as_bytes())
            .into_owned()
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn client_credentials_post_puts_the_secret_in_the_form() {
        let c = ClientConfig::new("svc").secret("s3cr&t=");
        let r =
            client_credentials(&provider(), &c, &["invoicing".into(), "directory".into()]).unwrap();
        assert_eq!(r.method, Method::Post);
        assert!(r
            .url
            .ends_with("/realms/vion/protocol/openid-connect/token"));
        assert_eq!(
            body(&r),
            [
                pair("grant_type", "client_credentials"),
                pair("scope", "invoicing directory"),
                pair("client_id", "svc"),
                pair("client_secret", "s3cr&t="),
            ]
        );
        assert!(r
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/x-www-form-urlencoded"));
        assert!(!format!("{r:?}").contains("s3cr"));
    }

    #[test]
    fn client_secret_basic_uses_the_header_only() {
        let c = ClientConfig::new("my client")
            .secret("p:w")
            .auth_method(AuthMethod::ClientSecretBasic);
        let r = client_credentials(&provider(), &c, &[]).unwrap();
        assert_eq!(body(&r), [pair("grant_type", "client_credentials")]);
        let auth = &r
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap()
            .1;
        let decoded = STANDARD
            .decode(auth.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"my+client:p%3Aw");
    }

    #[test]
    fn public_client_code_exchange_sends_verifier_and_redirect() {
        let c = ClientConfig::new("vion-spa");
        let r = authorization_code(
            &provider(),
            &c,
            "the-code",
            "http://127.0.0.1:8765/callback",
            &Secret::new("v".repeat(43)),
        )
        .unwrap();
        assert_eq!(
            body(&r),
            [
                pair("grant_type", "authorization_code"),
                pair("code", "the-code"),
                pair("redirect_uri", "http://127.0.0.1:8765/callback"),
                pair("code_verifier", &"v".repeat(43)),
                pair("client_id", "vion-spa"),
            ]
        );
    }

    #[test]
    fn refresh_revoke_introspect_and_logout() {
        let c = ClientConfig::new("svc").secret("s");
        let rt = Secret::new("rt");
        let r = refresh_token(&provider(), &c, &rt, None).unwrap();
        assert_eq!(
            body(&r)[..2],
            [
                pair("grant_type", "refresh_token"),
                pair("refresh_token", "rt")
            ]
        );
        let r = revocation(&provider(), &c, &rt, TokenKind::RefreshToken).unwrap();
        assert!(r.url.ends_with("/revoke"));
        assert_eq!(body(&r)[1], pair("token_type_hint", "refresh_token"));
        let r = introspection(&provider(), &c, &rt, TokenKind::AccessToken).unwrap();
        assert!(r.url.ends_with("/token/introspect"));
        let url = end_session_redirect(
            &provider(),
            &c,
            Some(&Secret::new("idt")),
            Some("https://app.example/bye"),
            None,
        )
        .unwrap()
        .url();
        assert_eq!(
            url,
            "https://auth.test.ecocoa.ch/realms/vion/protocol/openid-connect/logout?client_id=svc&id_token_hint=idt&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"
        );
        let bare = Provider::from_token_url("https://idp.example/oauth/token").unwrap();
        assert!(revocation(&bare, &c, &rt, TokenKind::AccessToken)
            .unwrap_err()
            .to_string()
            .contains("revocation endpoint"));
    }

    #[test]
    fn invalid_config_is_refused_before_anything_is_built() {
        let c = ClientConfig::new("").secret("s");
        assert!(client_credentials(&provider(), &c, &[]).is_err());
        let public = ClientConfig::new("spa");
        let e = client_credentials(&provider(), &public, &[]).unwrap_err();
        assert!(e.to_string().contains("need a client secret"), "{e}");
    }
}
