//! Request parameters: which ones and which values is the core's decision, their encoding is
//! the platform's.
//!
//! A form body and a URL's query are both lists of name/value pairs. The core builds them
//! ([`Params`]); natively [`Params::encode`] writes them with `form_urlencoded`, and in the
//! browser the glue hands the same pairs to `URLSearchParams`. Both are the WHATWG
//! `application/x-www-form-urlencoded` serializer, so every binding sends the same bytes and the
//! browser package carries no percent-encoder of its own.

use crate::prelude::*;

use core::fmt;

use crate::secret::Secret;

/// Name/value pairs in the order the core chose them. Values can be secrets (a client secret,
/// a code verifier, a refresh token, an ID token hint), so each is a [`Secret`]: wiped on drop
/// and never printed (`Debug` shows the names only).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Secret)>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds a parameter after the ones already there.
    pub fn add(&mut self, name: &str, value: &str) {
        self.0.push((name.to_string(), Secret::new(value)));
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.expose()))
    }

    /// `application/x-www-form-urlencoded`: a form body, or the query of a URL.
    pub fn encode(&self) -> Secret {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.extend_pairs(self.iter());
        Secret::new(out.finish())
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

/// Where the core sends the user's browser: an endpoint and the query parameters it chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub endpoint: String,
    pub params: Params,
}

impl Redirect {
    /// The URL: the parameters after `?`, or after `&` when the endpoint has a query already.
    pub fn url(&self) -> String {
        crate::uri::append_query(&self.endpoint, self.params.encode().expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_keep_their_order_and_encode_as_a_form() {
        let mut p = Params::new();
        p.add("grant_type", "refresh_token");
        p.add("scope", "openid email");
        p.add("refresh_token", "a+b/c=&d");
        assert_eq!(
            p.encode().expose(),
            "grant_type=refresh_token&scope=openid+email&refresh_token=a%2Bb%2Fc%3D%26d"
        );
        assert_eq!(
            format!("{p:?}"),
            r#"["grant_type", "scope", "refresh_token"]"#
        );
    }

    #[test]
    fn a_redirect_appends_to_an_endpoint_query() {
        let mut params = Params::new();
        params.add("client_id", "spa");
        let to = |endpoint: &str| Redirect {
            endpoint: endpoint.into(),
            params: params.clone(),
        };
        assert_eq!(
            to("https://kc/logout").url(),
            "https://kc/logout?client_id=spa"
        );
        assert_eq!(
            to("https://kc/logout?x=1").url(),
            "https://kc/logout?x=1&client_id=spa"
        );
    }
}
