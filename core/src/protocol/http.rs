//! Plain data for one HTTP exchange, and the seam that sends it.
//!
//! Every flow is `build request -> Transport::send -> parse response`. The builders and parsers
//! are pure functions of these values, so they run the same in tests, in the browser (where
//! `fetch` is the transport) and behind the blocking ureq transport.

use crate::prelude::*;

use core::fmt;
use core::time::Duration;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::params::Params;
use crate::secret::Secret;
use crate::text::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request ready to send. Its form carries secrets (client secret, code verifier, refresh
/// token), so `Debug` shows the method, the URL and the names of headers and parameters only.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The form's parameters, for POSTs: sent as an `application/x-www-form-urlencoded` body,
    /// which the platform encodes ([`HttpRequest::body`] natively, `URLSearchParams` in the
    /// browser).
    pub form: Option<Params>,
}

impl HttpRequest {
    /// The form encoded as the body.
    pub fn body(&self) -> Option<Secret> {
        self.form.as_ref().map(Params::encode)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("form", &self.form)
            .finish()
    }
}

/// A response as received. The body may hold tokens: it is wiped on drop and never printed.
#[derive(Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Zeroizing<Vec<u8>>,
}

impl HttpResponse {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        HttpResponse {
            status,
            headers,
            body: Zeroizing::new(body),
        }
    }

    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Sends one request and returns the whole response (any status). Implementations enforce
/// their own timeout and size cap and map failures to [`Error::Transport`],
/// [`Error::Timeout`] or [`Error::InvalidResponse`].
pub trait Transport: Send + Sync {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse>;
}

impl<F> Transport for F
where
    F: Fn(&HttpRequest) -> Result<HttpResponse> + Send + Sync,
{
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        self(request)
    }
}

/// Which root certificates verify the server.
#[cfg(feature = "blocking")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trust {
    /// Mozilla's roots, built in: the same answer on every machine.
    #[default]
    WebPki,
    /// The operating system's trust store (corporate CAs installed there are honoured).
    Platform,
    /// Only the certificates in this PEM file (a private CA).
    CaFile(std::path::PathBuf),
}

/// How the blocking transport talks HTTP. The defaults are safe for production.
#[cfg(feature = "blocking")]
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// For the whole exchange: connect, send, wait, read.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Bodies larger than this are refused, so a broken or hostile server cannot exhaust memory.
    pub max_response_bytes: u64,
    pub trust: Trust,
    /// Honour `HTTPS_PROXY`, `ALL_PROXY`, `HTTP_PROXY` and `NO_PROXY`.
    pub proxy_from_env: bool,
    pub user_agent: String,
}

#[cfg(feature = "blocking")]
impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            trust: Trust::WebPki,
            proxy_from_env: true,
            user_agent: concat!("tokenward/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Checks that `url` is absolute, has no credentials in it, and is `https` unless it points at
/// a loopback address (`127.0.0.0/8`, `::1`, `localhost`), which development and tests use.
/// `what` names the setting in the error message.
pub fn check_url(url: &str, what: &str) -> Result<()> {
    let shown = crate::uri::shown(url);
    let parts = crate::uri::split(url).map_err(|why| {
        Error::config(text!(
            what,
            " `",
            shown,
            "` is not a valid absolute URL: ",
            why
        ))
    })?;
    let scheme = parts.scheme.to_ascii_lowercase();
    let authority = match (scheme.as_str(), parts.authority) {
        ("http" | "https", Some(a)) => a,
        ("http" | "https", None) => {
            return Err(Error::config(text!(
                what,
                " `",
                shown,
                "` has no host; write it as ",
                scheme,
                "://host/..."
            )))
        }
        _ => {
            return Err(Error::config(text!(
                what,
                " `",
                shown,
                "` has scheme `",
                parts.scheme,
                "`; use https"
            )))
        }
    };
    if authority.userinfo.is_some() {
        return Err(Error::config(text!(
            what,
            " must not carry credentials in the URL; pass the client secret separately"
        )));
    }
    if scheme == "http" && !crate::uri::is_loopback_host(authority.host) {
        return Err(Error::InsecureUrl(url.to_string()));
    }
    Ok(())
}

/// A short, single-line excerpt of an unexpected body for error messages: tags stripped,
/// white space folded, at most 160 characters.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let mut out = String::new();
    let mut shown = 0; // chars in `out`
    let mut in_tag = false;
    let mut last_space = true;
    for c in text.chars() {
        let next = match c {
            '<' => {
                in_tag = true;
                continue;
            }
            '>' if in_tag => {
                in_tag = false;
                ' '
            }
            _ if in_tag => continue,
            c if c.is_whitespace() || c.is_control() => ' ',
            c => c,
        };
        if next == ' ' && last_space {
            continue;
        }
        last_space = next == ' ';
        out.push(next);
        shown += 1;
        if shown >= 160 {
            out.push('…');
            break;
        }
    }
    out.trim().to_string()
}

/// A response's `Retry-After`.
pub(crate) fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    resp.header("retry-after").and_then(parse_retry_after)
}

/// A `Retry-After` value in its delta-seconds form; the HTTP-date form is ignored (rare for
/// token endpoints, and it would need the wall clock).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_plain_http_only_on_loopback() {
        assert!(check_url("https://auth.example.com/realms/x", "issuer").is_ok());
        for ok in [
            "http://127.0.0.1:8080/x",
            "http://127.9.9.9/x",
            "http://localhost:1/x",
            "http://[::1]:80/x",
        ] {
            assert!(check_url(ok, "issuer").is_ok(), "{ok}");
        }
        for bad in [
            "http://auth.example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.evil.com/x",
            "http://127.0.0.1.nip.io/x",
        ] {
            assert_eq!(
                check_url(bad, "issuer").unwrap_err().code(),
                crate::ErrorCode::InsecureUrl,
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_in_urls_and_odd_schemes_are_config_errors() {
        let e = check_url("https://user:pw@auth.example.com/", "token URL").unwrap_err();
        assert!(matches!(e, Error::Config(_)));
        assert!(!e.to_string().contains("pw"));
        assert!(matches!(
            check_url("ftp://x/", "token URL"),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            check_url("not a url", "token URL"),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn excerpt_strips_html_and_folds_space() {
        let html = b"<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad   Gateway</h1></body></html>";
        assert_eq!(body_excerpt(html), "502 Bad Gateway Bad Gateway");
        assert!(body_excerpt(&[b'a'; 1000]).chars().count() <= 161);
        // Only what is shown counts toward the 160: not tags, not folded white space.
        let long_tag = format!(
            "<div class=\"{}\">ok{}</div>",
            "x".repeat(300),
            " ".repeat(300)
        );
        assert_eq!(body_excerpt(long_tag.as_bytes()), "ok");
    }
}
