//! When a token stops being usable, and when to start renewing it. Pure arithmetic, shared by
//! the native cache and the browser client.
//!
//! Everything is measured on a monotonic clock from the moment the token **request was sent**:
//! the server issued the token after that, so the token cannot expire earlier than
//! `sent + lifetime`. That anchor absorbs network latency without trusting any wall clock.

use std::time::Duration;

use crate::jwt::Claims;

/// Renew when less than `min(fraction × lifetime, max_margin)` is left: a 300 s Keycloak token
/// renews at 270 s, a 3600 s one at 3540 s. The margin is never more than half the lifetime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshPolicy {
    pub fraction: f64,
    pub max_margin: Duration,
    /// Assumed lifetime of a token that states none (no `expires_in`, no readable `exp`).
    pub unknown_lifetime: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            fraction: 0.10,
            max_margin: Duration::from_secs(60),
            unknown_lifetime: Duration::from_secs(60),
        }
    }
}

impl RefreshPolicy {
    /// Renew a fixed time before expiry (still capped at half the lifetime).
    pub fn fixed(margin: Duration) -> Self {
        RefreshPolicy {
            fraction: 1.0,
            max_margin: margin,
            ..RefreshPolicy::default()
        }
    }

    /// How long before expiry renewal starts.
    pub fn margin(&self, lifetime: Duration) -> Duration {
        let fraction = if self.fraction.is_finite() && self.fraction > 0.0 {
            self.fraction.min(1.0)
        } else {
            0.0
        };
        lifetime
            .mul_f64(fraction)
            .min(self.max_margin)
            .min(lifetime / 2)
    }
}

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
    claims: Option<&Claims>,
    unix_now_at_send: u64,
) -> Option<Duration> {
    let from_jwt = claims.and_then(|c| {
        let exp = c.exp()?;
        let span = match c.iat() {
            Some(iat) => exp.saturating_sub(iat),
            None => exp.saturating_sub(unix_now_at_send),
        };
        Some(span.saturating_sub(1))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::make_test_jwt;

    #[test]
    fn keycloak_lifetimes_renew_where_the_design_says() {
        let p = RefreshPolicy::default();
        assert_eq!(p.margin(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(p.margin(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(p.margin(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(p.margin(Duration::from_secs(2)), Duration::from_millis(200));
    }

    #[test]
    fn margin_never_exceeds_half_the_lifetime() {
        let p = RefreshPolicy::fixed(Duration::from_secs(120));
        assert_eq!(p.margin(Duration::from_secs(300)), Duration::from_secs(120));
        assert_eq!(p.margin(Duration::from_secs(60)), Duration::from_secs(30));
        let nan = RefreshPolicy {
            fraction: f64::NAN,
            ..p
        };
        assert_eq!(nan.margin(Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn jwt_truncation_takes_a_second_off() {
        let c = Claims::decode_unverified(&make_test_jwt(r#"{"iat":1000,"exp":1002}"#)).unwrap();
        assert_eq!(
            usable_lifetime(Some(2), Some(&c), 0),
            Some(Duration::from_secs(1))
        );
        // Our wall clock being far off does not matter when iat is there.
        assert_eq!(
            usable_lifetime(Some(2), Some(&c), 999_999),
            Some(Duration::from_secs(1))
        );
        // A server that says more than the JWT allows is bounded by the JWT.
        assert_eq!(
            usable_lifetime(Some(3600), Some(&c), 0),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn without_iat_the_wall_clock_bounds_it() {
        let c = Claims::decode_unverified(&make_test_jwt(r#"{"exp":1300}"#)).unwrap();
        assert_eq!(
            usable_lifetime(Some(3600), Some(&c), 1000),
            Some(Duration::from_secs(299))
        );
        assert_eq!(usable_lifetime(None, Some(&c), 2000), Some(Duration::ZERO));
        assert_eq!(
            usable_lifetime(Some(300), None, 0),
            Some(Duration::from_secs(300))
        );
        assert_eq!(usable_lifetime(None, None, 0), None);
        assert_eq!(
            usable_lifetime(Some(u64::MAX), None, 0),
            Some(Duration::from_secs(MAX_LIFETIME_SECS))
        );
    }
}
