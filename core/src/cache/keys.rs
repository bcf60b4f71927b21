//! When the provider's signing keys (its JWK set) are fetched again: often enough to follow a
//! key rotation, never so often that a flood of forged tokens makes the client hammer the
//! provider. Pure decisions on a monotonic `now`; the runtime fetches and holds the set.

use core::time::Duration;

/// Keys are kept at least this long, whatever the server's `Cache-Control` says (Keycloak
/// sends `no-cache` for its certs endpoint).
pub const MIN_KEYS_TTL: Duration = Duration::from_secs(5 * 60);
/// And at most this long.
pub const MAX_KEYS_TTL: Duration = Duration::from_secs(24 * 3600);
/// A token naming an unknown key triggers at most one refetch per this interval.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// What is known of the key set a runtime holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeysState {
    /// When the set now held was fetched; `None` before the first success.
    pub fetched_at: Option<Duration>,
    /// How long it stays fresh ([`keys_ttl`]).
    pub ttl: Duration,
    /// The last fetch attempt, successful or not.
    pub last_attempt: Option<Duration>,
}

/// Whether to fetch the key set before checking a token at `now`; `key_found`: the set held
/// has a key for the token's `kid` and algorithm.
pub fn should_fetch(state: &KeysState, now: Duration, key_found: bool) -> bool {
    let since_attempt_ok = state
        .last_attempt
        .is_none_or(|at| now >= at.saturating_add(REFETCH_INTERVAL));
    match state.fetched_at {
        None => since_attempt_ok,
        Some(at) if now >= at.saturating_add(state.ttl) => since_attempt_ok,
        Some(_) => !key_found && since_attempt_ok,
    }
}

/// How long a fetched set stays fresh: the `max-age` of its `Cache-Control` header, within
/// [`MIN_KEYS_TTL`] and [`MAX_KEYS_TTL`].
pub fn keys_ttl(cache_control: Option<&str>) -> Duration {
    let max_age = cache_control.and_then(|v| {
        v.split(',').find_map(|d| {
            let (name, value) = d.trim().split_once('=')?;
            if name.trim().eq_ignore_ascii_case("max-age") {
                value.trim().trim_matches('"').parse::<u64>().ok()
            } else {
                None
            }
        })
    });
    max_age
        .map_or(MIN_KEYS_TTL, Duration::from_secs)
        .clamp(MIN_KEYS_TTL, MAX_KEYS_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let never = KeysState::default();
        assert!(should_fetch(&never, S(0), false));
        let held = KeysState {
            fetched_at: Some(S(100)),
            ttl: MIN_KEYS_TTL,
            last_attempt: Some(S(100)),
        };
        assert!(
            !should_fetch(&held, S(101), true),
            "fresh and the key is there"
        );
        assert!(
            !should_fetch(&held, S(105), false),
            "unknown kid, but fetched 5 s ago"
        );
        assert!(
            should_fetch(&held, S(110), false),
            "unknown kid, 10 s later"
        );
        assert!(should_fetch(&held, S(400), true), "past the TTL");
        let failing = KeysState {
            fetched_at: None,
            ttl: Duration::ZERO,
            last_attempt: Some(S(100)),
        };
        assert!(
            !should_fetch(&failing, S(105), false),
            "a failing endpoint is not retried at once"
        );
    }

    #[test]
    fn max_age_is_honoured_within_bounds() {
        assert_eq!(keys_ttl(Some("no-cache")), MIN_KEYS_TTL);
        assert_eq!(keys_ttl(None), MIN_KEYS_TTL);
        assert_eq!(keys_ttl(Some("public, max-age=3600")), S(3600));
        assert_eq!(keys_ttl(Some("max-age=5")), MIN_KEYS_TTL);
        assert_eq!(keys_ttl(Some("max-age=99999999")), MAX_KEYS_TTL);
    }
}
