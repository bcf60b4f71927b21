//! What goes to standard output: a token (alone, as a header, or the whole response as JSON)
//! and the readable form of a JWT's claims.

use std::io::Write;

use serde_json::Value;
use tokenward::{Claims, Secret, Token};

use crate::exit::{CliError, CliResult};

/// How a token is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The access token alone.
    Token,
    /// `Authorization: Bearer ...`
    Header,
    /// The whole token response.
    Json,
}

/// The token as `format` says, with a final newline.
pub fn render_token(token: &Token, format: Format) -> Secret {
    match format {
        Format::Token => Secret::new(format!("{}\n", token.access_token().expose())),
        Format::Header => Secret::new(format!(
            "Authorization: {}\n",
            token.authorization_header().expose()
        )),
        Format::Json => {
            let text = serde_json::to_string_pretty(&Value::Object(token.response_json()))
                .expect("a JSON map always serializes");
            Secret::new(text + "\n")
        }
    }
}

/// Writes to standard output; a closed pipe is a local failure (exit 1), not a panic.
pub fn print(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| CliError::local(format!("cannot write to standard output: {e}")))
}

/// A readable summary of a JWT's claims, `now` being the current Unix time.
pub fn claims_summary(claims: &Claims, now: u64) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(iss) = claims.issuer() {
        lines.push(("issuer", iss.to_string()));
    }
    if let Some(sub) = claims.subject() {
        lines.push(("subject", sub.to_string()));
    }
    for (label, claim) in [("user", "preferred_username"), ("client", "azp")] {
        if let Some(v) = claims.str(claim) {
            lines.push((label, v.to_string()));
        }
    }
    let aud = claims.audience();
    if !aud.is_empty() {
        lines.push(("audience", aud.join(", ")));
    }
    if let Some(exp) = claims.exp() {
        let when = if exp >= now {
            format!("in {}", human_duration(exp - now))
        } else {
            format!("{} ago (expired)", human_duration(now - exp))
        };
        lines.push(("expires", format!("{when} ({})", utc(exp))));
    }
    if let Some(iat) = claims.iat() {
        let when = if iat <= now {
            format!("{} ago", human_duration(now - iat))
        } else {
            format!("in {} (clock skew?)", human_duration(iat - now))
        };
        lines.push(("issued", format!("{when} ({})", utc(iat))));
    }
    let scopes = claims.scopes();
    if !scopes.is_empty() {
        lines.push(("scope", scopes.join(" ")));
    }
    let roles = claims.realm_roles();
    if !roles.is_empty() {
        lines.push(("realm roles", roles.join(", ")));
    }
    if let Some(Value::Object(clients)) = claims.get("resource_access") {
        for client in clients.keys() {
            let roles = claims.client_roles(client);
            if !roles.is_empty() {
                lines.push(("client roles", format!("{client}: {}", roles.join(", "))));
            }
        }
    }
    if let Some(t) = claims.get("tenant") {
        let t = t
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| t.to_string());
        lines.push(("tenant", t));
    }
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    let mut out = String::from(
        "NOT VERIFIED: decoded only; `tokenward verify` checks signature, issuer and expiry\n",
    );
    for (label, value) in lines {
        out.push_str(&format!("{:width$} {value}\n", format!("{label}:")));
    }
    out.push_str("(claims read without verifying the signature)\n");
    out
}

/// `4m 59s`, `1h 0m 5s`, `2d 3h 4m`, `0s`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `2026-11-22 21:10:00 UTC` for a Unix time.
pub fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    // Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(299), "4m 59s");
        assert_eq!(human_duration(3600), "1h 0m 0s");
        assert_eq!(human_duration(3605), "1h 0m 5s");
        assert_eq!(
            human_duration(2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            "2d 3h 4m"
        );
    }

    #[test]
    fn utc_dates_are_gregorian() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(1_795_381_800), "2026-11-22 21:10:00 UTC");
        assert_eq!(utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    fn claims(json: &str) -> Claims {
        match serde_json::from_str(json).unwrap() {
            Value::Object(m) => Claims(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn summary_shows_expiry_roles_scope_and_tenant() {
        let c = claims(
            r#"{"iss":"http://127.0.0.1:8080/realms/acme","sub":"u1","azp":"vault-service",
                "exp":1795381800,"iat":1795381500,"scope":"openid profile",
                "realm_access":{"roles":["admin","user"]},
                "resource_access":{"account":{"roles":["view-profile"]}},"tenant":"acme"}"#,
        );
        let s = claims_summary(&c, 1_795_381_501);
        assert!(
            s.contains("expires:      in 4m 59s (2026-11-22 21:10:00 UTC)"),
            "{s}"
        );
        assert!(s.contains("issued:       1s ago"), "{s}");
        assert!(s.contains("realm roles:  admin, user"), "{s}");
        assert!(s.contains("client roles: account: view-profile"), "{s}");
        assert!(s.contains("scope:        openid profile"), "{s}");
        assert!(s.contains("tenant:       acme"), "{s}");
        assert!(s.contains("client:       vault-service"), "{s}");
        let s = claims_summary(&c, 1_795_381_800 + 62);
        assert!(s.contains("1m 2s ago (expired)"), "{s}");
    }
}
