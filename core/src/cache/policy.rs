//! When a token stops being usable, and when to start renewing it. Pure arithmetic, shared by
//! the native cache and the browser client.
//!
//! Everything is measured on a monotonic clock from the moment the token **request was sent**:
//! the server issued the token after that, so the token cannot expire earlier than
//! `sent + lifetime`. That anchor absorbs network latency without trusting any wall clock.

use core::time::Duration;

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
        // Whole milliseconds: exact enough for a renewal point, and without the float-to-
        // Duration conversion of `mul_f64`, which the browser package would carry for nothing.
        let millis = u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis((millis as f64 * fraction) as u64)
            .min(self.max_margin)
            .min(lifetime / 2)
    }
}

/// When to start renewing a token and when it stops being usable, on the monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub refresh_at: Duration,
    pub expires_at: Duration,
}

impl RefreshPolicy {
    /// The deadlines of a token whose request was sent at `sent` (monotonic) and that is
    /// usable for `lifetime` ([`usable_lifetime`](crate::protocol::lifetime::usable_lifetime); `None` assumes `unknown_lifetime`).
    /// `clock_lag` is how far the caller's clock may lag behind real time (a coarse clock's
    /// tick): the token is given up that much earlier, so it is never handed out expired.
    pub fn deadlines(
        &self,
        sent: Duration,
        lifetime: Option<Duration>,
        clock_lag: Duration,
    ) -> Deadlines {
        let lifetime = lifetime.unwrap_or(self.unknown_lifetime);
        let expires_at = sent.saturating_add(lifetime).saturating_sub(clock_lag);
        Deadlines {
            refresh_at: expires_at.saturating_sub(self.margin(lifetime)),
            expires_at,
        }
    }
}

/// Whether a refresh token may still be sent at `now`: it has no deadline of its own
/// ([`refresh_token_deadline`](crate::protocol::lifetime::refresh_token_deadline)), or `now` is before it. Past it the server would refuse it, so
/// the caller goes straight to its fallback (client credentials, or a new login).
pub fn refresh_token_alive(deadline: Option<Duration>, now: Duration) -> bool {
    deadline.is_none_or(|at| now < at)
}

/// Shortest and longest pause after a failed renewal.
pub const BACKOFF_MIN: Duration = Duration::from_millis(250);
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// The most a server's `Retry-After` can make a client wait.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

/// How long to wait before trying again after `failures` failed renewals in a row: 250 ms,
/// doubling up to 10 s, or longer when the server's `Retry-After` asked for it (at most 60 s).
/// Meanwhile a still-valid token keeps being served, and callers past expiry get the last
/// error at once instead of piling onto a server that is down.
pub fn retry_delay(failures: u32, retry_after: Option<Duration>) -> Duration {
    let backoff = BACKOFF_MIN
        .saturating_mul(1 << (failures.clamp(1, 8) - 1))
        .min(BACKOFF_MAX);
    retry_after.map_or(backoff, |r| r.min(RETRY_AFTER_MAX).max(backoff))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn keycloak_lifetimes_renew_where_the_design_says() {
        let p = RefreshPolicy::default();
        assert_eq!(p.margin(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(p.margin(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(p.margin(Duration::from_secs(600)), Duration::from_secs(60));
        assert_eq!(p.margin(Duration::from_secs(2)), Duration::from_millis(200));
    }

    #[test]
    fn a_refresh_token_is_alive_until_its_deadline_or_forever_without_one() {
        let at = Duration::from_secs(100);
        assert!(refresh_token_alive(Some(at), at - Duration::from_millis(1)));
        assert!(!refresh_token_alive(Some(at), at));
        assert!(refresh_token_alive(None, Duration::MAX));
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
    fn deadlines_anchor_at_the_send_and_give_up_the_clock_lag() {
        let p = RefreshPolicy::default();
        let d = p.deadlines(
            Duration::from_secs(100),
            Some(Duration::from_secs(300)),
            Duration::from_millis(10),
        );
        assert_eq!(d.expires_at, Duration::from_millis(399_990));
        assert_eq!(d.refresh_at, Duration::from_millis(369_990));
        let unknown = p.deadlines(Duration::ZERO, None, Duration::ZERO);
        assert_eq!(unknown.expires_at, p.unknown_lifetime);
    }

    #[test]
    fn failed_renewals_back_off() {
        let ms = |n| Duration::from_millis(n);
        let delays: Vec<_> = (1..=8).map(|f| retry_delay(f, None)).collect();
        assert_eq!(
            delays,
            [
                ms(250),
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(10_000),
                ms(10_000)
            ]
        );
        assert_eq!(retry_delay(u32::MAX, None), BACKOFF_MAX);
        assert_eq!(
            retry_delay(1, Some(ms(7000))),
            ms(7000),
            "Retry-After wins when longer"
        );
        assert_eq!(
            retry_delay(6, Some(ms(1000))),
            ms(8000),
            "never shorter than the backoff"
        );
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(3600))),
            RETRY_AFTER_MAX
        );
    }
}
