//! Who the client is and how it authenticates: everything a flow needs besides the endpoints.

use crate::prelude::*;

use crate::client_assertion::ClientSigner;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::text::text;

/// How the client proves its identity at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_id` + `client_secret` in the form body: what all four seed APIs document.
    ClientSecretPost,
    /// `Authorization: Basic base64(id:secret)`.
    ClientSecretBasic,
    /// A public client (SPA, native app): `client_id` only, PKCE protects the code.
    None,
    /// A JWT signed with the client's private key (RFC 7523; Keycloak's `client-jwt`).
    PrivateKeyJwt,
    /// A JWT signed with HS256 and the client secret (Keycloak's `client-secret-jwt`).
    ClientSecretJwt,
}

impl AuthMethod {
    /// Every method, for bindings that list the names.
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretBasic,
        AuthMethod::None,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::ClientSecretJwt,
    ];

    /// The RFC 7591 name: `client_secret_post`, `client_secret_basic`, `none`,
    /// `private_key_jwt` or `client_secret_jwt`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::None => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
        }
    }

    /// Parses `post`, `basic`, `none` and the RFC names (`client_secret_post`,
    /// `private_key_jwt`, `client_secret_jwt`, ...).
    pub fn parse(s: &str) -> Result<AuthMethod> {
        match s {
            "post" | "client_secret_post" => Ok(AuthMethod::ClientSecretPost),
            "basic" | "client_secret_basic" => Ok(AuthMethod::ClientSecretBasic),
            "none" => Ok(AuthMethod::None),
            "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
            "client_secret_jwt" => Ok(AuthMethod::ClientSecretJwt),
            _ => Err(Error::config(text!(
                "unknown client auth method `",
                s,
                "`; use post, basic, none, private_key_jwt or client_secret_jwt"
            ))),
        }
    }

    /// A binding's `auth_method` setting: [`parse`](Self::parse)'s names, or `auto` (`None`:
    /// `client_secret_post` when a secret is set, else `none`).
    pub fn parse_setting(s: &str) -> Result<Option<AuthMethod>> {
        match s {
            "auto" => Ok(None),
            _ => AuthMethod::parse(s).map(Some),
        }
    }
}

/// The client's registration and preferences. Build with [`ClientConfig::new`] and the
/// chained setters.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// Signs client assertions (`private_key_jwt`, `client_secret_jwt`). The native runtime
    /// fills it from the key file or, for `client_secret_jwt`, from the secret.
    pub signer: Option<ClientSigner>,
    /// `None` picks `ClientSecretPost` when a secret is set, else `AuthMethod::None`.
    pub auth_method: Option<AuthMethod>,
    /// Scopes asked for by default (client credentials, login, refresh).
    pub scopes: Vec<String>,
    /// Part of the cache key: tokens for different audiences are never mixed up.
    pub audience: Option<String>,
    pub redirect_uri: Option<String>,
    /// Claims every access token must carry (Docbyte: `tenant`); checked as soon as a token
    /// arrives so the caller gets `MissingClaim` instead of a 401 from the API later.
    pub required_claims: Vec<String>,
}

impl ClientConfig {
    pub fn new(client_id: impl Into<String>) -> Self {
        ClientConfig {
            client_id: client_id.into(),
            client_secret: None,
            signer: None,
            auth_method: None,
            scopes: Vec::new(),
            audience: None,
            redirect_uri: None,
            required_claims: Vec::new(),
        }
    }

    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Authenticates with JWTs `signer` signs: `private_key_jwt` unless the method is set to
    /// `client_secret_jwt`.
    pub fn signer(mut self, signer: ClientSigner) -> Self {
        if self.auth_method != Some(AuthMethod::ClientSecretJwt) {
            self.auth_method = Some(AuthMethod::PrivateKeyJwt);
        }
        self.signer = Some(signer);
        self
    }

    pub fn auth_method(mut self, method: AuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// Space-separated scopes, as OAuth writes them (`"openid user_impersonation"`).
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes = split_scope(scope);
        self
    }

    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    pub fn require_claim(mut self, claim: impl Into<String>) -> Self {
        self.required_claims.push(claim.into());
        self
    }

    /// The method actually used, after applying the default.
    pub fn effective_auth_method(&self) -> AuthMethod {
        self.auth_method
            .unwrap_or(match (&self.client_secret, &self.signer) {
                (_, Some(_)) => AuthMethod::PrivateKeyJwt,
                (Some(_), None) => AuthMethod::ClientSecretPost,
                (None, None) => AuthMethod::None,
            })
    }

    /// Checks what can be checked without a network: a client id, a secret when the method
    /// needs one, a redirect URI that is https or loopback (or a private-use scheme).
    pub fn validate(&self) -> Result<()> {
        if self.client_id.trim().is_empty() {
            return Err(Error::config(
                "the client id is empty; pass the client id the provider gave you",
            ));
        }
        let method = self.effective_auth_method();
        let needs_secret = matches!(
            method,
            AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretJwt
        );
        if method == AuthMethod::PrivateKeyJwt && self.signer.is_none() {
            return Err(Error::config(
                "private_key_jwt needs the client's private key; pass a PEM key file (RSA or EC, PKCS#8) or its bytes",
            ));
        }
        match &self.client_secret {
            None if needs_secret => {
                return Err(Error::config(
                    "this auth method needs a client secret; set one, or use auth method `none` for a public client",
                ))
            }
            Some(s) if s.is_empty() => {
                return Err(Error::config("the client secret is empty; pass the secret or leave it unset for a public client"))
            }
            _ => {}
        }
        if let Some(uri) = &self.redirect_uri {
            check_redirect_uri(uri)?;
        }
        for s in &self.scopes {
            check_scope_token(s)?;
        }
        Ok(())
    }

    /// True when client credentials can be used to get a new token without a user.
    pub fn can_use_client_credentials(&self) -> bool {
        self.client_secret.is_some() || self.signer.is_some()
    }
}

/// Splits a space-separated scope string, dropping empty parts and duplicates (order kept).
pub fn split_scope(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_ascii_whitespace() {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// RFC 6749 §3.3: printable ASCII except space, `"` and `\`.
pub(crate) fn check_scope_token(s: &str) -> Result<()> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    {
        return Err(Error::config(text!(
            "scope `",
            s,
            "` has characters OAuth does not allow in a scope (quotes, backslash, non-ASCII)"
        )));
    }
    Ok(())
}

/// Redirect URIs: https, loopback http (RFC 8252 §7.3), or a private-use scheme like
/// `com.example.app:/cb` (§7.1). Never plain http to another host.
pub(crate) fn check_redirect_uri(uri: &str) -> Result<()> {
    let shown = crate::uri::shown(uri);
    let parts = crate::uri::split(uri).map_err(|why| {
        Error::config(text!(
            "redirect URI `",
            shown,
            "` is not an absolute URL: ",
            why
        ))
    })?;
    if parts.fragment.is_some() {
        return Err(Error::config(text!(
            "redirect URI `",
            shown,
            "` must not have a #fragment"
        )));
    }
    match parts.scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => crate::http::check_url(uri, "redirect URI"),
        s if s.contains('.') => Ok(()),
        s => Err(Error::config(text!(
            "redirect URI scheme `",
            s,
            "` is neither https, loopback http nor a private-use scheme like com.example.app"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_auth_method_follows_the_secret() {
        assert_eq!(
            ClientConfig::new("a").effective_auth_method(),
            AuthMethod::None
        );
        assert_eq!(
            ClientConfig::new("a").secret("s").effective_auth_method(),
            AuthMethod::ClientSecretPost
        );
    }

    #[test]
    fn validation_says_what_to_fix() {
        assert!(ClientConfig::new(" ")
            .validate()
            .unwrap_err()
            .to_string()
            .contains("client id"));
        let e = ClientConfig::new("a")
            .auth_method(AuthMethod::ClientSecretBasic)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("needs a client secret"));
        assert!(ClientConfig::new("a").secret("").validate().is_err());
        assert!(ClientConfig::new("a")
            .redirect_uri("http://evil.example/cb")
            .validate()
            .is_err());
        assert!(ClientConfig::new("a")
            .redirect_uri("http://127.0.0.1:5555/cb")
            .validate()
            .is_ok());
        assert!(ClientConfig::new("a")
            .redirect_uri("com.example.app:/cb")
            .validate()
            .is_ok());
        assert!(ClientConfig::new("a")
            .scope("openid \"x")
            .validate()
            .is_err());
    }

    #[test]
    fn scopes_split_on_spaces_without_duplicates() {
        assert_eq!(
            split_scope("  openid  user_impersonation openid "),
            ["openid", "user_impersonation"]
        );
    }
}
