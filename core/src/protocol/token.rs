//! Token endpoint responses: the [`Token`] a successful one carries. What an unsuccessful one
//! becomes is [`crate::oauth_error`]'s.

use crate::prelude::*;

use core::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fields::{Field, Fields};
use crate::http::HttpResponse;
use crate::jwt::Claims;
use crate::lifetime::{refresh_token_deadline, usable_lifetime};
use crate::oauth_error::{error_from_parts, error_from_response, json_object, oauth_error_in};
use crate::secret::Secret;
use crate::text::text;

/// When a token request was sent: the anchor its lifetime is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAt {
    /// Monotonic reading of the client's [`Clock`](crate::Clock).
    pub monotonic: Duration,
    /// Wall-clock seconds since the epoch at the same moment.
    pub unix: u64,
}

/// The RFC 6749 §5.1 fields of a successful token response, checked: what every binding needs,
/// without the JSON around it.
#[derive(Debug, Clone)]
pub struct TokenFields {
    pub access_token: Secret,
    /// `Bearer` (the only type accepted; the server's spelling is normalised).
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
    pub refresh_expires_in: Option<u64>,
    pub id_token: Option<Secret>,
    pub scope: Option<String>,
}

/// An access token and everything that came with it.
#[derive(Debug, Clone)]
pub struct Token {
    fields: TokenFields,
    extra: Map<String, Value>,
    claims: Option<Claims>,
    /// The ID token's claims, once its signature and claims were verified.
    id_token_claims: Option<Claims>,
    sent_at: SentAt,
    lifetime: Option<Duration>,
}

impl Token {
    pub fn access_token(&self) -> &Secret {
        &self.fields.access_token
    }

    /// `Bearer` for every token this crate accepts.
    pub fn token_type(&self) -> &str {
        &self.fields.token_type
    }

    /// `Authorization` header value: `Bearer <token>`.
    pub fn authorization_header(&self) -> Secret {
        bearer_header(self.fields.access_token.expose())
    }

    pub fn expires_in(&self) -> Option<u64> {
        self.fields.expires_in
    }

    pub fn refresh_token(&self) -> Option<&Secret> {
        self.fields.refresh_token.as_ref()
    }

    /// Keycloak's `refresh_expires_in`; `0` means the refresh token does not expire by time
    /// (offline tokens) or there is none.
    pub fn refresh_expires_in(&self) -> Option<u64> {
        self.fields.refresh_expires_in
    }

    pub fn id_token(&self) -> Option<&Secret> {
        self.fields.id_token.as_ref()
    }

    /// The granted scope, when the server said (Keycloak always does).
    pub fn scope(&self) -> Option<&str> {
        self.fields.scope.as_deref()
    }

    /// Response fields beyond RFC 6749's: Keycloak's `not-before-policy`, `session_state`, ...
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    pub fn not_before_policy(&self) -> Option<i64> {
        self.extra.get("not-before-policy").and_then(Value::as_i64)
    }

    pub fn session_state(&self) -> Option<&str> {
        self.extra.get("session_state").and_then(Value::as_str)
    }

    /// The access token's claims, when it is a readable JWT (never verified: see [`Claims`]).
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }

    /// The ID token's claims, verified (signature against the provider's keys, `iss`, `aud`,
    /// `azp`, `exp`, `iat`, and on a login `nonce`): who the user is. `None` when the answer
    /// carried no ID token.
    pub fn id_token_claims(&self) -> Option<&Claims> {
        self.id_token_claims.as_ref()
    }

    /// Records the ID token's claims once the runtime verified them.
    pub fn set_verified_id_token_claims(&mut self, claims: Claims) {
        self.id_token_claims = Some(claims);
    }

    pub fn sent_at(&self) -> SentAt {
        self.sent_at
    }

    /// How long after [`Token::sent_at`] the token is usable; `None` if the server did not say.
    pub fn lifetime(&self) -> Option<Duration> {
        self.lifetime
    }

    /// Usable until this monotonic instant (`None`: unknown lifetime).
    pub fn expires_at(&self) -> Option<Duration> {
        self.lifetime
            .map(|l| self.sent_at.monotonic.saturating_add(l))
    }

    /// The refresh token's own deadline, when it has one.
    pub fn refresh_expires_at(&self) -> Option<Duration> {
        refresh_token_deadline(self.sent_at.monotonic, self.fields.refresh_expires_in)
    }

    /// The response as the server sent it, as a JSON object: `access_token`, `token_type`,
    /// `expires_in`, `refresh_token`, `refresh_expires_in`, `id_token`, `scope` and every extra
    /// field. It holds the tokens in clear: for `--json` style output the user asked for.
    pub fn response_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "access_token".into(),
            self.fields.access_token.expose().into(),
        );
        m.insert("token_type".into(), self.fields.token_type.clone().into());
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("expires_in", self.fields.expires_in.map(Value::from));
        put(
            "refresh_token",
            self.fields
                .refresh_token
                .as_ref()
                .map(|s| s.expose().into()),
        );
        put(
            "refresh_expires_in",
            self.fields.refresh_expires_in.map(Value::from),
        );
        put(
            "id_token",
            self.fields.id_token.as_ref().map(|s| s.expose().into()),
        );
        put("scope", self.fields.scope.clone().map(Value::from));
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// Fails with [`Error::MissingClaim`] for the first required claim the token lacks.
    pub fn check_required_claims(&self, required: &[String]) -> Result<()> {
        for name in required {
            let present = self.claims.as_ref().is_some_and(|c| c.has(name));
            if !present {
                return Err(Error::MissingClaim(name.clone()));
            }
        }
        Ok(())
    }

    /// A refresh response may omit `refresh_token`, meaning "keep using the old one"
    /// (RFC 6749 §6). This carries it over, with its own deadline.
    pub fn inherit_refresh_token(&mut self, previous: &Token) {
        if let Some(rt) = &previous.fields.refresh_token {
            let deadline = previous.refresh_expires_at();
            self.fields
                .inherit_refresh_token(rt, deadline, self.sent_at.monotonic);
        }
    }

    /// Uses `refresh_token` when the response carried none (it was not rotated).
    pub fn keep_refresh_token(&mut self, refresh_token: &Secret) {
        self.fields
            .inherit_refresh_token(refresh_token, None, self.sent_at.monotonic);
    }

    /// The same token without its refresh token (after the server refused it).
    pub fn without_refresh_token(&self) -> Token {
        let mut t = self.clone();
        t.fields.refresh_token = None;
        t.fields.refresh_expires_in = None;
        t
    }

    /// The checked standard fields.
    pub fn fields(&self) -> &TokenFields {
        &self.fields
    }
}

pub(crate) fn bearer_header(access_token: &str) -> Secret {
    let mut h = String::with_capacity(7 + access_token.len());
    h.push_str("Bearer ");
    h.push_str(access_token);
    Secret::new(h)
}

/// Turns a token endpoint response into a [`Token`], or into the typed error it carries.
pub fn parse_token_response(resp: &HttpResponse, sent_at: SentAt) -> Result<Token> {
    if !resp.is_success() {
        return Err(error_from_response(resp));
    }
    let mut obj = json_object(&resp.body, "token response")?;
    let fields = check_token_answer(resp.status, Some(&mut obj), &resp.body, None)?;
    Ok(Token::new(fields, obj, sent_at))
}

/// Builds a token from an already-parsed successful response object.
pub fn token_from_fields(mut obj: Map<String, Value>, sent_at: SentAt) -> Result<Token> {
    let fields = TokenFields::take_from(&mut obj)?;
    Ok(Token::new(fields, obj, sent_at))
}

impl Token {
    /// `extra` is what is left of the response object after the standard fields were taken.
    fn new(fields: TokenFields, extra: Map<String, Value>, sent_at: SentAt) -> Token {
        let claims = Claims::decode_unverified(fields.access_token.expose()).ok();
        let times = claims.as_ref().map(Claims::times).unwrap_or_default();
        let lifetime = usable_lifetime(fields.expires_in, times, sent_at.unix);
        Token {
            fields,
            extra,
            claims,
            id_token_claims: None,
            sent_at,
            lifetime,
        }
    }
}

/// What a token endpoint answered, for callers that parse JSON themselves (the browser's
/// `JSON.parse`): the checked fields, or the typed error. `obj` is the body parsed as a JSON
/// object, `None` when it is not one; `retry_after` comes from the `Retry-After` header.
pub fn check_token_answer(
    status: u16,
    obj: Option<&mut dyn Fields>,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<TokenFields> {
    if !(200..300).contains(&status) {
        return Err(error_from_parts(status, obj, body, retry_after));
    }
    let Some(obj) = obj else {
        return Err(Error::invalid("the token response is not a JSON object"));
    };
    // Some servers answer 200 with an error body; RFC 6749 says 400, but the meaning is clear.
    if let Some(err) = oauth_error_in(obj, status) {
        return Err(err);
    }
    TokenFields::take_from(obj)
}

impl TokenFields {
    /// RFC 6749 §6: a refresh answer without `refresh_token` means "keep using the old one".
    /// `deadline` is the old one's own deadline on the monotonic clock (`None`: it has none);
    /// it is carried over as a `refresh_expires_in` counted from `sent`, this answer's request.
    pub fn inherit_refresh_token(
        &mut self,
        previous: &Secret,
        deadline: Option<Duration>,
        sent: Duration,
    ) {
        if self.refresh_token.is_none() {
            self.refresh_token = Some(previous.clone());
            self.refresh_expires_in = deadline.map(|at| at.saturating_sub(sent).as_secs() + 1);
        }
    }

    /// Takes the standard fields out of a successful response object and checks them; what
    /// stays in `obj` are the server's extras.
    pub fn take_from(obj: &mut dyn Fields) -> Result<TokenFields> {
        let access_token = match obj.take("access_token") {
            Field::Str(s) if !s.is_empty() => visible_ascii(Secret::new(s), "access_token")?,
            Field::Missing => {
                return Err(Error::invalid("the token response has no `access_token`"))
            }
            _ => {
                return Err(Error::invalid(
                    "`access_token` in the token response is not a non-empty string",
                ))
            }
        };
        let token_type = match obj.take("token_type") {
            Field::Str(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_string(),
            Field::Missing => "Bearer".to_string(),
            Field::Str(t) => {
                return Err(Error::invalid(text!(
                    "token_type `",
                    t.chars().take(20).collect::<String>(),
                    "` is not supported; tokenward sends Bearer tokens only"
                )))
            }
            _ => return Err(Error::invalid("`token_type` is not a string")),
        };
        let expires_in = seconds(obj, "expires_in")?;
        let refresh_expires_in = seconds(obj, "refresh_expires_in")?;
        let refresh_token = secret(obj, "refresh_token")?;
        let id_token = secret(obj, "id_token")?;
        let scope = match obj.take("scope") {
            Field::Str(s) => Some(s),
            Field::Missing => None,
            _ => return Err(Error::invalid("`scope` is not a string")),
        };
        Ok(TokenFields {
            access_token,
            token_type,
            expires_in,
            refresh_token,
            refresh_expires_in,
            id_token,
            scope,
        })
    }
}

fn seconds(obj: &mut dyn Fields, name: &str) -> Result<Option<u64>> {
    obj.take(name).seconds(name)
}

fn secret(obj: &mut dyn Fields, name: &str) -> Result<Option<Secret>> {
    match obj.take(name) {
        Field::Missing => Ok(None),
        Field::Str(s) if s.is_empty() => Ok(None),
        Field::Str(s) => Ok(Some(visible_ascii(Secret::new(s), name)?)),
        _ => Err(Error::invalid(text!("`", name, "` is not a string"))),
    }
}

/// Tokens are VSCHAR (printable ASCII, RFC 6749 A.12/A.17): anything else would break the
/// `Authorization` header, or be cut short at a NUL by a C caller.
fn visible_ascii(token: Secret, name: &str) -> Result<Secret> {
    if token.expose().bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        Ok(token)
    } else {
        Err(Error::invalid(text!(
            "`",
            name,
            "` holds characters outside printable ASCII, which RFC 6749 does not allow"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::make_test_jwt;

    const SENT: SentAt = SentAt {
        monotonic: Duration::from_secs(100),
        unix: 1_700_000_000,
    };

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, vec![], body.as_bytes().to_vec())
    }

    #[test]
    fn ecoinvent_response_keeps_keycloak_extras() {
        let body = r#"{"access_token":"abc","expires_in":3600,"token_type":"Bearer","not-before-policy":0,
                       "session_state":"9ee34d1b-1f9d-4019-bac8-11c32eaff894","refresh_expires_in":0}"#;
        let t = parse_token_response(&resp(200, body), SENT).unwrap();
        assert_eq!(t.access_token().expose(), "abc");
        assert_eq!(t.expires_in(), Some(3600));
        assert_eq!(t.not_before_policy(), Some(0));
        assert_eq!(
            t.session_state(),
            Some("9ee34d1b-1f9d-4019-bac8-11c32eaff894")
        );
        assert_eq!(t.refresh_expires_in(), Some(0));
        assert_eq!(t.refresh_expires_at(), None);
        assert_eq!(t.expires_at(), Some(Duration::from_secs(3700)));
        assert_eq!(t.authorization_header().expose(), "Bearer abc");
        assert!(t.claims().is_none());
    }

    #[test]
    fn jwt_bounds_the_lifetime() {
        let jwt = make_test_jwt(r#"{"iat":1700000000,"exp":1700000300,"tenant":"acme"}"#);
        let body = format!(r#"{{"access_token":"{jwt}","expires_in":300,"token_type":"bearer"}}"#);
        let t = parse_token_response(&resp(200, &body), SENT).unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(299)));
        assert_eq!(t.token_type(), "Bearer");
        assert!(t.check_required_claims(&["tenant".into()]).is_ok());
        assert_eq!(
            t.check_required_claims(&["tenant".into(), "org".into()])
                .unwrap_err(),
            Error::MissingClaim("org".into())
        );
    }

    #[test]
    fn absurd_lifetimes_do_not_overflow() {
        for body in [
            r#"{"access_token":"a","expires_in":18446744073709551615,"refresh_token":"r","refresh_expires_in":18446744073709551615}"#,
            r#"{"access_token":"a","expires_in":1e30}"#,
        ] {
            let t = parse_token_response(&resp(200, body), SENT).unwrap();
            assert!(t.expires_at().unwrap() > SENT.monotonic);
            let _ = t.refresh_expires_at();
        }
    }

    #[test]
    fn response_json_round_trips_the_fields() {
        let body = r#"{"access_token":"a","expires_in":300,"refresh_token":"r","token_type":"Bearer","not-before-policy":0,"scope":"openid"}"#;
        let t = parse_token_response(&resp(200, body), SENT).unwrap();
        let back: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::Value::Object(t.response_json()), back);
    }

    #[test]
    fn broken_success_bodies_are_invalid_responses() {
        for (body, needle) in [
            (r#"{"access_token":"abc","expires_"#, "truncated"),
            ("<html>oops</html>", "not JSON"),
            (r#"{"token_type":"Bearer"}"#, "no `access_token`"),
            (
                r#"{"access_token":"abc","token_type":"DPoP"}"#,
                "not supported",
            ),
            (
                r#"{"access_token":"abc","expires_in":"soon"}"#,
                "expires_in",
            ),
            ("[]", "not an object"),
            ("{\"access_token\":\"ab\\u0000c\"}", "printable ASCII"),
            (
                "{\"access_token\":\"abc\",\"refresh_token\":\"r\\nx\"}",
                "printable ASCII",
            ),
        ] {
            let e = parse_token_response(&resp(200, body), SENT).unwrap_err();
            assert!(matches!(e, Error::InvalidResponse(_)), "{body}: {e:?}");
            assert!(e.to_string().contains(needle), "{body}: {e}");
            assert!(!e.to_string().contains("abc"));
        }
    }

    #[test]
    fn server_errors_keep_status_and_retry_after() {
        let r = HttpResponse::new(
            503,
            vec![("Retry-After".into(), "7".into())],
            b"<h1>down</h1>".to_vec(),
        );
        match parse_token_response(&r, SENT).unwrap_err() {
            Error::Http {
                status: 503,
                body_excerpt,
                retry_after,
            } => {
                assert_eq!(body_excerpt, "down");
                assert_eq!(retry_after, Some(Duration::from_secs(7)));
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn refresh_token_is_inherited_when_not_rotated() {
        let first = parse_token_response(
            &resp(200, r#"{"access_token":"a","expires_in":60,"refresh_token":"r1","refresh_expires_in":1800}"#),
            SENT,
        )
        .unwrap();
        let later = SentAt {
            monotonic: SENT.monotonic + Duration::from_secs(100),
            ..SENT
        };
        let mut second =
            parse_token_response(&resp(200, r#"{"access_token":"b","expires_in":60}"#), later)
                .unwrap();
        second.inherit_refresh_token(&first);
        assert_eq!(second.refresh_token().unwrap().expose(), "r1");
        assert_eq!(second.refresh_expires_at(), first.refresh_expires_at());
    }
}
