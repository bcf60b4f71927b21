//! One error type for every flow, with stable codes shared by all bindings.
//!
//! The C ABI maps [`ErrorCode`] 1:1 to `tw_result`, Python to one exception class per code and
//! the browser package to a JS `Error` with the same `code` string. Numbers are stable: a retired
//! code keeps its number reserved.
//!
//! Messages say what happened and what to do next. They never contain a secret or a whole
//! token: server text is quoted only from fields meant for humans (`error_description`,
//! an excerpt of an HTML error page), and request bodies are never echoed.

use crate::prelude::*;

use core::fmt;
use core::time::Duration;

use crate::text::text;

/// Stable numeric codes, one per [`Error`] variant. `0` is success in the bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    Config = 1,
    InsecureUrl = 2,
    Transport = 3,
    Timeout = 4,
    Http = 5,
    OAuth = 6,
    Api = 7,
    InvalidResponse = 8,
    StateMismatch = 9,
    IssuerMismatch = 10,
    MissingClaim = 11,
    LoginRequired = 12,
    InvalidToken = 13,
}

impl ErrorCode {
    /// Every code, in numeric order (for tables, bindings and tests).
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::Config,
        ErrorCode::InsecureUrl,
        ErrorCode::Transport,
        ErrorCode::Timeout,
        ErrorCode::Http,
        ErrorCode::OAuth,
        ErrorCode::Api,
        ErrorCode::InvalidResponse,
        ErrorCode::StateMismatch,
        ErrorCode::IssuerMismatch,
        ErrorCode::MissingClaim,
        ErrorCode::LoginRequired,
        ErrorCode::InvalidToken,
    ];

    /// The stable snake_case name used as the JS `code` and in CLI output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::InsecureUrl => "insecure_url",
            ErrorCode::Transport => "transport",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Http => "http",
            ErrorCode::OAuth => "oauth",
            ErrorCode::Api => "api",
            ErrorCode::InvalidResponse => "invalid_response",
            ErrorCode::StateMismatch => "state_mismatch",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::MissingClaim => "missing_claim",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InvalidToken => "invalid_token",
        }
    }
}

/// Everything that can go wrong, typed so callers can react without parsing messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The authorization server refused: an RFC 6749 §5.2 body (`invalid_client`,
    /// `invalid_grant`, `invalid_scope`, ...) or an `error=` parameter on the callback URL.
    /// `status` is `None` for callback errors, which arrive without an HTTP status.
    OAuth {
        error: String,
        error_description: Option<String>,
        error_uri: Option<String>,
        status: Option<u16>,
    },
    /// A resource API refused, e.g. Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}`.
    Api {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    /// A response that is neither success nor an OAuth error body: a 5xx, a 429, an HTML page.
    Http {
        status: u16,
        body_excerpt: String,
        /// From a `Retry-After` header (seconds form), when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The connection failed (refused, reset, DNS, TLS).
    Transport(String),
    /// No complete answer within the configured timeout.
    Timeout(Duration),
    /// A success status whose body is not what the protocol promises (truncated JSON,
    /// no `access_token`, too large).
    InvalidResponse(String),
    /// The callback's `state` is not the one this login sent: possible CSRF, or a stale tab.
    StateMismatch,
    /// The callback's or discovery document's `iss` is not the expected issuer (RFC 9207).
    IssuerMismatch { expected: String, found: String },
    /// A token lacks a claim the configuration requires (Docbyte rejects tokens without `tenant`).
    MissingClaim(String),
    /// No way to get a new token without the user: no refresh token (or it was refused) and no
    /// client credentials to fall back on.
    LoginRequired(String),
    /// The caller's configuration or input is wrong; the message names what to fix.
    Config(String),
    /// A plain `http://` URL that is not loopback.
    InsecureUrl(String),
    /// A signed token (an ID token, or an access token a resource server checks) failed
    /// verification: `check` says which rule, the message what to look at.
    InvalidToken { check: TokenCheck, detail: String },
}

/// Which rule a token failed ([`Error::InvalidToken`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenCheck {
    /// Not a compact JWS at all, or a malformed one.
    Format,
    /// `alg: none`, an HMAC algorithm, or one not supported.
    Algorithm,
    /// The provider's key set could not be had or read.
    KeySet,
    /// No key in the provider's set fits the token's `kid` and algorithm.
    Key,
    /// A key fits, and the signature does not verify with it.
    Signature,
    /// `iss` is not the provider's issuer.
    Issuer,
    /// `aud` does not contain the expected audience.
    Audience,
    /// `azp` is not this client.
    AuthorizedParty,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// The ID token's `nonce` is not this login's.
    Nonce,
    /// `auth_time` is missing or older than the `max_age` the login asked for.
    AuthTime,
    /// The token is of another kind (an ID token where an access token was expected).
    Type,
    /// A role the caller requires is not granted.
    Role,
}

impl TokenCheck {
    /// The stable snake_case name (bindings expose it beside the error code).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenCheck::Format => "format",
            TokenCheck::Algorithm => "algorithm",
            TokenCheck::KeySet => "key_set",
            TokenCheck::Key => "key",
            TokenCheck::Signature => "signature",
            TokenCheck::Issuer => "issuer",
            TokenCheck::Audience => "audience",
            TokenCheck::AuthorizedParty => "authorized_party",
            TokenCheck::Expired => "expired",
            TokenCheck::IssuedInFuture => "issued_in_future",
            TokenCheck::Nonce => "nonce",
            TokenCheck::AuthTime => "auth_time",
            TokenCheck::Type => "type",
            TokenCheck::Role => "role",
        }
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::OAuth { .. } => ErrorCode::OAuth,
            Error::Api { .. } => ErrorCode::Api,
            Error::Http { .. } => ErrorCode::Http,
            Error::Transport(_) => ErrorCode::Transport,
            Error::Timeout(_) => ErrorCode::Timeout,
            Error::InvalidResponse(_) => ErrorCode::InvalidResponse,
            Error::StateMismatch => ErrorCode::StateMismatch,
            Error::IssuerMismatch { .. } => ErrorCode::IssuerMismatch,
            Error::MissingClaim(_) => ErrorCode::MissingClaim,
            Error::LoginRequired(_) => ErrorCode::LoginRequired,
            Error::Config(_) => ErrorCode::Config,
            Error::InsecureUrl(_) => ErrorCode::InsecureUrl,
            Error::InvalidToken { .. } => ErrorCode::InvalidToken,
        }
    }

    /// The server's OAuth `error` code (`invalid_client`, ...), if this is an OAuth error.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server's `error_description`, if it sent one.
    pub fn oauth_description(&self) -> Option<&str> {
        match self {
            Error::OAuth {
                error_description, ..
            } => error_description.as_deref(),
            _ => None,
        }
    }

    /// What the server said when it refused, as a code and a description, for bindings that
    /// report one pair whatever the refusal: an OAuth error's `error` and `error_description`,
    /// an API's `code` and `message` (the seed APIs' error shapes). `(None, None)` otherwise.
    pub fn refusal_detail(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Error::Api { code, message, .. } => (code.as_deref(), message.as_deref()),
            _ => (self.oauth_error(), self.oauth_description()),
        }
    }

    /// The HTTP status of the answer behind this error: an OAuth error from an endpoint, an
    /// API's refusal or an unexpected response. `None` for callback errors and for failures
    /// without an answer.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::OAuth { status, .. } => *status,
            Error::Http { status, .. } | Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the server refused the refresh token for good (`invalid_grant`: expired,
    /// revoked, or already used with rotation): drop it, retrying it cannot succeed.
    pub fn refuses_refresh_token(&self) -> bool {
        self.oauth_error() == Some("invalid_grant")
    }

    /// True when trying again later may succeed (network trouble, 5xx, 429). False when the
    /// request itself is wrong and must be fixed first.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout(_) => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Error::InvalidResponse(_) => true,
            _ => false,
        }
    }

    /// How long the server asked us to wait before retrying, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    /// A response body over the configured size cap (the blocking transport and the browser's
    /// `fetch` both enforce it).
    pub fn response_too_large(limit: u64) -> Self {
        Error::InvalidResponse(text!(
            "the response is larger than the ",
            limit,
            " byte limit"
        ))
    }

    /// A token that failed `check`; `detail` says what to look at (never the token).
    pub fn invalid_token(check: TokenCheck, detail: impl Into<String>) -> Self {
        Error::InvalidToken {
            check,
            detail: detail.into(),
        }
    }

    /// Which verification rule failed, for an [`Error::InvalidToken`].
    pub fn token_check(&self) -> Option<TokenCheck> {
        match self {
            Error::InvalidToken { check, .. } => Some(*check),
            _ => None,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidResponse(msg.into())
    }
}

impl Error {
    /// The message `Display` prints: what happened and what to do next. Built without
    /// `core::fmt` (see [`crate::text`]), so the browser package can hand it to JS as is.
    pub fn message(&self) -> String {
        match self {
            Error::OAuth {
                error,
                error_description,
                status,
                ..
            } => {
                let shown = quoted(error);
                let mut m = match status {
                    Some(s) => text!("the authorization server refused (HTTP ", s, "): ", shown),
                    None => text!("the authorization server returned an error: ", shown),
                };
                if let Some(d) = error_description {
                    m.push_str(&text!(" (", quoted(d), ")"));
                }
                m.push_str(oauth_hint(error));
                m
            }
            Error::Api {
                status,
                code,
                message,
            } => {
                let mut m = text!("the API refused the request (HTTP ", status, ")");
                if let Some(c) = code {
                    m.push_str(&text!(": ", quoted(c)));
                }
                if let Some(msg) = message {
                    m.push_str(&text!(" (", quoted(msg), ")"));
                }
                if *status == 401 {
                    m.push_str("; the token is missing, expired, malformed or lacks a required claim such as `tenant`");
                }
                m
            }
            Error::Http {
                status,
                body_excerpt,
                retry_after,
            } => {
                let mut m = text!("unexpected HTTP ", status, " from the server");
                if !body_excerpt.is_empty() {
                    m.push_str(&text!(": ", body_excerpt));
                }
                match retry_after {
                    Some(d) => m.push_str(&text!("; it asked to retry after ", d.as_secs(), " s")),
                    None if *status >= 500 => m.push_str("; the server has trouble, try again later"),
                    None => m.push_str("; check the endpoint URL"),
                }
                m
            }
            Error::Transport(m) => text!(
                "could not reach the server: ",
                m,
                "; check the URL, the network and any proxy settings"
            ),
            // Whole and tenth seconds as integers: no float formatting for one message.
            Error::Timeout(d) => text!(
                "no answer from the server within ",
                d.as_secs(),
                '.',
                d.subsec_millis() / 100,
                " s; check that it is up or raise the timeout"
            ),
            Error::InvalidResponse(m) => text!("the server's response is not usable: ", m),
            Error::StateMismatch => "the callback's `state` does not match the login that was started; start a new login (the callback may be stale or forged)".into(),
            Error::IssuerMismatch { expected, found } => text!(
                "issuer mismatch: expected `",
                quoted(expected),
                "`, got `",
                quoted(found),
                "`; check the issuer URL (host, port and realm must match exactly), or, if the provider is reached by an internal URL while its tokens carry a public issuer, set the expected issuer to the public one (Rust: ClientBuilder::expected_issuer, C: tw_options_set_expected_issuer, Python: expected_issuer=, CLI: --expected-issuer)"
            ),
            Error::MissingClaim(c) => text!(
                "the access token has no `",
                c,
                "` claim, which this client requires; ask the provider to add a `",
                c,
                "` mapper to the client"
            ),
            Error::LoginRequired(m) => text!("a new login is required: ", m),
            Error::Config(m) => text!("invalid configuration: ", m),
            Error::InsecureUrl(u) => text!(
                "refusing plain http for `",
                u,
                "`: use https (http is allowed only for loopback addresses)"
            ),
            Error::InvalidToken { detail, .. } => text!("the token does not verify: ", detail),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

/// Text from the other side (a server's `error_description`, a callback's `iss`) as a message
/// quotes it: each control character replaced by U+FFFD, so it cannot forge log lines or
/// terminal output, and at most 200 characters. The error's fields keep the text as it came.
/// (Replaced rather than escaped: `char::escape_default` would add 0.6 KB gzip to the browser
/// package.)
fn quoted(text: &str) -> String {
    const MAX: usize = 200;
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{fffd}' } else { c });
    }
    out
}

/// One hint per common OAuth error code, so the message says what to do next.
fn oauth_hint(error: &str) -> &'static str {
    match error {
        "invalid_client" => "; check the client id and secret and the client authentication method",
        "unauthorized_client" => {
            "; this client may not use this grant (enable it on the client in Keycloak)"
        }
        "invalid_scope" => "; request only scopes the client is allowed to ask for",
        "invalid_grant" => "; the code or refresh token is expired, used or revoked: log in again",
        "invalid_request" => "; a parameter is missing or malformed",
        "access_denied" => "; the user or the server denied the request",
        "unsupported_grant_type" => "; the server does not support this grant",
        _ => "",
    }
}

pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_other_side_cannot_forge_lines_or_flood_the_message() {
        let e = Error::OAuth {
            error: "access_denied\nFAKE LOG LINE".into(),
            error_description: Some("\u{1b}[31mred\u{0}".into()),
            error_uri: None,
            status: None,
        };
        let m = e.message();
        assert!(!m.chars().any(char::is_control), "{m:?}");
        assert!(m.contains("access_denied\u{fffd}FAKE LOG LINE"), "{m}");
        assert!(m.contains("(\u{fffd}[31mred\u{fffd})"), "{m}");
        assert_eq!(
            e.oauth_error(),
            Some("access_denied\nFAKE LOG LINE"),
            "fields keep the text"
        );

        let long = Error::IssuerMismatch {
            expected: "https://sso.example/realms/r".into(),
            found: "x".repeat(10_000),
        };
        assert!(
            long.message().chars().count() < 600,
            "{}",
            long.message().len()
        );
        assert!(long.message().contains("xx…`"));
        let plain = Error::Api {
            status: 401,
            code: Some("NOT_AUTHORIZED".into()),
            message: Some("Veuillez vous reconnecter".into()),
        };
        assert_eq!(
            plain.refusal_detail(),
            (Some("NOT_AUTHORIZED"), Some("Veuillez vous reconnecter"))
        );
        assert_eq!(e.refusal_detail().0, Some("access_denied\nFAKE LOG LINE"));
        assert_eq!(long.refusal_detail(), (None, None));
        assert!(plain.message().starts_with(
            "the API refused the request (HTTP 401): NOT_AUTHORIZED (Veuillez vous reconnecter)"
        ));
    }
}
