//! The claims a verified token must carry: OpenID Connect Core §3.1.3.7 for ID tokens, and
//! the checks a resource server makes of an access token (RFC 9068, Keycloak's `typ: Bearer`).
//! Pure functions of the claims, the expectations and `now`; the signature is checked first by
//! [`crate::jws`], so no claim is trusted before it.

use crate::prelude::*;

use alloc::borrow::Cow;
use core::time::Duration;

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result, TokenCheck};
use crate::jwt::Claims;
use crate::text::text;

/// How far clocks may disagree when `exp` and `iat` are compared with ours (default 30 s).
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// What every verified token is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The issuer tokens must name (`iss`): the provider's public issuer, which may differ
    /// from the URL the client reaches it by (Keycloak's `hostname` setting).
    pub issuer: &'a str,
    /// Seconds since the Unix epoch, now.
    pub now: u64,
    pub leeway: Duration,
}

/// What an ID token is checked against beyond [`Expect`].
#[derive(Debug, Clone, Copy)]
pub struct IdTokenExpect<'a> {
    pub client_id: &'a str,
    /// The login's `nonce` (code exchange); `None` on refresh, where OIDC Core §12.2 does not
    /// require it.
    pub nonce: Option<&'a str>,
    /// The `max_age` the login asked for: `auth_time` must then be recent enough.
    pub max_age: Option<u64>,
}

/// What an access token is checked against beyond [`Expect`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessTokenExpect<'a> {
    /// An audience `aud` must contain (this resource server's client id, say); `None` skips.
    pub audience: Option<&'a str>,
    /// Claims that must be present and not empty (Docbyte's `tenant`).
    pub required_claims: &'a [String],
    /// Roles that must be granted: Keycloak realm roles, or client roles of any client.
    pub required_roles: &'a [String],
}

/// The claims the ID token and time checks read, whoever parsed the payload: [`Claims`]
/// natively, the object `JSON.parse` made in the browser package. One set of rules either way.
pub trait ClaimsView {
    /// A string claim (`None` when absent or not a string).
    fn text(&self, name: &str) -> Option<Cow<'_, str>>;
    /// A NumericDate claim: seconds since the epoch, integer or float JSON.
    fn date(&self, name: &str) -> Option<u64>;
    /// `aud` as a list (the claim may be a string or an array).
    fn audience(&self) -> Vec<Cow<'_, str>>;
}

impl ClaimsView for Claims {
    fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.str(name).map(Cow::Borrowed)
    }

    fn date(&self, name: &str) -> Option<u64> {
        self.numeric_date(name)
    }

    fn audience(&self) -> Vec<Cow<'_, str>> {
        Claims::audience(self)
            .into_iter()
            .map(Cow::Borrowed)
            .collect()
    }
}

/// OIDC Core §3.1.3.7: `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `auth_time`.
pub fn check_id_token(
    claims: &dyn ClaimsView,
    expect: &Expect<'_>,
    id: &IdTokenExpect<'_>,
) -> Result<()> {
    check_issuer(claims, expect)?;
    let aud = claims.audience();
    if !aud.iter().any(|a| a == id.client_id) {
        return Err(Error::invalid_token(
            TokenCheck::Audience,
            text!(
                "the ID token is not for this client: its `aud` does not contain `",
                id.client_id,
                "`; check the client id"
            ),
        ));
    }
    match claims.text("azp").as_deref() {
        Some(azp) if azp != id.client_id => {
            return Err(Error::invalid_token(
                TokenCheck::AuthorizedParty,
                text!(
                    "the ID token was issued to another client (`azp` is not `",
                    id.client_id,
                    "`)"
                ),
            ))
        }
        None if aud.len() > 1 => {
            return Err(Error::invalid_token(
                TokenCheck::AuthorizedParty,
                "the ID token has several audiences and no `azp` naming this client",
            ))
        }
        _ => {}
    }
    check_times(claims, expect, "ID token")?;
    if let Some(nonce) = id.nonce {
        check_nonce(claims.text("nonce").as_deref(), nonce)?;
    }
    if let Some(max_age) = id.max_age {
        let leeway = expect.leeway.as_secs();
        match claims.date("auth_time") {
            Some(at) if at.saturating_add(max_age).saturating_add(leeway) >= expect.now => {}
            Some(_) => {
                return Err(Error::invalid_token(
                    TokenCheck::AuthTime,
                    "the user signed in longer ago than the login's `max_age` allows; start a new login",
                ))
            }
            None => {
                return Err(Error::invalid_token(
                    TokenCheck::AuthTime,
                    "the login asked for `max_age` but the ID token has no `auth_time`",
                ))
            }
        }
    }
    Ok(())
}

/// The ID token's `nonce` claim (`found`) against the login's, in constant time.
pub fn check_nonce(found: Option<&str>, nonce: &str) -> Result<()> {
    let found = found.unwrap_or("");
    if bool::from(found.as_bytes().ct_eq(nonce.as_bytes())) {
        Ok(())
    } else {
        Err(Error::invalid_token(
            TokenCheck::Nonce,
            "the ID token's `nonce` is not this login's (a replayed or injected token); start a new login",
        ))
    }
}

/// A resource server's check of an access token: `iss`, `exp` / `iat`, that it is an access
/// token (header `typ` `at+jwt`, or Keycloak's payload `typ: Bearer`; never an ID token), the
/// audience, the required claims and roles.
pub fn check_access_token(
    header_typ: Option<&str>,
    claims: &Claims,
    expect: &Expect<'_>,
    access: &AccessTokenExpect<'_>,
) -> Result<()> {
    check_issuer(claims, expect)?;
    check_times(claims, expect, "access token")?;
    let at_jwt = header_typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    let payload_typ = claims.str("typ");
    if !at_jwt && payload_typ.is_some_and(|t| !t.eq_ignore_ascii_case("Bearer")) {
        return Err(Error::invalid_token(
            TokenCheck::Type,
            text!(
                "this is not an access token (its `typ` is `",
                payload_typ
                    .unwrap_or("")
                    .chars()
                    .take(20)
                    .collect::<String>(),
                "`); send the access token, not the ID or refresh token"
            ),
        ));
    }
    if let Some(audience) = access.audience {
        if !claims.audience().contains(&audience) {
            return Err(Error::invalid_token(
                TokenCheck::Audience,
                text!(
                    "the access token is not for `",
                    audience,
                    "` (not in its `aud`); in Keycloak, add an audience mapper for it to the calling client"
                ),
            ));
        }
    }
    if let Some(missing) = access.required_claims.iter().find(|c| !claims.has(c)) {
        return Err(Error::MissingClaim(missing.clone()));
    }
    if let Some(role) = access.required_roles.iter().find(|r| !has_role(claims, r)) {
        return Err(Error::invalid_token(
            TokenCheck::Role,
            text!(
                "the token does not grant the role `",
                role,
                "`; assign it to the user or the client's service account"
            ),
        ));
    }
    Ok(())
}

/// A Keycloak realm role, or a client role of any client (`resource_access.*.roles`).
fn has_role(claims: &Claims, role: &str) -> bool {
    claims.has_realm_role(role)
        || claims
            .get("resource_access")
            .and_then(Value::as_object)
            .is_some_and(|clients| {
                clients
                    .keys()
                    .any(|c| claims.client_roles(c).contains(&role))
            })
}

fn check_issuer(claims: &dyn ClaimsView, expect: &Expect<'_>) -> Result<()> {
    match claims.text("iss").as_deref() {
        Some(iss) if iss == expect.issuer => Ok(()),
        found => Err(Error::invalid_token(
            TokenCheck::Issuer,
            text!(
                "the token's issuer `",
                found.unwrap_or("").chars().take(200).collect::<String>(),
                "` is not `",
                expect.issuer,
                "`; if Keycloak is reached by an internal URL while tokens carry its public one, set the expected issuer to the public URL (Rust: ClientBuilder::expected_issuer, C: tw_options_set_expected_issuer, Python: expected_issuer=, CLI: --expected-issuer)"
            ),
        )),
    }
}

fn check_times(claims: &dyn ClaimsView, expect: &Expect<'_>, what: &str) -> Result<()> {
    let leeway = expect.leeway.as_secs();
    match claims.date("exp") {
        Some(exp) if exp.saturating_add(leeway) > expect.now => {}
        Some(_) => {
            return Err(Error::invalid_token(
                TokenCheck::Expired,
                text!("the ", what, " has expired (`exp` is past, beyond the leeway); get a new one, and check this machine's clock"),
            ))
        }
        None => {
            return Err(Error::invalid_token(
                TokenCheck::Expired,
                text!("the ", what, " has no `exp`"),
            ))
        }
    }
    if let Some(iat) = claims.date("iat") {
        if iat > expect.now.saturating_add(leeway) {
            return Err(Error::invalid_token(
                TokenCheck::IssuedInFuture,
                text!("the ", what, " was issued in the future (`iat`); check this machine's clock or raise the leeway"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        match serde_json::from_str(json).unwrap() {
            Value::Object(m) => Claims(m),
            _ => unreachable!(),
        }
    }

    const ISS: &str = "https://kc.example/realms/vion";
    const NOW: u64 = 1_700_000_100;

    fn expect() -> Expect<'static> {
        Expect {
            issuer: ISS,
            now: NOW,
            leeway: DEFAULT_LEEWAY,
        }
    }

    fn id(nonce: Option<&'static str>) -> IdTokenExpect<'static> {
        IdTokenExpect {
            client_id: "app",
            nonce,
            max_age: None,
        }
    }

    fn id_token(extra: &str) -> Claims {
        claims(&text!(
            r#"{"iss":""#,
            ISS,
            r#"","aud":"app","azp":"app","exp":1700000400,"iat":1700000000,"nonce":"n1","auth_time":1700000000"#,
            extra,
            "}"
        ))
    }

    fn check_of(r: Result<()>) -> Option<TokenCheck> {
        r.err().and_then(|e| e.token_check())
    }

    #[test]
    fn a_keycloak_id_token_passes_and_each_rule_names_itself() {
        assert!(check_id_token(&id_token(""), &expect(), &id(Some("n1"))).is_ok());
        let cases = [
            (r#","iss":"https://evil/realms/vion""#, TokenCheck::Issuer),
            (r#","aud":"other""#, TokenCheck::Audience),
            (r#","azp":"other""#, TokenCheck::AuthorizedParty),
            (r#","exp":1700000060"#, TokenCheck::Expired),
            (r#","iat":1700000200"#, TokenCheck::IssuedInFuture),
            (r#","nonce":"n2""#, TokenCheck::Nonce),
        ];
        for (extra, want) in cases {
            // Later keys win in serde_json's map: the extra overrides the base claim.
            let got = check_of(check_id_token(&id_token(extra), &expect(), &id(Some("n1"))));
            assert_eq!(got, Some(want), "{extra}");
        }
        let no_azp = claims(&text!(
            r#"{"iss":""#,
            ISS,
            r#"","aud":["app","x"],"exp":1700000400}"#
        ));
        assert_eq!(
            check_of(check_id_token(&no_azp, &expect(), &id(None))),
            Some(TokenCheck::AuthorizedParty)
        );
        let no_exp = claims(&text!(r#"{"iss":""#, ISS, r#"","aud":"app"}"#));
        assert_eq!(
            check_of(check_id_token(&no_exp, &expect(), &id(None))),
            Some(TokenCheck::Expired)
        );
    }

    #[test]
    fn the_leeway_forgives_small_clock_differences_only() {
        let just_expired = id_token(r#","exp":1700000080"#);
        assert!(
            check_id_token(&just_expired, &expect(), &id(None)).is_ok(),
            "20 s past exp, 30 s leeway"
        );
        let strict = Expect {
            leeway: Duration::ZERO,
            ..expect()
        };
        assert_eq!(
            check_of(check_id_token(&just_expired, &strict, &id(None))),
            Some(TokenCheck::Expired)
        );
    }

    #[test]
    fn max_age_needs_a_recent_auth_time() {
        let with = |max_age| IdTokenExpect {
            max_age: Some(max_age),
            ..id(None)
        };
        assert!(check_id_token(&id_token(""), &expect(), &with(300)).is_ok());
        assert_eq!(
            check_of(check_id_token(&id_token(""), &expect(), &with(10))),
            Some(TokenCheck::AuthTime)
        );
        let none = id_token(r#","auth_time":null"#);
        assert_eq!(
            check_of(check_id_token(&none, &expect(), &with(300))),
            Some(TokenCheck::AuthTime)
        );
    }

    #[test]
    fn access_tokens_are_bearer_for_the_audience_with_the_claims_and_roles() {
        let at = claims(&text!(
            r#"{"iss":""#,
            ISS,
            r#"","typ":"Bearer","aud":["account","api"],"exp":1700000400,"iat":1700000000,"tenant":"acme","realm_access":{"roles":["user"]},"resource_access":{"api":{"roles":["admin"]}}}"#
        ));
        let roles = ["user".to_string(), "admin".to_string()];
        let tenant = ["tenant".to_string()];
        let ok = AccessTokenExpect {
            audience: Some("api"),
            required_claims: &tenant,
            required_roles: &roles,
        };
        assert!(check_access_token(Some("JWT"), &at, &expect(), &ok).is_ok());
        let other_aud = AccessTokenExpect {
            audience: Some("billing"),
            ..ok
        };
        assert_eq!(
            check_of(check_access_token(None, &at, &expect(), &other_aud)),
            Some(TokenCheck::Audience)
        );
        let op = ["operator".to_string()];
        let role = AccessTokenExpect {
            required_roles: &op,
            ..ok
        };
        assert_eq!(
            check_of(check_access_token(None, &at, &expect(), &role)),
            Some(TokenCheck::Role)
        );
        let org = ["org".to_string()];
        let claim = AccessTokenExpect {
            required_claims: &org,
            ..ok
        };
        assert!(
            matches!(check_access_token(None, &at, &expect(), &claim), Err(Error::MissingClaim(c)) if c == "org")
        );
        let id_as_access = id_token(r#","typ":"ID""#);
        assert_eq!(
            check_of(check_access_token(
                None,
                &id_as_access,
                &expect(),
                &AccessTokenExpect::default()
            )),
            Some(TokenCheck::Type)
        );
        let rfc9068 = claims(&text!(r#"{"iss":""#, ISS, r#"","exp":1700000400}"#));
        assert!(check_access_token(
            Some("at+jwt"),
            &rfc9068,
            &expect(),
            &AccessTokenExpect::default()
        )
        .is_ok());
    }
}
