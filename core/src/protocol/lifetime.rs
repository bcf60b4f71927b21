//! How long a token lives, as the server's answer says: pure arithmetic on the token
//! endpoint's `expires_in` / `refresh_expires_in` and the JWT's `iat` / `exp`. The cache
//! ([`crate::cache`]) decides from these when to renew.
//!
//! Everything is measured on a monotonic clock from the moment the token **request was sent**:
//! the server issued the token after that, so the token cannot expire earlier than
//! `sent + lifetime`. That anchor absorbs network latency without trusting any wall clock.

use core::time::Duration;

use crate::jwt::JwtTimes;

/// How long an access token is usable after its request was sent.
///
/// - `expires_in` (RFC 6749) is the server's word.
/// - A readable JWT bounds it too. `iat` and `exp` are whole seconds on the server's clock, and
///   the token was issued somewhere in `[iat, iat + 1)`, so it ends up to a second before
///   `issue + (exp - iat)`: one second comes off. Using `exp - iat` (both server time) instead
///   of `exp - our_now` keeps any clock offset between us and the server out of it.
/// - A JWT with `exp` but no `iat` falls back to our wall clock, `unix_now_at_send`.
///
/// `None` when nothing says how long the token lives. A server that claims more than ten years
/// is taken at ten years, so deadline arithmetic can never overflow.
pub fn usable_lifetime(
    expires_in: Option<u64>,
    jwt: JwtTimes,
    unix_now_at_send: u64,
) -> Option<Duration> {
    let from_jwt = jwt.exp.map(|exp| {
        let span = match jwt.iat {
            Some(iat) => exp.saturating_sub(iat),
            None => exp.saturating_sub(unix_now_at_send),
        };
        span.saturating_sub(1)
    });
    let secs = match (expires_in, from_jwt) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return None,
    };
    Some(Duration::from_secs(secs.min(MAX_LIFETIME_SECS)))
}

/// Ten years: longer than any real token, short enough that no deadline overflows.
pub const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// The refresh token's own deadline: Keycloak's `refresh_expires_in` after `sent`, less the
/// second its whole-second rounding may hide. `None` when it has none (`0` or absent: offline
/// tokens, or servers that do not say).
pub fn refresh_token_deadline(sent: Duration, refresh_expires_in: Option<u64>) -> Option<Duration> {
    match refresh_expires_in {
        Some(s) if s > 0 => {
            let secs = s.saturating_sub(1).min(MAX_LIFETIME_SECS);
            Some(sent.saturating_add(Duration::from_secs(secs)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{make_test_jwt, Claims};

    #[test]
    fn the_refresh_token_deadline_comes_from_refresh_expires_in() {
        assert_eq!(
            refresh_token_deadline(Duration::from_secs(10), Some(1800)),
            Some(Duration::from_secs(1809))
        );
        assert_eq!(
            refresh_token_deadline(Duration::from_secs(10), Some(0)),
            None
        );
        assert_eq!(refresh_token_deadline(Duration::from_secs(10), None), None);
    }

    #[test]
    fn jwt_truncation_takes_a_second_off() {
        let c = Claims::decode_unverified(&make_test_jwt(r#"{"iat":1000,"exp":1002}"#)).unwrap();
        assert_eq!(
            usable_lifetime(Some(2), c.times(), 0),
            Some(Duration::from_secs(1))
        );
        // Our wall clock being far off does not matter when iat is there.
        assert_eq!(
            usable_lifetime(Some(2), c.times(), 999_999),
            Some(Duration::from_secs(1))
        );
        // A server that says more than the JWT allows is bounded by the JWT.
        assert_eq!(
            usable_lifetime(Some(3600), c.times(), 0),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn without_iat_the_wall_clock_bounds_it() {
        let c = Claims::decode_unverified(&make_test_jwt(r#"{"exp":1300}"#)).unwrap();
        assert_eq!(
            usable_lifetime(Some(3600), c.times(), 1000),
            Some(Duration::from_secs(299))
        );
        assert_eq!(usable_lifetime(None, c.times(), 2000), Some(Duration::ZERO));
        assert_eq!(
            usable_lifetime(Some(300), JwtTimes::default(), 0),
            Some(Duration::from_secs(300))
        );
        assert_eq!(usable_lifetime(None, JwtTimes::default(), 0), None);
        assert_eq!(
            usable_lifetime(Some(u64::MAX), JwtTimes::default(), 0),
            Some(Duration::from_secs(MAX_LIFETIME_SECS))
        );
    }
}
