//! Exit codes and the one error type every command returns.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | local failure outside OAuth (e.g. standard output closed) |
//! | 2 | usage or configuration: fix the command line, the environment or the profile |
//! | 3 | the server refused: OAuth errors (`invalid_client`, `invalid_grant`, ...), a missing required claim, a forged or stale login callback; or a token did not verify (`invalid_token`) |
//! | 4 | network or server trouble: unreachable, timeout, HTTP 5xx/429, an unusable response |

use std::fmt;

use tokenward::{Error, ErrorCode};

pub const OK: u8 = 0;
pub const LOCAL: u8 = 1;
pub const USAGE: u8 = 2;
pub const REFUSED: u8 = 3;
pub const NETWORK: u8 = 4;

/// The exit code for a core error. The one place where core's error codes meet the shell's.
pub fn exit_code(e: &Error) -> u8 {
    match e.code() {
        ErrorCode::Config | ErrorCode::InsecureUrl => USAGE,
        ErrorCode::OAuth
        | ErrorCode::Api
        | ErrorCode::StateMismatch
        | ErrorCode::IssuerMismatch
        | ErrorCode::MissingClaim
        | ErrorCode::LoginRequired
        | ErrorCode::InvalidToken => REFUSED,
        ErrorCode::Transport | ErrorCode::Timeout | ErrorCode::InvalidResponse => NETWORK,
        // A 5xx, 429 or 408 is the server's trouble (try again later); any other status is a
        // refusal (a 404 page for a wrong realm, a 403 from a proxy).
        ErrorCode::Http if e.is_transient() => NETWORK,
        ErrorCode::Http => REFUSED,
    }
}

/// What a command failed with: the exit code, the message for stderr and, for `--json`, the
/// error's stable name and the server's own words.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    /// The core's error code name (`oauth`, `transport`, ...), or `usage` / `local` for the
    /// CLI's own failures.
    pub name: &'static str,
    pub oauth_error: Option<String>,
    pub description: Option<String>,
    pub status: Option<u16>,
}

impl CliError {
    /// An error of the CLI's own, outside the core: exit `code`, `--json` name `name`.
    pub fn plain(code: u8, name: &'static str, message: String) -> Self {
        CliError {
            code,
            message,
            name,
            oauth_error: None,
            description: None,
            status: None,
        }
    }

    /// A usage or configuration problem (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::plain(USAGE, "usage", message.into())
    }

    /// A local failure that is not about OAuth (exit 1).
    pub fn local(message: impl Into<String>) -> Self {
        CliError::plain(LOCAL, "local", message.into())
    }

    /// The error as one JSON object for `--json`: `{"error": {"code", "message", "exit",
    /// "oauth_error"?, "description"?, "status"?}}`.
    pub fn to_json(&self) -> String {
        let mut e = serde_json::Map::new();
        e.insert("code".into(), self.name.into());
        e.insert("message".into(), self.message.clone().into());
        e.insert("exit".into(), self.code.into());
        if let Some(o) = &self.oauth_error {
            e.insert("oauth_error".into(), o.clone().into());
        }
        if let Some(d) = &self.description {
            e.insert("description".into(), d.clone().into());
        }
        if let Some(s) = self.status {
            e.insert("status".into(), s.into());
        }
        serde_json::json!({ "error": e }).to_string()
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        // Core's messages never contain a secret or a whole token, and already carry the
        // server's `error` and `error_description`.
        CliError {
            code: exit_code(&e),
            message: e.to_string(),
            name: e.code().as_str(),
            oauth_error: e.oauth_error().map(str::to_string),
            description: e.oauth_description().map(str::to_string),
            status: e.http_status(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn http(status: u16) -> Error {
        Error::Http {
            status,
            body_excerpt: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn every_core_code_has_an_exit_code() {
        let samples = [
            (Error::Config("x".into()), USAGE),
            (Error::InsecureUrl("http://x".into()), USAGE),
            (Error::Transport("refused".into()), NETWORK),
            (Error::Timeout(Duration::from_secs(1)), NETWORK),
            (http(503), NETWORK),
            (
                Error::OAuth {
                    error: "invalid_client".into(),
                    error_description: None,
                    error_uri: None,
                    status: Some(401),
                },
                REFUSED,
            ),
            (
                Error::Api {
                    status: 401,
                    code: Some("NOT_AUTHORIZED".into()),
                    message: None,
                },
                REFUSED,
            ),
            (Error::InvalidResponse("truncated".into()), NETWORK),
            (Error::StateMismatch, REFUSED),
            (
                Error::IssuerMismatch {
                    expected: "a".into(),
                    found: "b".into(),
                },
                REFUSED,
            ),
            (Error::MissingClaim("tenant".into()), REFUSED),
            (Error::LoginRequired("no refresh token".into()), REFUSED),
            (
                Error::invalid_token(tokenward::TokenCheck::Audience, "not for this API"),
                REFUSED,
            ),
        ];
        // One sample per code, so a new code in core fails here until it is mapped on purpose.
        let codes: Vec<ErrorCode> = samples.iter().map(|(e, _)| e.code()).collect();
        assert_eq!(codes, ErrorCode::ALL);
        for (e, want) in samples {
            assert_eq!(exit_code(&e), want, "{e:?}");
        }
    }

    #[test]
    fn http_status_decides_between_refused_and_network() {
        for s in [500, 502, 503, 429, 408] {
            assert_eq!(exit_code(&http(s)), NETWORK, "{s}");
        }
        for s in [400, 403, 404] {
            assert_eq!(exit_code(&http(s)), REFUSED, "{s}");
        }
    }

    #[test]
    fn oauth_errors_keep_the_servers_words() {
        let e = CliError::from(Error::OAuth {
            error: "invalid_scope".into(),
            error_description: Some("Invalid scopes: nope".into()),
            error_uri: None,
            status: Some(400),
        });
        assert_eq!(e.code, REFUSED);
        assert!(e.message.contains("invalid_scope"), "{e}");
        assert!(e.message.contains("Invalid scopes: nope"), "{e}");
        let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(
            json["error"],
            serde_json::json!({
                "code": "oauth", "message": e.message, "exit": 3,
                "oauth_error": "invalid_scope", "description": "Invalid scopes: nope", "status": 400
            })
        );
        let usage: serde_json::Value =
            serde_json::from_str(&CliError::usage("no --client-id").to_json()).unwrap();
        assert_eq!(
            usage,
            serde_json::json!({"error": {"code": "usage", "message": "no --client-id", "exit": 2}})
        );
    }
}
