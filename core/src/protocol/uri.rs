//! The few facts tokenward needs from a URL: its scheme, whether it carries credentials, its
//! host, whether it has a fragment.
//!
//! Why not the `url` crate: its WHATWG parser brings IDNA and Unicode normalisation tables,
//! 66 KB gzip of the browser package's 16 KB budget, to answer questions that need none of
//! them. This splitter is deliberately stricter than a browser: no spaces, control characters,
//! backslashes or non-ASCII anywhere, a host of DNS letters, digits, `-`, `.` and `_`, an IPv4
//! address or a bracketed IPv6 address. Whatever it accepts, `url::Url::parse` accepts with the
//! same scheme and host (a property test in this module holds it to that; only a malformed
//! `xn--` label passes here and fails there, which then fails loudly at the request), so a URL that passes
//! here means the same thing to ureq, to `fetch` and to Keycloak.

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::prelude::*;
use crate::text::text;

/// The parts of an absolute URL, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// As written (compare with `eq_ignore_ascii_case`).
    pub scheme: &'a str,
    /// Present when the URL has `//authority` after the scheme.
    pub authority: Option<Authority<'a>>,
    /// What follows the first `#`, if there is one.
    pub fragment: Option<&'a str>,
}

/// The `//userinfo@host:port` part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority<'a> {
    /// `user:password` before an `@`: a URL must never carry it (it would end up in logs).
    pub userinfo: Option<&'a str>,
    /// A DNS name or IPv4 address, or an IPv6 address inside `[` `]`.
    pub host: &'a str,
    pub port: Option<u16>,
}

/// Splits an absolute URL, or says in a few words what is wrong with it.
pub fn split(url: &str) -> Result<UrlParts<'_>, &'static str> {
    if let Some(b) = url.bytes().find(|b| !b.is_ascii_graphic() || *b == b'\\') {
        return Err(if b == b' ' {
            "it contains a space"
        } else if b == b'\\' {
            "it contains a backslash"
        } else if b.is_ascii() {
            "it contains a control character"
        } else {
            "it contains non-ASCII characters; percent-encode them (hosts in their xn-- form)"
        });
    }
    let (scheme, rest) = url
        .split_once(':')
        .ok_or("it has no scheme such as https:")?;
    let mut chars = scheme.bytes();
    let scheme_ok = chars.next().is_some_and(|b| b.is_ascii_alphabetic())
        && chars.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return Err("it has no scheme such as https:");
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let authority = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?']).unwrap_or(after.len());
            Some(split_authority(&after[..end])?)
        }
        None => None,
    };
    Ok(UrlParts {
        scheme,
        authority,
        fragment,
    })
}

fn split_authority(authority: &str) -> Result<Authority<'_>, &'static str> {
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port
            .find(']')
            .ok_or("its IPv6 host has no closing `]`")?;
        let (host, after) = host_port.split_at(close + 1);
        if host[1..close].parse::<Ipv6Addr>().is_err() {
            return Err("its host is not a valid IPv6 address");
        }
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err("its host is followed by something other than a port"),
        }
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host");
    }
    let dns_or_ipv4 = |b: u8| b.is_ascii_alphanumeric() || b"-._".contains(&b);
    if !host.starts_with('[') {
        if !host.bytes().all(dns_or_ipv4) {
            return Err("its host has characters a DNS name or IP address cannot have");
        }
        // Browsers read a host ending in a number as IPv4 in any of its old forms (`127.1`,
        // `0x7f.1`, octal `010`); only the plain dotted quad means the same everywhere.
        if ends_in_number(host) && host.parse::<Ipv4Addr>().is_err() {
            return Err(
                "its host looks like an IP address but is not a dotted quad like 127.0.0.1",
            );
        }
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| "its port is above 65535")?)
        }
        Some(_) => return Err("its port is not a number"),
    };
    Ok(Authority {
        userinfo,
        host,
        port,
    })
}

/// WHATWG's "ends in a number": the last label (a trailing dot aside) is decimal or `0x` hex.
fn ends_in_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or("");
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]`: the hosts where plain `http` is allowed
/// (development, tests, and RFC 8252 §7.3 native-app redirects).
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()),
        None => host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()),
    }
}

/// The URL for an error message: as given, unless it carries credentials.
pub(crate) fn shown(url: &str) -> &str {
    // After the first `//` (a byte search: a substring search is 1 KB of the browser module).
    let authority = url
        .as_bytes()
        .windows(2)
        .position(|w| w == b"//")
        .and_then(|i| url.get(i + 2..))
        .unwrap_or("");
    let authority = authority.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        "(a URL with credentials in it)"
    } else {
        url
    }
}

/// `base` with `query` appended: after `?`, or after `&` when `base` already has a query.
pub(crate) fn append_query(base: &str, query: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    text!(base, sep, query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keycloak_urls_split() {
        let p = split("https://sso.ecoinvent.org:8443/realms/ecoinvent?x=1#top").unwrap();
        assert_eq!(p.scheme, "https");
        let a = p.authority.unwrap();
        assert_eq!(
            (a.userinfo, a.host, a.port),
            (None, "sso.ecoinvent.org", Some(8443))
        );
        assert_eq!(p.fragment, Some("top"));
        let p = split("http://u:p@[::1]:80/x").unwrap();
        let a = p.authority.unwrap();
        assert_eq!(
            (a.userinfo, a.host, a.port),
            (Some("u:p"), "[::1]", Some(80))
        );
        let p = split("com.example.app:/callback").unwrap();
        assert_eq!((p.scheme, p.authority), ("com.example.app", None));
    }

    #[test]
    fn malformed_urls_say_why() {
        for (bad, why) in [
            ("not a url", "space"),
            ("https://a\\b/", "backslash"),
            ("https://bücher.example/", "xn--"),
            ("//host/path", "scheme"),
            ("https:///path", "no host"),
            ("https://[::1/", "closing"),
            ("https://[zz]/", "IPv6"),
            ("https://host:99999/", "65535"),
            ("https://host:8x/", "not a number"),
            ("https://ho st/", "space"),
            ("https://a<b/", "DNS"),
            ("http://127.1/", "dotted quad"),
            ("http://0x7f.0.0.1/", "dotted quad"),
            ("http://127.0.0.010/", "dotted quad"),
        ] {
            let e = split(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "LocalHost", "127.0.0.1", "127.9.9.9", "[::1]"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "10.0.0.1",
            "[::2]",
            "::1",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(shown("https://a.example/x"), "https://a.example/x");
        assert!(!shown("https://u:pw@a.example/x").contains("pw"));
        assert_eq!(
            shown("https://a.example/x?u=a@b"),
            "https://a.example/x?u=a@b"
        );
    }

    proptest! {
        /// Whatever this splitter accepts, the WHATWG parser accepts with the same scheme,
        /// host, port, credentials and fragment: no URL means one thing here and another to
        /// ureq or a browser.
        #[test]
        fn agrees_with_the_url_crate(
            scheme in prop::sample::select(vec!["https", "http", "HTTP", "com.example.app", "ftp", "h+t"]),
            sep in prop::sample::select(vec!["://", ":/", ":", "//"]),
            user in prop::option::of("[a-z:%]{0,5}"),
            host in prop::sample::select(vec!["localhost", "127.0.0.1", "127.1", "[::1]", "[::2]", "a.example",
                "xn--bcher-kva.example", "a_b.example", "0x7f.0.0.1", "LOCALHOST", "", "1.2.3", "a..b", "-a", "[v1.x]"]),
            port in prop::option::of("[0-9]{0,6}"),
            tail in "[/?#a-z.%=&@:]{0,12}",
        ) {
            let mut s = format!("{scheme}{sep}");
            if let Some(u) = &user { s.push_str(u); s.push('@'); }
            s.push_str(host);
            if let Some(p) = &port { s.push(':'); s.push_str(p); }
            s.push_str(&tail);
            if let Ok(ours) = split(&s) {
                if let Some(a) = ours.authority.filter(|_| matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")) {
                    let theirs = url::Url::parse(&s);
                    prop_assert!(theirs.is_ok(), "{s}: accepted here, refused by url: {theirs:?}");
                    let theirs = theirs.unwrap();
                    prop_assert_eq!(theirs.scheme(), scheme.to_ascii_lowercase());
                    // Credentials there are credentials here (here even an empty `:@` counts).
                    let theirs_has = !theirs.username().is_empty() || theirs.password().is_some();
                    prop_assert!(!theirs_has || a.userinfo.is_some(), "{}", s);
                    let their_host = theirs.host_str().unwrap_or("");
                    prop_assert!(their_host.eq_ignore_ascii_case(a.host), "{s}: host {} here, {their_host} there", a.host);
                    prop_assert_eq!(is_loopback_host(a.host), their_loopback(&theirs), "{}", s);
                    prop_assert_eq!(ours.fragment, theirs.fragment(), "{}", s);
                }
            }
        }
    }

    fn their_loopback(u: &url::Url) -> bool {
        match u.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }
}
