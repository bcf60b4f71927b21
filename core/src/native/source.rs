//! [`TokenSource`]: "give me a valid access token", safe from many threads.
//!
//! The policy (DESIGN.md, "Token cache policy"):
//!
//! - **Fresh** (before the refresh point): the cached token is returned at once. This path
//!   takes no lock: one atomic load, one clock read, one `Arc` clone.
//! - **Due** (past the refresh point, still valid): the cached token is returned at once and
//!   one renewal starts on a background thread. Callers never wait for it.
//! - **Expired** (or none yet): callers wait for the one request in flight and all get its
//!   result; if none is in flight, the first caller makes it.
//! - Renewal uses the refresh token if there is one, else client credentials if the client has
//!   a secret, else fails with `LoginRequired`. `invalid_grant` on refresh drops the refresh
//!   token and falls through.
//! - A failed renewal keeps the still-valid token and backs off (honouring `Retry-After`)
//!   before the next attempt, so a down server is not hammered by every call.

use crate::prelude::*;

use core::time::Duration;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use arc_swap::ArcSwapOption;

use super::flows::Flows;
use crate::error::{Error, Result};
use crate::token::Token;

/// A cached access token and when to renew it, on the client clock's monotonic scale.
struct Entry {
    token: Arc<Token>,
    refresh_at: Duration,
    expires_at: Duration,
}

/// The state of renewals. Guarded by a mutex that is never held during I/O.
#[derive(Default)]
struct Flight {
    running: bool,
    /// Bumped each time a renewal lands; waiters use it to know theirs has.
    generation: u64,
    /// The outcome of the last renewal, handed to everyone who waited for it.
    last: Option<Result<Arc<Token>>>,
    failures: u32,
    retry_not_before: Duration,
}

/// The token cache for one key (issuer, client, scopes, audience). Clones share the cache.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    flows: Arc<Flows>,
    scopes: Vec<String>,
    current: ArcSwapOption<Entry>,
    flight: Mutex<Flight>,
    landed: Condvar,
}

impl TokenSource {
    pub(crate) fn new(flows: Arc<Flows>, scopes: Vec<String>) -> TokenSource {
        TokenSource {
            inner: Arc::new(Inner {
                flows,
                scopes,
                current: ArcSwapOption::empty(),
                flight: Mutex::new(Flight::default()),
                landed: Condvar::new(),
            }),
        }
    }

    /// A valid access token: cached, or renewed by the right source (see the module docs).
    pub fn token(&self) -> Result<Arc<Token>> {
        self.serve(|token, _| Arc::clone(token))
    }

    /// Runs `f` on a valid token without taking a reference count: the fastest way to copy
    /// the token out (the C ABI's buffer call). `f` runs while the cache entry is pinned, so
    /// keep it short and do not call back into this source from it.
    pub fn with_token<R>(&self, f: impl FnOnce(&Token) -> R) -> Result<R> {
        self.serve(|token, _| f(token))
    }

    /// Like [`TokenSource::with_token`], also telling `f` until when (on the client's
    /// monotonic clock) this source would hand out this same token without renewing it: its
    /// refresh point, or zero when it is already due. A binding whose calls are costly (Python
    /// through ctypes) may keep its copy until then. Anything that changes the session
    /// (`set`, `renew_now`, `renew_after_rejection`, `clear`) makes that copy stale: the
    /// binding must drop it on those calls.
    pub fn with_token_until<R>(&self, f: impl FnOnce(&Token, Duration) -> R) -> Result<R> {
        self.serve(|token, fresh_until| f(token, fresh_until))
    }

    /// The fast path shared by every way of asking for a token: `on_token` gets the token and
    /// its refresh point (zero when unknown or already passed).
    fn serve<R>(&self, on_token: impl FnOnce(&Arc<Token>, Duration) -> R) -> Result<R> {
        let now = self.inner.flows.clock.now();
        let guard = self.inner.current.load();
        if let Some(entry) = guard.as_ref() {
            if now < entry.refresh_at {
                return Ok(on_token(&entry.token, entry.refresh_at));
            }
            if now < entry.expires_at {
                let result = on_token(&entry.token, Duration::ZERO);
                drop(guard);
                Inner::renew_in_background(&self.inner, now);
                return Ok(result);
            }
        }
        drop(guard);
        let token = self.inner.renew_and_wait()?;
        let fresh_until = match self.inner.current.load().as_ref() {
            Some(e) if Arc::ptr_eq(&e.token, &token) => e.refresh_at,
            _ => Duration::ZERO,
        };
        Ok(on_token(&token, fresh_until))
    }

    /// The cached token, valid or not, without renewing anything.
    pub fn peek(&self) -> Option<Arc<Token>> {
        self.inner.current.load().as_ref().map(|e| e.token.clone())
    }

    /// Puts a token in the cache (e.g. from a login); later renewals use its refresh token.
    /// It starts a new session: the backoff and the last error of renewals that failed before
    /// (say, `login_required` while nobody was logged in) no longer hold anyone back.
    pub fn set(&self, token: Token) -> Arc<Token> {
        let token = self.inner.publish(token);
        let mut flight = self.inner.lock();
        flight.failures = 0;
        flight.retry_not_before = Duration::ZERO;
        flight.last = None;
        token
    }

    /// The API refused `rejected` (a 401): renew unless another caller already has, and return
    /// the new token. Many threads hitting the same 401 cause one renewal.
    pub fn renew_after_rejection(&self, rejected: &Arc<Token>) -> Result<Arc<Token>> {
        self.inner.expire_if(|t| Arc::ptr_eq(t, rejected));
        self.inner.renew_and_wait()
    }

    /// [`TokenSource::renew_after_rejection`] for a caller that kept a copy of the access
    /// token rather than the `Arc` (the C ABI, Python): renews unless the cached token is no
    /// longer `rejected` (another caller renewed meanwhile), so many requests refused at once
    /// cause one renewal.
    pub fn renew_after_rejected_access_token(&self, rejected: &str) -> Result<Arc<Token>> {
        self.inner
            .expire_if(|t| t.access_token().expose() == rejected);
        self.inner.renew_and_wait()
    }

    /// Renews now, whatever the cached token's age (an explicit `refresh`).
    pub fn renew_now(&self) -> Result<Arc<Token>> {
        self.inner.expire_if(|_| true);
        self.inner.renew_and_wait()
    }

    /// Forgets the cached token (after logout or revocation).
    pub fn clear(&self) {
        self.inner.current.store(None);
    }
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("scopes", &self.inner.scopes)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Flight> {
        // A panic while holding the lock cannot leave Flight inconsistent: every field is
        // written in one step. Carry on rather than poison every later caller.
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn entry_for(&self, token: Arc<Token>) -> Entry {
        let policy = &self.flows.refresh_policy;
        let d = policy.deadlines(
            token.sent_at().monotonic,
            token.lifetime(),
            self.flows.clock.max_lag(),
        );
        Entry {
            token,
            refresh_at: d.refresh_at,
            expires_at: d.expires_at,
        }
    }

    fn publish(&self, token: Token) -> Arc<Token> {
        let token = Arc::new(token);
        self.current
            .store(Some(Arc::new(self.entry_for(token.clone()))));
        token
    }

    /// Marks the cached token as expired (keeping its refresh token for the renewal) when
    /// `pred` says so.
    fn expire_if(&self, pred: impl Fn(&Arc<Token>) -> bool) {
        self.current.rcu(|cur| match cur {
            Some(e) if pred(&e.token) => Some(Arc::new(Entry {
                token: e.token.clone(),
                refresh_at: Duration::ZERO,
                expires_at: Duration::ZERO,
            })),
            other => other.clone(),
        });
    }

    fn renew_in_background(self: &Arc<Self>, now: Duration) {
        // try_lock: if another caller holds the lock it is dealing with renewal already, and a
        // caller holding a valid token must not wait for anything.
        let Ok(mut flight) = self.flight.try_lock() else {
            return;
        };
        if flight.running || now < flight.retry_not_before {
            return;
        }
        flight.running = true;
        drop(flight);
        let me = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("tokenward-renew".into())
            .spawn(move || {
                let _ = me.run_flight();
            });
        if spawned.is_err() {
            // No thread to be had: the next caller past expiry renews in the foreground.
            self.lock().running = false;
        }
    }

    fn renew_and_wait(&self) -> Result<Arc<Token>> {
        let mut flight = self.lock();
        loop {
            let now = self.flows.clock.now();
            if let Some(e) = self.current.load().as_ref() {
                if now < e.expires_at {
                    return Ok(e.token.clone());
                }
            }
            if flight.running {
                let generation = flight.generation;
                while flight.running && flight.generation == generation {
                    flight = self
                        .landed
                        .wait(flight)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if flight.generation != generation {
                    if let Some(outcome) = &flight.last {
                        return outcome.clone();
                    }
                }
                continue;
            }
            if now < flight.retry_not_before {
                if let Some(Err(e)) = &flight.last {
                    return Err(e.clone());
                }
            }
            flight.running = true;
            drop(flight);
            return self.run_flight();
        }
    }

    /// Runs one renewal (the caller has set `running`) and lands it: records the outcome,
    /// wakes every waiter.
    fn run_flight(&self) -> Result<Arc<Token>> {
        let outcome =
            panic::catch_unwind(AssertUnwindSafe(|| self.renew_once())).unwrap_or_else(|_| {
                Err(Error::InvalidResponse(
                    "the token renewal panicked; this is a bug, please report it".into(),
                ))
            });
        let now = self.flows.clock.now();
        let mut flight = self.lock();
        flight.running = false;
        flight.generation = flight.generation.wrapping_add(1);
        match &outcome {
            Ok(_) => {
                flight.failures = 0;
                flight.retry_not_before = Duration::ZERO;
            }
            Err(e) => {
                flight.failures = flight.failures.saturating_add(1);
                let wait = crate::cache::policy::retry_delay(flight.failures, e.retry_after());
                flight.retry_not_before = now.saturating_add(wait);
            }
        }
        flight.last = Some(outcome.clone());
        drop(flight);
        self.landed.notify_all();
        outcome
    }

    /// Picks the renewal source by what the grant allows and performs it.
    fn renew_once(&self) -> Result<Arc<Token>> {
        let flows = &self.flows;
        if let Some(entry) = self.current.load_full() {
            if let Some(rt) = entry.token.refresh_token() {
                let alive = crate::cache::policy::refresh_token_alive(
                    entry.token.refresh_expires_at(),
                    flows.clock.now(),
                );
                let refused = if alive {
                    match flows.refresh(rt, None) {
                        Ok(mut token) => {
                            token.inherit_refresh_token(&entry.token);
                            return Ok(self.publish(token));
                        }
                        Err(e) if e.refuses_refresh_token() => true,
                        Err(e) => return Err(e),
                    }
                } else {
                    true
                };
                if refused {
                    self.drop_refresh_token(&entry);
                }
            }
        }
        if flows.config.can_use_client_credentials() {
            let token = flows.client_credentials(&self.scopes)?;
            return Ok(self.publish(token));
        }
        Err(Error::LoginRequired(
            "the refresh token is missing, expired or was refused, and the client has no secret for client credentials; start a new login".into(),
        ))
    }

    /// Keeps the access token (it may still be valid) but forgets the refused refresh token.
    fn drop_refresh_token(&self, seen: &Arc<Entry>) {
        let replacement = Arc::new(Entry {
            token: Arc::new(seen.token.without_refresh_token()),
            refresh_at: seen.refresh_at,
            expires_at: seen.expires_at,
        });
        self.current.compare_and_swap(seen, Some(replacement));
    }
}
