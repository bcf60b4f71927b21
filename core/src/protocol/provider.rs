//! Where the identity provider's endpoints are: four ways to say it.
//!
//! 1. [`Provider::keycloak`]: a Keycloak base URL and a realm; endpoints are built, no network.
//! 2. [`Provider::from_template`]: a URL template such as Docbyte's
//!    `https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}`, filled from values.
//! 3. [`Provider::from_token_url`]: a bare token URL, as the ecoinvent and Iopole pages give.
//!    A Keycloak-shaped one (`.../realms/R/protocol/openid-connect/token`) yields every endpoint.
//! 4. Discovery: [`Provider::discovery_url`] then [`Provider::from_discovery`] on the response
//!    (the blocking `Client::discover` does both).

use crate::prelude::*;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::check_url;
use crate::text::text;

const KEYCLOAK_OIDC: &str = "/protocol/openid-connect";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provider {
    /// The `iss` of tokens and callbacks. Unknown for a bare non-Keycloak token URL.
    pub issuer: Option<String>,
    pub token_endpoint: String,
    pub authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    /// The server promised `iss` on every authorization response (RFC 9207), so a callback
    /// without it is refused.
    pub callback_iss_required: bool,
}

impl Provider {
    /// Keycloak's endpoints for `realm` under `base_url` (e.g. `https://auth.test.ecocoa.ch`).
    pub fn keycloak(base_url: &str, realm: &str) -> Result<Provider> {
        if realm.is_empty() || realm.contains(['/', '?', '#']) {
            return Err(Error::config(text!(
                "realm `",
                realm,
                "` is not a realm name; pass just the name, e.g. `vion`"
            )));
        }
        let base = base_url.trim_end_matches('/');
        Provider::keycloak_issuer(&text!(base, "/realms/", encode_segment(realm)))
    }

    /// Keycloak's endpoints from a realm's issuer URL (`https://host/realms/vion`).
    pub fn keycloak_issuer(issuer: &str) -> Result<Provider> {
        let issuer = issuer.trim_end_matches('/');
        check_url(issuer, "issuer URL")?;
        if !has_realm_suffix(issuer) {
            return Err(Error::config(text!(
                "`",
                issuer,
                "` is not a Keycloak realm URL (expected `.../realms/<realm>`); \
                 use discovery or a token URL for other providers"
            )));
        }
        let oidc = text!(issuer, KEYCLOAK_OIDC);
        Ok(Provider {
            issuer: Some(issuer.to_string()),
            token_endpoint: text!(oidc, "/token"),
            authorization_endpoint: Some(text!(oidc, "/auth")),
            revocation_endpoint: Some(text!(oidc, "/revoke")),
            introspection_endpoint: Some(text!(oidc, "/token/introspect")),
            end_session_endpoint: Some(text!(oidc, "/logout")),
            userinfo_endpoint: Some(text!(oidc, "/userinfo")),
            jwks_uri: Some(text!(oidc, "/certs")),
            device_authorization_endpoint: Some(text!(oidc, "/auth/device")),
            callback_iss_required: false,
        })
    }

    /// Fills `{name}` placeholders in `template` from `values` and builds the provider from the
    /// result: a Keycloak realm URL, or a token URL. A placeholder without a value, or a value
    /// that matches no placeholder, is an error that names it.
    pub fn from_template(template: &str, values: &[(&str, &str)]) -> Result<Provider> {
        let url = fill_template(template, values)?;
        if url.trim_end_matches('/').ends_with("/token") {
            Provider::from_token_url(&url)
        } else {
            Provider::keycloak_issuer(&url)
        }
    }

    /// A provider known only by its token endpoint. When the URL has Keycloak's shape the
    /// realm's other endpoints and issuer are derived from it.
    pub fn from_token_url(token_url: &str) -> Result<Provider> {
        check_url(token_url, "token URL")?;
        let suffix = format!("{KEYCLOAK_OIDC}/token");
        if let Some(issuer) = token_url.strip_suffix(&suffix) {
            if has_realm_suffix(issuer) {
                return Provider::keycloak_issuer(issuer);
            }
        }
        Ok(Provider {
            token_endpoint: token_url.to_string(),
            ..Provider::default()
        })
    }

    /// `issuer` + `/.well-known/openid-configuration` (OIDC Discovery §4).
    pub fn discovery_url(issuer: &str) -> Result<String> {
        let issuer = issuer.trim_end_matches('/');
        check_url(issuer, "issuer URL")?;
        Ok(text!(issuer, "/.well-known/openid-configuration"))
    }

    /// Parses a discovery document. Its `issuer` must equal the one asked for (a mix-up
    /// defence), and every endpoint must pass the https rule.
    pub fn from_discovery(expected_issuer: &str, body: &[u8]) -> Result<Provider> {
        #[derive(Deserialize)]
        struct Doc {
            issuer: String,
            token_endpoint: Option<String>,
            authorization_endpoint: Option<String>,
            revocation_endpoint: Option<String>,
            introspection_endpoint: Option<String>,
            end_session_endpoint: Option<String>,
            userinfo_endpoint: Option<String>,
            jwks_uri: Option<String>,
            device_authorization_endpoint: Option<String>,
            #[serde(default)]
            authorization_response_iss_parameter_supported: bool,
        }
        let doc: Doc = serde_json::from_slice(body).map_err(|e| {
            Error::invalid(format!(
                "the discovery document is not valid OpenID configuration JSON ({e})"
            ))
        })?;
        let expected = expected_issuer.trim_end_matches('/');
        if doc.issuer != expected {
            return Err(Error::IssuerMismatch {
                expected: expected.to_string(),
                found: doc.issuer,
            });
        }
        let token_endpoint = doc
            .token_endpoint
            .ok_or_else(|| Error::invalid("the discovery document has no `token_endpoint`"))?;
        let checked = |u: Option<String>, what: &str| -> Result<Option<String>> {
            match u {
                Some(u) => check_url(&u, what).map(|_| Some(u)),
                None => Ok(None),
            }
        };
        check_url(&token_endpoint, "token_endpoint")?;
        Ok(Provider {
            issuer: Some(doc.issuer),
            token_endpoint,
            authorization_endpoint: checked(doc.authorization_endpoint, "authorization_endpoint")?,
            revocation_endpoint: checked(doc.revocation_endpoint, "revocation_endpoint")?,
            introspection_endpoint: checked(doc.introspection_endpoint, "introspection_endpoint")?,
            end_session_endpoint: checked(doc.end_session_endpoint, "end_session_endpoint")?,
            userinfo_endpoint: checked(doc.userinfo_endpoint, "userinfo_endpoint")?,
            jwks_uri: checked(doc.jwks_uri, "jwks_uri")?,
            device_authorization_endpoint: checked(
                doc.device_authorization_endpoint,
                "device_authorization_endpoint",
            )?,
            callback_iss_required: doc.authorization_response_iss_parameter_supported,
        })
    }

    /// The endpoint or a config error naming what is missing (a bare token URL has only one).
    pub(crate) fn endpoint<'a>(&self, url: &'a Option<String>, what: &str) -> Result<&'a str> {
        url.as_deref().ok_or_else(|| {
            Error::config(text!("the provider has no ", what, "; describe it by Keycloak base URL + realm or by discovery instead of a bare token URL"))
        })
    }
}

fn has_realm_suffix(url: &str) -> bool {
    url.rsplit_once('/')
        .is_some_and(|(rest, realm)| !realm.is_empty() && rest.ends_with("/realms"))
}
/// A realm name as one path segment: RFC 3986's unreserved characters stay as they are
/// (Keycloak refuses a path with `%2D` for `-` as "not normalized"), everything else is
/// percent-encoded.

fn encode_segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).collect()
}

/// Replaces each `{name}` with its value. Values must be plain host labels or path segments:
/// anything that could change the URL's structure (`/ ? # @ :` or white space) is refused.
pub fn fill_template(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if rest[..open].contains('}') {
            return Err(Error::config(format!(
                "template `{template}` has a `}}` without an opening `{{`"
            )));
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            Error::config(format!(
                "template `{template}` has a `{{` without a closing `}}`"
            ))
        })?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::config(format!(
                "template placeholder `{{{name}}}` is not a name; use letters, digits, `_` or `-`"
            )));
        }
        names.push(name);
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                Error::config(format!(
                    "template placeholder `{{{name}}}` has no value; pass {name}=..."
                ))
            })?;
        if value.is_empty()
            || value.chars().any(|c| {
                matches!(c, '/' | '?' | '#' | '@' | ':' | '{' | '}' | '%') || c.is_whitespace()
            })
        {
            return Err(Error::config(format!(
                "value `{value}` for `{{{name}}}` must be a plain name (no `/ ? # @ : %` or spaces)"
            )));
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(Error::config(format!(
            "template `{template}` has a `}}` without an opening `{{`"
        )));
    }
    out.push_str(rest);
    if let Some((unknown, _)) = values.iter().find(|(k, _)| !names.contains(k)) {
        return Err(Error::config(format!(
            "value `{unknown}` matches no placeholder in the template (placeholders: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn realm_names_keep_their_unreserved_characters() {
        let p = Provider::keycloak("https://kc.example", "tw-rotation_1.a~b").unwrap();
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://kc.example/realms/tw-rotation_1.a~b")
        );
        assert!(Provider::keycloak("https://kc.example", "a b/c").is_err());
    }


    #[test]
    fn keycloak_base_and_realm_give_every_endpoint() {
        let p = Provider::keycloak("https://auth.test.ecocoa.ch/", "vion").unwrap();
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://auth.test.ecocoa.ch/realms/vion")
        );
        assert_eq!(
            p.token_endpoint,
            "https://auth.test.ecocoa.ch/realms/vion/protocol/openid-connect/token"
        );
        assert_eq!(
            p.authorization_endpoint.as_deref(),
            Some("https://auth.test.ecocoa.ch/realms/vion/protocol/openid-connect/auth")
        );
        assert!(Provider::keycloak("https://x", "a/b").is_err());
    }

    #[test]
    fn bare_token_urls() {
        let p = Provider::from_token_url(
            "https://sso.ecoinvent.org/realms/ecoinvent/protocol/openid-connect/token",
        )
        .unwrap();
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://sso.ecoinvent.org/realms/ecoinvent")
        );
        assert!(p.revocation_endpoint.is_some());
        let p = Provider::from_token_url("https://idp.example.com/oauth2/token").unwrap();
        assert_eq!(p.issuer, None);
        assert_eq!(p.revocation_endpoint, None);
        assert!(p
            .endpoint(&p.revocation_endpoint, "revocation endpoint")
            .is_err());
        assert!(matches!(
            Provider::from_token_url("http://sso.ecoinvent.org/token"),
            Err(Error::InsecureUrl(_))
        ));
    }
}
