//! Requests about a token or session that already exists, beside the grants that obtain one:
//! revocation (RFC 7009), introspection (RFC 7662), userinfo (OIDC Core §5.3) and the
//! end-session URL (OIDC RP-initiated logout). Pure builders, like [`crate::grant`].

use crate::prelude::*;

use crate::client_auth::form_post_for;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::http::HttpRequest;
use crate::params::{Params, Redirect};
use crate::provider::Provider;
use crate::secret::Secret;

/// Which kind of token is being revoked or introspected (RFC 7009 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    AccessToken,
    RefreshToken,
}

impl TokenKind {
    fn hint(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "access_token",
            TokenKind::RefreshToken => "refresh_token",
        }
    }
}

/// RFC 7009 revocation. Revoking a Keycloak refresh token ends the session.
pub fn revocation(
    provider: &Provider,
    config: &ClientConfig,
    token: &Secret,
    kind: TokenKind,
) -> Result<HttpRequest> {
    let url = provider.endpoint(&provider.revocation_endpoint, "revocation endpoint")?;
    form_post_for(
        provider,
        url,
        config,
        &[("token", token.expose()), ("token_type_hint", kind.hint())],
    )
}

/// RFC 7662 introspection (Keycloak allows it to confidential clients only).
pub fn introspection(
    provider: &Provider,
    config: &ClientConfig,
    token: &Secret,
    kind: TokenKind,
) -> Result<HttpRequest> {
    let url = provider.endpoint(&provider.introspection_endpoint, "introspection endpoint")?;
    form_post_for(
        provider,
        url,
        config,
        &[("token", token.expose()), ("token_type_hint", kind.hint())],
    )
}

/// OIDC Core §5.3: the logged-in user's claims, asked with the access token.
pub fn userinfo(provider: &Provider, access_token: &Secret) -> Result<HttpRequest> {
    let url = provider.endpoint(&provider.userinfo_endpoint, "userinfo endpoint")?;
    Ok(HttpRequest {
        method: crate::http::Method::Get,
        url: url.to_string(),
        headers: vec![
            ("Accept".to_string(), "application/json".to_string()),
            (
                "Authorization".to_string(),
                crate::token::bearer_header(access_token.expose())
                    .expose()
                    .to_string(),
            ),
        ],
        form: None,
    })
}

/// The userinfo answer's claims: a JSON object whose `sub` is the ID token's (OIDC Core
/// §5.3.2: a different `sub` means the answer is not about this user).
pub fn userinfo_claims(body: &[u8], id_token_sub: Option<&str>) -> Result<crate::jwt::Claims> {
    let claims = crate::jwt::Claims(crate::oauth_error::json_object(body, "userinfo response")?);
    match (claims.subject(), id_token_sub) {
        (None, _) => Err(crate::error::Error::invalid(
            "the userinfo response has no `sub`",
        )),
        (Some(a), Some(b)) if a != b => Err(crate::error::Error::invalid_token(
            crate::error::TokenCheck::Issuer,
            "the userinfo response is about another user than the ID token (`sub` differs)",
        )),
        _ => Ok(claims),
    }
}

/// Keycloak's back-channel logout: a POST of the session's refresh token, with the client's
/// authentication, to the end-session endpoint ends the user's session (answered 204). What a
/// command line or a service does instead of sending a browser to [`end_session_redirect`].
pub fn end_session_request(
    provider: &Provider,
    config: &ClientConfig,
    refresh_token: &Secret,
) -> Result<HttpRequest> {
    let url = provider.endpoint(
        &provider.end_session_endpoint,
        "end-session (logout) endpoint",
    )?;
    form_post_for(
        provider,
        url,
        config,
        &[("refresh_token", refresh_token.expose())],
    )
}

/// Where OIDC RP-initiated logout sends the user: the end-session endpoint and its parameters
/// (the URL: [`Redirect::url`]). Keycloak 18+ logs out without a confirmation page only with
/// `id_token_hint`; `post_logout_redirect_uri` needs it or `client_id` (always sent).
pub fn end_session_redirect(
    provider: &Provider,
    config: &ClientConfig,
    id_token_hint: Option<&Secret>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<Redirect> {
    let endpoint = provider.endpoint(
        &provider.end_session_endpoint,
        "end-session (logout) endpoint",
    )?;
    let mut params = Params::new();
    params.add("client_id", &config.client_id);
    if let Some(h) = id_token_hint {
        params.add("id_token_hint", h.expose());
    }
    if let Some(u) = post_logout_redirect_uri {
        crate::config::check_redirect_uri(u)?;
        params.add("post_logout_redirect_uri", u);
    }
    if let Some(s) = state {
        params.add("state", s);
    }
    Ok(Redirect {
        endpoint: endpoint.to_string(),
        params,
    })
}
