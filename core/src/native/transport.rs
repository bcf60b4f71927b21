//! The native transport: one keep-alive ureq agent (rustls) per client.
//!
//! Safe defaults: a global timeout, no redirects followed (a token endpoint that redirects is
//! misconfigured, and following it could send the secret elsewhere), a response size cap, the
//! https rule checked again on every request.

use crate::prelude::*;

use std::io;
use std::net::{IpAddr, SocketAddr};

use ureq::http::uri::Uri;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::error::{Error, Result};
use crate::http::{check_url, HttpOptions, HttpRequest, HttpResponse, Method, Transport, Trust};
use crate::secret::Secret;

pub struct UreqTransport {
    agent: ureq::Agent,
    options: HttpOptions,
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransport")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl UreqTransport {
    pub fn new(options: HttpOptions) -> Result<UreqTransport> {
        if options.timeout.is_zero() {
            return Err(Error::config("the HTTP timeout must be more than zero"));
        }
        let roots = match &options.trust {
            Trust::WebPki => RootCerts::WebPki,
            Trust::Platform => RootCerts::PlatformVerifier,
            Trust::CaFile(path) => RootCerts::new_with_certs(&load_pem(path)?),
        };
        let proxy = if options.proxy_from_env {
            ureq::Proxy::try_from_env()
        } else {
            None
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(options.timeout))
            .timeout_connect(Some(options.connect_timeout.min(options.timeout)))
            .user_agent(options.user_agent.as_str())
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .proxy(proxy)
            .build();
        Ok(UreqTransport {
            agent: ureq::Agent::with_parts(
                config,
                DefaultConnector::default(),
                NoThreadForIpAddresses::default(),
            ),
            options,
        })
    }

    fn map_error(&self, e: ureq::Error) -> Error {
        match e {
            ureq::Error::Timeout(_) => Error::Timeout(self.options.timeout),
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Error::Timeout(self.options.timeout)
            }
            ureq::Error::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                Error::InvalidResponse(
                    "the server closed the connection before the response was complete".into(),
                )
            }
            ureq::Error::Io(io) => transport_error(io.to_string()),
            ureq::Error::HostNotFound => {
                Error::Transport("host not found (DNS lookup failed)".into())
            }
            ureq::Error::BodyExceedsLimit(_) => {
                Error::response_too_large(self.options.max_response_bytes)
            }
            ureq::Error::LargeResponseHeader(..) => {
                Error::InvalidResponse("the response headers are too large".into())
            }
            ureq::Error::Protocol(p) => {
                Error::InvalidResponse(format!("malformed HTTP response ({p})"))
            }
            ureq::Error::BadUri(u) => Error::config(format!("bad URL: {u}")),
            other => transport_error(other.to_string()),
        }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        check_url(&request.url, "request URL")?;
        let result = match request.method {
            Method::Get => {
                let mut b = self.agent.get(&request.url);
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.call()
            }
            Method::Post => {
                let mut b = self.agent.post(&request.url);
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                let body = request.body();
                b.send(body.as_ref().map_or("", Secret::expose))
            }
        };
        let mut response = result.map_err(|e| self.map_error(e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.options.max_response_bytes)
            .read_to_vec()
            .map_err(|e| self.map_error(e))?;
        Ok(HttpResponse::new(status, headers, body))
    }
}

/// ureq's resolver, without a thread for a host that is an IP address.
///
/// With a timeout set, ureq 3 resolves every request's host on a new thread (so a hung DNS
/// server cannot outlast the timeout), even when the host is an IP address and even when a kept
/// alive connection is then reused: a thread start and join per token request, about 40 µs
/// here. An IP address needs no lookup, so it is answered at once; names still go through
/// ureq's resolver, timeout and all.
#[derive(Debug, Default)]
struct NoThreadForIpAddresses(DefaultResolver);

impl NoThreadForIpAddresses {
    fn ip_address(uri: &Uri) -> Option<SocketAddr> {
        let authority = uri.authority()?;
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let ip: IpAddr = host.parse().ok()?;
        let port = match (authority.port_u16(), uri.scheme_str()?) {
            (Some(port), _) => port,
            (None, "https") => 443,
            (None, "http") => 80,
            _ => return None,
        };
        Some(SocketAddr::new(ip, port))
    }
}

impl Resolver for NoThreadForIpAddresses {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        match Self::ip_address(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// A transport failure; a certificate problem also says how to trust a private CA.
fn transport_error(message: String) -> Error {
    if message.contains("certificate") || message.contains("UnknownIssuer") {
        Error::Transport(format!(
            "{message} (if the server uses a private CA, pass its PEM file: Trust::CaFile in Rust, tw_options_set_ca_file in C, ca_file= in Python, --ca-file or TOKENWARD_CA_FILE for the CLI)"
        ))
    } else {
        Error::Transport(message)
    }
}

fn load_pem(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::config(format!("cannot read CA file `{}`: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::config(format!(
                    "CA file `{}` is not valid PEM: {e}",
                    path.display()
                )))
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::config(format!(
            "CA file `{}` holds no certificate; pass a PEM file with -----BEGIN CERTIFICATE----- blocks",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(url: &str) -> Option<String> {
        NoThreadForIpAddresses::ip_address(&url.parse().unwrap()).map(|a| a.to_string())
    }

    #[test]
    fn ip_addresses_skip_the_lookup_and_names_do_not() {
        assert_eq!(
            ip("http://127.0.0.1:8080/realms/vion").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(ip("https://[::1]/token").as_deref(), Some("[::1]:443"));
        assert_eq!(ip("http://10.0.0.7/").as_deref(), Some("10.0.0.7:80"));
        assert_eq!(ip("http://localhost:8080/"), None, "a name is looked up");
        assert_eq!(ip("https://auth.example.com/"), None);
    }
}
