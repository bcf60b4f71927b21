//! The token cache as a state machine: given the cached entry, the renewal state and `now`, what
//! a caller asking for a token gets, and what a renewal's outcome does to the state.
//!
//! No clock, thread, lock or I/O here. A runtime drives it: the native
//! [`TokenSource`](crate::native::source::TokenSource) with threads and a condvar, the browser
//! client with promises and Web Locks. Each carries out what [`decide`] says and reports back
//! with [`Renewals::renewed`] or [`Renewals::failed`], so every binding renews the same way.
//!
//! The rules (DESIGN.md, "Token cache policy"):
//!
//! - **Fresh** (before the refresh point): serve the cached token.
//! - **Due** (past the refresh point, still valid): serve it, and start one renewal unless one
//!   is in flight or a failed one is backing off. Callers never wait while a token is valid.
//! - **Expired** (or nothing cached): wait for the renewal in flight; during a backoff, fail at
//!   once with the last renewal's error; otherwise renew, or answer `LoginRequired` when nothing
//!   can renew this session.
//! - **A session renews the way it began.** A refresh token is used while it is alive. Without
//!   one, only a client-credentials session (or a confidential client's first token) runs
//!   client credentials again; a user's session (code, device, a resumed refresh token) never
//!   turns into the client's service account: it needs a new login.
//! - A refused refresh token (`invalid_grant`) is dropped; a client-credentials session falls
//!   through to client credentials in the same renewal, a user's session answers
//!   `LoginRequired`.
//! - A failed renewal keeps the still-valid token and backs off ([`retry_delay`]), honouring
//!   `Retry-After`. A login clears the backoff.

use core::time::Duration;

use super::policy::{refresh_token_alive, retry_delay, RefreshPolicy};
use crate::error::Error;

/// How a cached session began, which decides how it may be renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// The client's own token (client credentials): renewed by refresh token if the server gave
    /// one, else by client credentials again.
    ClientCredentials,
    /// A user's session (authorization code, device code, a resumed or exchanged user token):
    /// renewed by its refresh token only, else a new login.
    User,
}

/// The request that renews a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    /// The `grant_type` this renewal sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }
}

/// What a caller asking for a token gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The cached token, at once.
    Serve,
    /// The cached token at once, and the driver starts this renewal in the background (it has
    /// been marked in flight).
    ServeAndRenew(Grant),
    /// Wait for the renewal in flight and take its outcome.
    Wait,
    /// Renew now with this grant (marked in flight) and take its outcome.
    Renew(Grant),
    /// A renewal failed a moment ago and is backing off: its error again, without a request.
    FailWithLast,
    /// Nothing can renew this session: a new login is needed.
    LoginRequired,
}

/// Where a cached token stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Due,
    Expired,
}

/// A cached token and its deadlines, on the driver's monotonic clock. `T` is whatever the
/// driver caches (natively an `Arc<Token>`; the browser keeps the token in storage and only the
/// deadlines cross into the module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<T> {
    pub token: T,
    pub refresh_at: Duration,
    pub expires_at: Duration,
    /// `None` without a refresh token; `Some(deadline)` with one, whose own deadline is
    /// `deadline` (`None`: it has none, as Keycloak's offline tokens).
    pub refresh_token: Option<Option<Duration>>,
}

/// What a token answer says about time, measured from when its request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Monotonic reading when the request was sent.
    pub sent: Duration,
    /// How long the access token is usable (`None`: the server did not say).
    pub lifetime: Option<Duration>,
    /// As [`Entry::refresh_token`].
    pub refresh_token: Option<Option<Duration>>,
}

impl<T> Entry<T> {
    /// The entry for a token answer: its deadlines by `policy`, pulled in by `clock_lag` (how
    /// far the driver's clock may lag behind real time) so a lagging reading never hands out an
    /// expired token.
    pub fn new(token: T, timing: Timing, policy: &RefreshPolicy, clock_lag: Duration) -> Self {
        let d = policy.deadlines(timing.sent, timing.lifetime, clock_lag);
        Entry {
            token,
            refresh_at: d.refresh_at,
            expires_at: d.expires_at,
            refresh_token: timing.refresh_token,
        }
    }

    /// Fresh, due for renewal, or expired at `now`.
    #[inline]
    pub fn freshness(&self, now: Duration) -> Freshness {
        if now < self.refresh_at {
            Freshness::Fresh
        } else if now < self.expires_at {
            Freshness::Due
        } else {
            Freshness::Expired
        }
    }

    /// Whether its refresh token may still be sent at `now`.
    pub fn refresh_token_alive(&self, now: Duration) -> bool {
        self.refresh_token
            .is_some_and(|deadline| refresh_token_alive(deadline, now))
    }

    /// The same entry, expired at once (its refresh token kept for the renewal): after an
    /// API refused the token, or for an explicit refresh.
    pub fn expired(&self) -> Self
    where
        T: Clone,
    {
        Entry {
            token: self.token.clone(),
            refresh_at: Duration::ZERO,
            expires_at: Duration::ZERO,
            refresh_token: self.refresh_token,
        }
    }

    /// The same entry without its refresh token (the server refused it); the access token
    /// stays while it is valid.
    pub fn without_refresh_token(&self, token: T) -> Self {
        Entry {
            token,
            refresh_at: self.refresh_at,
            expires_at: self.expires_at,
            refresh_token: None,
        }
    }

    /// The same deadlines over another representation of the token.
    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Entry<U> {
        Entry {
            token: f(&self.token),
            refresh_at: self.refresh_at,
            expires_at: self.expires_at,
            refresh_token: self.refresh_token,
        }
    }
}

/// The renewal state of one cache key, beside its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Renewals {
    /// How the cached session began; `None` until the first token.
    pub session: Option<Session>,
    /// A renewal is running (single flight).
    pub in_flight: bool,
    /// Failed renewals in a row.
    pub failures: u32,
    /// No new attempt before this (monotonic); zero when not backing off.
    pub retry_not_before: Duration,
}

/// What to do after a renewal failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// The refresh token was refused; the driver drops it from the entry and runs this grant
    /// now, in the same flight (still marked in flight).
    FallThrough(Grant),
    /// The renewal is over and failed; `drop_refresh_token` says whether the driver removes the
    /// refused refresh token from the entry, `login_required` whether the caller's error is
    /// `LoginRequired` (the refresh token was refused and nothing else renews a user's session)
    /// rather than the renewal's own error.
    Failed {
        drop_refresh_token: bool,
        login_required: bool,
    },
}

/// What a caller asking for a token at `now` gets, for a client that may (`confidential`) or
/// may not run client credentials. A renewal it starts is marked in flight in `renewals`.
pub fn decide<T>(
    entry: Option<&Entry<T>>,
    renewals: &mut Renewals,
    now: Duration,
    confidential: bool,
) -> Action {
    let freshness = entry.map_or(Freshness::Expired, |e| e.freshness(now));
    let backing_off = now < renewals.retry_not_before;
    match freshness {
        Freshness::Fresh => Action::Serve,
        Freshness::Due if renewals.in_flight || backing_off => Action::Serve,
        Freshness::Due => match renewals.grant(entry, now, confidential) {
            Some(grant) => {
                renewals.in_flight = true;
                Action::ServeAndRenew(grant)
            }
            None => Action::Serve,
        },
        Freshness::Expired if renewals.in_flight => Action::Wait,
        Freshness::Expired if backing_off && renewals.failures > 0 => Action::FailWithLast,
        Freshness::Expired => match renewals.grant(entry, now, confidential) {
            Some(grant) => {
                renewals.in_flight = true;
                Action::Renew(grant)
            }
            None => Action::LoginRequired,
        },
    }
}

impl Renewals {
    /// The grant that renews this session at `now`, if any.
    pub fn grant<T>(
        &self,
        entry: Option<&Entry<T>>,
        now: Duration,
        confidential: bool,
    ) -> Option<Grant> {
        if entry.is_some_and(|e| e.refresh_token_alive(now)) {
            return Some(Grant::RefreshToken);
        }
        self.fallback(confidential)
    }

    /// What renews the session without a refresh token.
    fn fallback(&self, confidential: bool) -> Option<Grant> {
        match self.session {
            Some(Session::User) => None,
            Some(Session::ClientCredentials) | None if confidential => {
                Some(Grant::ClientCredentials)
            }
            _ => None,
        }
    }

    /// A renewal by `grant` landed a new token.
    pub fn renewed(&mut self, grant: Grant) {
        if grant == Grant::ClientCredentials {
            self.session = Some(Session::ClientCredentials);
        }
        self.in_flight = false;
        self.failures = 0;
        self.retry_not_before = Duration::ZERO;
    }

    /// A renewal by `grant` failed at `now`. `refused_refresh_token`: the server refused the
    /// refresh token for good (`invalid_grant`); `retry_after`: the server's `Retry-After`.
    pub fn failed(
        &mut self,
        now: Duration,
        grant: Grant,
        refused_refresh_token: bool,
        retry_after: Option<Duration>,
        confidential: bool,
    ) -> AfterFailure {
        let refused = grant == Grant::RefreshToken && refused_refresh_token;
        if refused {
            if let Some(next) = self.fallback(confidential) {
                return AfterFailure::FallThrough(next);
            }
        }
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        self.retry_not_before = now.saturating_add(retry_delay(self.failures, retry_after));
        AfterFailure::Failed {
            drop_refresh_token: refused,
            login_required: refused,
        }
    }

    /// A session began outside the cache's renewals (a login, a resumed refresh token, a
    /// token put in by hand): earlier failures no longer hold anyone back.
    pub fn began(&mut self, session: Session) {
        self.session = Some(session);
        self.failures = 0;
        self.retry_not_before = Duration::ZERO;
    }
}

/// The error a caller gets when nothing can renew the session: after
/// [`Action::LoginRequired`] (`refused: false`), or after a renewal whose refresh token the
/// server refused ([`AfterFailure::Failed`] with `login_required`, `refused: true`).
pub fn login_required(refused: bool) -> Error {
    Error::LoginRequired(if refused {
        "the server refused the refresh token (it expired, was revoked or was already used); start a new login".into()
    } else {
        "no valid token, and nothing that may renew this session (no usable refresh token; a user's session never falls back to client credentials); start a new login".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn entry(refresh_at: u64, expires_at: u64, rt: Option<Option<u64>>) -> Entry<&'static str> {
        Entry {
            token: "A",
            refresh_at: S(refresh_at),
            expires_at: S(expires_at),
            refresh_token: rt.map(|d| d.map(S)),
        }
    }

    #[test]
    fn a_confidential_client_starts_with_client_credentials_a_public_one_with_a_login() {
        let mut r = Renewals::default();
        assert_eq!(
            decide::<()>(None, &mut r, S(0), true),
            Action::Renew(Grant::ClientCredentials)
        );
        assert!(r.in_flight);
        assert_eq!(decide::<()>(None, &mut r, S(0), true), Action::Wait);
        let mut r = Renewals::default();
        assert_eq!(
            decide::<()>(None, &mut r, S(0), false),
            Action::LoginRequired
        );
        assert!(!r.in_flight);
    }

    #[test]
    fn a_user_session_never_becomes_the_service_account() {
        let mut r = Renewals::default();
        r.began(Session::User);
        let e = entry(270, 300, None);
        assert_eq!(decide(Some(&e), &mut r, S(280), true), Action::Serve);
        assert_eq!(
            decide(Some(&e), &mut r, S(300), true),
            Action::LoginRequired
        );
        let e = entry(270, 300, Some(Some(1800)));
        assert_eq!(
            decide(Some(&e), &mut r, S(300), true),
            Action::Renew(Grant::RefreshToken)
        );
        assert_eq!(
            r.failed(S(300), Grant::RefreshToken, true, None, true),
            AfterFailure::Failed {
                drop_refresh_token: true,
                login_required: true
            }
        );
    }

    #[test]
    fn a_client_credentials_session_falls_through_after_a_refused_refresh_token() {
        let mut r = Renewals::default();
        r.renewed(Grant::ClientCredentials);
        let e = entry(270, 300, Some(None));
        assert_eq!(
            decide(Some(&e), &mut r, S(280), true),
            Action::ServeAndRenew(Grant::RefreshToken)
        );
        assert_eq!(
            r.failed(S(281), Grant::RefreshToken, true, None, true),
            AfterFailure::FallThrough(Grant::ClientCredentials)
        );
        assert!(r.in_flight, "the fall-through runs in the same flight");
    }

    #[test]
    fn failures_back_off_but_keep_serving_a_valid_token_and_a_login_clears_them() {
        let mut r = Renewals::default();
        r.renewed(Grant::ClientCredentials);
        let e = entry(270, 300, None);
        assert_eq!(
            decide(Some(&e), &mut r, S(280), true),
            Action::ServeAndRenew(Grant::ClientCredentials)
        );
        let after = r.failed(S(280), Grant::ClientCredentials, false, Some(S(7)), true);
        assert_eq!(
            after,
            AfterFailure::Failed {
                drop_refresh_token: false,
                login_required: false
            }
        );
        assert_eq!(r.retry_not_before, S(287), "Retry-After is honoured");
        assert_eq!(decide(Some(&e), &mut r, S(285), true), Action::Serve);
        assert_eq!(
            decide::<()>(None, &mut r, S(285), true),
            Action::FailWithLast
        );
        r.began(Session::User);
        assert_eq!(r.failures, 0);
        assert_eq!(r.retry_not_before, Duration::ZERO);
    }

    #[test]
    fn a_dead_refresh_token_is_not_sent() {
        let mut r = Renewals::default();
        r.began(Session::User);
        let e = entry(270, 300, Some(Some(290)));
        assert_eq!(
            decide(Some(&e), &mut r, S(280), true),
            Action::ServeAndRenew(Grant::RefreshToken)
        );
        let mut r = Renewals::default();
        r.began(Session::User);
        assert_eq!(
            decide(Some(&e), &mut r, S(295), true),
            Action::Serve,
            "due, but nothing can renew"
        );
        assert_eq!(
            decide(Some(&e), &mut r, S(300), true),
            Action::LoginRequired
        );
    }
}
