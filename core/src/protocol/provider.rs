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

use crate::error::{Error, Result};
use crate::fields::{Field, Fields};
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
        let suffix = text!(KEYCLOAK_OIDC, "/token");
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
        let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| {
                Error::invalid(format!(
                    "the discovery document is not valid OpenID configuration JSON ({e})"
                ))
            })?;
        Provider::from_discovery_fields(expected_issuer, &mut doc)
    }

    /// [`Provider::from_discovery`] for a document some other JSON parser read (the browser's
    /// `JSON.parse`): the same checks on the same fields.
    pub fn from_discovery_fields(expected_issuer: &str, doc: &mut dyn Fields) -> Result<Provider> {
        let Field::Str(issuer) = doc.take("issuer") else {
            return Err(Error::invalid(
                "the discovery document has no `issuer` string; is this an OpenID provider's discovery URL?",
            ));
        };
        let expected = expected_issuer.trim_end_matches('/');
        if issuer != expected {
            return Err(Error::IssuerMismatch {
                expected: expected.to_string(),
                found: issuer,
            });
        }
        // An endpoint: absent, or a URL that passes the https rule.
        let mut endpoint = |name: &str| -> Result<Option<String>> {
            match doc.take(name) {
                Field::Missing => Ok(None),
                Field::Str(u) => check_url(&u, name).map(|_| Some(u)),
                _ => Err(Error::invalid(text!(
                    "the discovery document's `",
                    name,
                    "` is not a string"
                ))),
            }
        };
        let token_endpoint = endpoint("token_endpoint")?
            .ok_or_else(|| Error::invalid("the discovery document has no `token_endpoint`"))?;
        Ok(Provider {
            issuer: Some(issuer),
            token_endpoint,
            authorization_endpoint: endpoint("authorization_endpoint")?,
            revocation_endpoint: endpoint("revocation_endpoint")?,
            introspection_endpoint: endpoint("introspection_endpoint")?,
            end_session_endpoint: endpoint("end_session_endpoint")?,
            userinfo_endpoint: endpoint("userinfo_endpoint")?,
            jwks_uri: endpoint("jwks_uri")?,
            device_authorization_endpoint: endpoint("device_authorization_endpoint")?,
            callback_iss_required: doc.take("authorization_response_iss_parameter_supported")
                == Field::Bool(true),
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
            return Err(unopened(template));
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            Error::config(text!(
                "template `",
                template,
                "` has a `{` without a closing `}`"
            ))
        })?;
        let name = &after[..close];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::config(text!(
                "template placeholder `{",
                name,
                "}` is not a name; use letters, digits, `_` or `-`"
            )));
        }
        names.push(name);
        let value = values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                Error::config(text!(
                    "template placeholder `{",
                    name,
                    "}` has no value; pass ",
                    name,
                    "=..."
                ))
            })?;
        if value.is_empty()
            || value.chars().any(|c| {
                matches!(c, '/' | '?' | '#' | '@' | ':' | '{' | '}' | '%') || c.is_whitespace()
            })
        {
            return Err(Error::config(text!(
                "value `",
                value,
                "` for `{",
                name,
                "}` must be a plain name (no `/ ? # @ : %` or spaces)"
            )));
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(unopened(template));
    }
    out.push_str(rest);
    if let Some((unknown, _)) = values.iter().find(|(k, _)| !names.contains(k)) {
        let names = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        return Err(Error::config(text!(
            "value `",
            unknown,
            "` matches no placeholder in the template (placeholders: ",
            names,
            ")"
        )));
    }
    Ok(out)
}

fn unopened(template: &str) -> Error {
    Error::config(text!(
        "template `",
        template,
        "` has a `}` without an opening `{`"
    ))
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
    fn discovery_fields_from_any_parser_get_the_same_checks() {
        let serde_json::Value::Object(mut doc) = serde_json::json!({
            "issuer": "https://a.example/realms/r",
            "token_endpoint": "https://a.example/realms/r/t",
            "end_session_endpoint": "https://a.example/realms/r/logout",
            "authorization_response_iss_parameter_supported": true,
        }) else {
            unreachable!()
        };
        let p = Provider::from_discovery_fields("https://a.example/realms/r/", &mut doc).unwrap();
        assert!(p.callback_iss_required);
        assert_eq!(p.authorization_endpoint, None);
        let serde_json::Value::Object(mut bad) = serde_json::json!({
            "issuer": "https://a.example/realms/r",
            "token_endpoint": ["https://a.example/realms/r/t"],
        }) else {
            unreachable!()
        };
        let e = Provider::from_discovery_fields("https://a.example/realms/r", &mut bad);
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("`token_endpoint` is not a string"));
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
