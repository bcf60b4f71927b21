//! [`TokenSource`]: "give me a valid access token", safe from many threads. It drives the
//! cache's state machine ([`crate::cache::state`], where the rules are) with threads:
//!
//! - the fresh path takes no lock: one atomic load, one clock read, the entry's
//!   [`freshness`](Entry::freshness);
//! - every change of the cached session (a renewal landing, a login, an expiry forced by a
//!   refusal or an explicit refresh, a dropped refresh token, a clear) bumps a generation
//!   number, stored with the entry so one load reads both: a binding that keeps a copy of the
//!   token (Python) labels it with the generation it came with and drops it once it learns of
//!   a newer one ([`TokenSource::with_token_view`], [`TokenSource::generation`]);
//! - a due token is served at once while one renewal runs on a background thread;
//! - with a shared store ([`ClientBuilder::store`](super::client::ClientBuilder::store)) the
//!   fresh path still touches nothing but this process's entry; a renewal (due, expired,
//!   missing) takes the store's lock for the key, re-reads the stored record and adopts it if
//!   another process renewed meanwhile, renews only if still needed, and writes what it got
//!   (a rotated refresh token included) before it releases the lock. A login ([`TokenSource::set`])
//!   is written too, and [`TokenSource::clear`] deletes the record. An adopted record's ID token
//!   is verified like a received one; a refresh token refused under the lock deletes the
//!   record. A failing store costs no valid token ([`super::shared`]);
//! - callers past expiry wait on a condvar for the one renewal in flight and all get its
//!   outcome.

use crate::prelude::*;

use core::time::Duration;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use arc_swap::ArcSwap;

use super::flows::Flows;
use super::shared::Shared;
use crate::cache::state::{
    decide, Action, AfterFailure, Entry, Freshness, Grant, Renewals, Session, Timing,
};
use crate::cache::stored::{is_newer, store_key};
use crate::error::{Error, Result};
use crate::token::Token;

/// The renewal state, guarded by a mutex that is never held during I/O.
#[derive(Default)]
struct Flight {
    renewals: Renewals,
    /// Bumped each time a renewal lands; waiters use it to know theirs has.
    generation: u64,
    /// The outcome of the last renewal, handed to everyone who waited for it (and, while it
    /// backs off, to callers past expiry).
    last: Option<Result<Arc<Token>>>,
}

/// What the cache holds: the entry (if any) and the generation of that state. Replaced as a
/// whole (read-copy-update), so generations grow in the order the states were stored.
#[derive(Default)]
struct Current {
    entry: Option<Entry<Arc<Token>>>,
    generation: u64,
    /// Bumped when a session begins (`set`) or ends (`clear`): a renewal that started before
    /// lands in the cache only while it is unchanged, so a refresh still running when the user
    /// logged out cannot put its token back.
    session: u64,
}

/// The token cache for one key (issuer, client, scopes, audience). Clones share the cache.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    flows: Arc<Flows>,
    scopes: Vec<String>,
    current: ArcSwap<Current>,
    flight: Mutex<Flight>,
    landed: Condvar,
    /// The store shared with other processes, if the client has one.
    shared: Option<Shared>,
}

impl TokenSource {
    pub(crate) fn new(flows: Arc<Flows>, scopes: Vec<String>) -> TokenSource {
        let shared = flows.store.as_ref().map(|store| {
            let issuer = flows
                .provider
                .issuer
                .as_deref()
                .unwrap_or(&flows.provider.token_endpoint);
            let key = store_key(
                issuer,
                &flows.config.client_id,
                &scopes,
                flows.config.audience.as_deref(),
                None,
            );
            Shared::new(store.clone(), key, flows.store_hook.clone())
        });
        TokenSource {
            inner: Arc::new(Inner {
                shared,
                flows,
                scopes,
                current: ArcSwap::from_pointee(Current::default()),
                flight: Mutex::new(Flight::default()),
                landed: Condvar::new(),
            }),
        }
    }

    /// A valid access token: cached, or renewed by the right source (see the module docs).
    pub fn token(&self) -> Result<Arc<Token>> {
        self.serve(|token, _, _| Arc::clone(token))
    }

    /// Runs `f` on a valid token without taking a reference count: the fastest way to copy
    /// the token out (the C ABI's buffer call). `f` runs while the cache entry is pinned, so
    /// keep it short and do not call back into this source from it.
    pub fn with_token<R>(&self, f: impl FnOnce(&Token) -> R) -> Result<R> {
        self.serve(|token, _, _| f(token))
    }

    /// Like [`TokenSource::with_token`], also telling `f` for how long from now (on the
    /// client's clock, read during this call) this source would hand out this same token
    /// without renewing it (zero when it is already due or was just renewed by someone else),
    /// and the [generation](TokenSource::generation) of the state it came from.
    ///
    /// A binding whose calls are costly (Python through ctypes) may keep its copy as a view:
    /// its deadline is a clock reading taken *before* the call plus `fresh_for` (true on any
    /// clock that runs at real speed), and it is good only while no call that changes the
    /// session (`set`, `renew_now`, `renew_after_rejection`, `clear`) has answered with a
    /// newer generation.
    pub fn with_token_view<R>(&self, f: impl FnOnce(&Token, Duration, u64) -> R) -> Result<R> {
        self.serve(|token, fresh_for, generation| f(token, fresh_for, generation))
    }

    /// The generation of the cache's current state: it grows with every change of the session
    /// (a renewal landing, `set`, `renew_now`, `renew_after_rejection`, a dropped refresh
    /// token, `clear`). Read it after such a call: a view labelled with an older generation is
    /// stale.
    pub fn generation(&self) -> u64 {
        self.inner.current.load().generation
    }

    /// The fast path shared by every way of asking for a token: `on_token` gets the token, how
    /// long it stays fresh from now (zero when unknown or already due), and its generation.
    fn serve<R>(&self, on_token: impl FnOnce(&Arc<Token>, Duration, u64) -> R) -> Result<R> {
        let now = self.inner.flows.clock.now();
        let guard = self.inner.current.load();
        if let Some(entry) = guard.entry.as_ref() {
            match entry.freshness(now) {
                Freshness::Fresh => {
                    // (saturating: no panic path, so a caller that ignores it pays nothing)
                    let fresh_for = entry.refresh_at.saturating_sub(now);
                    return Ok(on_token(&entry.token, fresh_for, guard.generation));
                }
                Freshness::Due => {
                    let result = on_token(&entry.token, Duration::ZERO, guard.generation);
                    drop(guard);
                    Inner::renew_in_background(&self.inner, now);
                    return Ok(result);
                }
                Freshness::Expired => {}
            }
        }
        drop(guard);
        let token = Inner::renew_and_wait(&self.inner)?;
        let now = self.inner.flows.clock.now();
        let current = self.inner.current.load();
        let fresh_for = match current.entry.as_ref() {
            Some(e) if Arc::ptr_eq(&e.token, &token) => e.refresh_at.saturating_sub(now),
            _ => Duration::ZERO,
        };
        Ok(on_token(&token, fresh_for, current.generation))
    }

    /// The cached token, valid or not, without renewing anything.
    pub fn peek(&self) -> Option<Arc<Token>> {
        self.inner
            .current
            .load()
            .entry
            .as_ref()
            .map(|e| e.token.clone())
    }

    /// Puts a user's token in the cache (from a login, or a refresh token resumed): later
    /// renewals use its refresh token, and never client credentials (a session renews the
    /// way it began). It starts a new session: the backoff and the last error of renewals
    /// that failed before (say, `login_required` while nobody was logged in) no longer hold
    /// anyone back.
    pub fn set(&self, token: Token) -> Arc<Token> {
        let token = self.inner.begin_session(token);
        let mut flight = self.inner.lock();
        flight.renewals.began(Session::User);
        flight.last = None;
        drop(flight);
        self.inner.write_shared(Session::User);
        token
    }

    /// Takes the session from the shared store when it holds a usable one newer than this
    /// process's (say, a CLI run after `tokenward login`), and returns the cached token, valid
    /// or not, without renewing anything. Without a store, [`TokenSource::peek`].
    pub fn peek_shared(&self) -> Option<Arc<Token>> {
        self.inner.adopt_stored();
        self.peek()
    }

    /// The shared store's key of this cache (a hash: no secret in it), if it has a store.
    pub fn store_key(&self) -> Option<&str> {
        self.inner.shared.as_ref().map(Shared::key)
    }

    /// The API refused `rejected` (a 401): renew unless another caller already has, and return
    /// the new token. Many threads hitting the same 401 cause one renewal.
    pub fn renew_after_rejection(&self, rejected: &Arc<Token>) -> Result<Arc<Token>> {
        self.inner.expire_if(|t| Arc::ptr_eq(t, rejected));
        Inner::renew_and_wait(&self.inner)
    }

    /// [`TokenSource::renew_after_rejection`] for a caller that kept a copy of the access
    /// token rather than the `Arc` (the C ABI, Python): renews unless the cached token is no
    /// longer `rejected` (another caller renewed meanwhile), so many requests refused at once
    /// cause one renewal.
    pub fn renew_after_rejected_access_token(&self, rejected: &str) -> Result<Arc<Token>> {
        self.inner
            .expire_if(|t| t.access_token().expose() == rejected);
        Inner::renew_and_wait(&self.inner)
    }

    /// Renews now, whatever the cached token's age (an explicit `refresh`).
    pub fn renew_now(&self) -> Result<Arc<Token>> {
        self.inner.expire_if(|_| true);
        Inner::renew_and_wait(&self.inner)
    }

    /// Forgets the cached token (after logout or revocation). The session's kind stays: a
    /// user's session then needs a new login, it does not become the client's own.
    pub fn clear(&self) {
        self.inner.end_session();
        if let Some(shared) = &self.inner.shared {
            shared.delete();
        }
    }
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("scopes", &self.inner.scopes)
            .finish_non_exhaustive()
    }
}

/// What the state machine needs to know of a token's time.
fn timing(token: &Token) -> Timing {
    Timing {
        sent: token.sent_at().monotonic,
        lifetime: token.lifetime(),
        refresh_token: token.refresh_token().map(|_| token.refresh_expires_at()),
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Flight> {
        // A panic while holding the lock cannot leave Flight inconsistent: every field is
        // written in one step. Carry on rather than poison every later caller.
        self.flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn confidential(&self) -> bool {
        self.flows.config.can_use_client_credentials()
    }

    /// Replaces the cached entry by what `f` makes of it (`None`: leave it as it is) and bumps
    /// the generation, as one read-copy-update.
    fn change(&self, f: impl Fn(Option<&Entry<Arc<Token>>>) -> Option<Option<Entry<Arc<Token>>>>) {
        self.current.rcu(|cur| match f(cur.entry.as_ref()) {
            Some(entry) => Arc::new(Current {
                entry,
                generation: cur.generation.wrapping_add(1),
                session: cur.session,
            }),
            None => Arc::clone(cur),
        });
    }

    /// The cache entry for `token`.
    fn entry_for(&self, token: &Arc<Token>) -> Entry<Arc<Token>> {
        Entry::new(
            token.clone(),
            timing(token),
            &self.flows.refresh_policy,
            self.flows.clock.max_lag(),
        )
    }

    /// Puts `token` in the cache as a new session (a login, a resumed refresh token).
    fn begin_session(&self, token: Token) -> Arc<Token> {
        let token = Arc::new(token);
        let entry = self.entry_for(&token);
        self.current.rcu(|cur| {
            Arc::new(Current {
                entry: Some(entry.clone()),
                generation: cur.generation.wrapping_add(1),
                session: cur.session.wrapping_add(1),
            })
        });
        token
    }

    /// Ends the session: the cache is empty, and renewals still running land nowhere.
    fn end_session(&self) {
        self.current.rcu(|cur| {
            Arc::new(Current {
                entry: None,
                generation: cur.generation.wrapping_add(1),
                session: cur.session.wrapping_add(1),
            })
        });
    }

    /// Puts a renewed token in the cache, unless the session it renewed (`session`, read when
    /// the renewal started) has ended or been replaced meanwhile: then the cache keeps what the
    /// login or logout left, and only this renewal's callers get the token.
    fn publish(&self, token: Token, session: u64) -> Arc<Token> {
        let token = Arc::new(token);
        let entry = self.entry_for(&token);
        self.current.rcu(|cur| {
            if cur.session != session {
                return Arc::clone(cur);
            }
            Arc::new(Current {
                entry: Some(entry.clone()),
                generation: cur.generation.wrapping_add(1),
                session: cur.session,
            })
        });
        token
    }

    /// Marks the cached token as expired (keeping its refresh token for the renewal) when
    /// `pred` says so.
    fn expire_if(&self, pred: impl Fn(&Arc<Token>) -> bool) {
        self.change(|cur| match cur {
            Some(e) if pred(&e.token) => Some(Some(e.expired())),
            _ => None,
        });
    }

    /// A due token was served: start the renewal the state machine asks for, if any, on a
    /// background thread.
    fn renew_in_background(self: &Arc<Self>, now: Duration) {
        // try_lock: if another caller holds the lock it is dealing with renewal already, and a
        // caller holding a valid token must not wait for anything.
        let Ok(mut flight) = self.flight.try_lock() else {
            return;
        };
        let current = self.current.load_full();
        let grant = match decide(
            current.entry.as_ref(),
            &mut flight.renewals,
            now,
            self.confidential(),
        ) {
            Action::ServeAndRenew(grant) | Action::Renew(grant) => grant,
            _ => return,
        };
        drop(flight);
        let me = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("tokenward-renew".into())
            .spawn(move || {
                let _ = me.run_flight(grant);
            });
        if spawned.is_err() {
            // No thread to be had: the next caller past expiry renews in the foreground.
            self.lock().renewals.in_flight = false;
        }
    }

    /// The path of a caller without a valid token: whatever the state machine says.
    fn renew_and_wait(self: &Arc<Self>) -> Result<Arc<Token>> {
        let mut flight = self.lock();
        let mut store_tried = false;
        loop {
            let now = self.flows.clock.now();
            let current = self.current.load_full();
            let entry = current.entry.as_ref();
            match decide(entry, &mut flight.renewals, now, self.confidential()) {
                Action::Serve => {
                    if let Some(e) = entry {
                        return Ok(e.token.clone());
                    }
                }
                Action::ServeAndRenew(_) => {
                    // Valid again (a renewal landed meanwhile) but due: serve it, and hand the
                    // renewal just marked in flight to a background thread.
                    flight.renewals.in_flight = false;
                    drop(flight);
                    if let Some(e) = entry {
                        Inner::renew_in_background(self, now);
                        return Ok(e.token.clone());
                    }
                    flight = self.lock();
                }
                Action::Wait => {
                    let generation = flight.generation;
                    while flight.renewals.in_flight && flight.generation == generation {
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
                }
                Action::Renew(grant) => {
                    drop(flight);
                    return self.run_flight(grant);
                }
                Action::FailWithLast => {
                    if let Some(Err(e)) = &flight.last {
                        return Err(e.clone());
                    }
                    // Backing off without a recorded error (it was cleared): try again.
                    flight.renewals.retry_not_before = Duration::ZERO;
                }
                Action::LoginRequired if self.shared.is_some() && !store_tried => {
                    // Nothing here renews the session, but another process may have one:
                    // look in the shared store once (without holding the mutex) and decide again.
                    store_tried = true;
                    drop(flight);
                    self.adopt_stored();
                    flight = self.lock();
                }
                Action::LoginRequired => return Err(crate::cache::state::login_required(false)),
            }
        }
    }

    /// Runs one renewal (the state machine has marked it in flight) and lands it: records the
    /// outcome, wakes every waiter.
    fn run_flight(&self, first: Grant) -> Result<Arc<Token>> {
        let mut grant = first;
        loop {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| self.renew(grant)))
                .unwrap_or_else(|_| {
                    Err(Error::InvalidResponse(
                        "the token renewal panicked; this is a bug, please report it".into(),
                    ))
                });
            let now = self.flows.clock.now();
            let mut flight = self.lock();
            let outcome = match outcome {
                Ok((token, adopted)) => {
                    flight.renewals.renewed(grant);
                    if let Some(session) = adopted {
                        flight.renewals.session = Some(session);
                    }
                    Ok(token)
                }
                Err(e) => {
                    let after = flight.renewals.failed(
                        now,
                        grant,
                        e.refuses_refresh_token(),
                        e.retry_after(),
                        self.confidential(),
                    );
                    match after {
                        AfterFailure::FallThrough(next) => {
                            drop(flight);
                            self.drop_refresh_token();
                            grant = next;
                            continue;
                        }
                        AfterFailure::Failed {
                            drop_refresh_token,
                            login_required,
                        } => {
                            if drop_refresh_token {
                                self.drop_refresh_token();
                            }
                            Err(if login_required {
                                crate::cache::state::login_required(true)
                            } else {
                                e
                            })
                        }
                    }
                }
            };
            flight.generation = flight.generation.wrapping_add(1);
            flight.last = Some(outcome.clone());
            drop(flight);
            self.landed.notify_all();
            return outcome;
        }
    }

    /// One renewal through the shared store, if there is one: under the store's lock, adopt
    /// what another process stored meanwhile when it is newer; renew only if still needed; write
    /// what landed before the lock is released. Returns the token and, when the stored session
    /// was adopted, its kind. A failing store renews alone ([`Shared`] says so once).
    fn renew(&self, grant: Grant) -> Result<(Arc<Token>, Option<Session>)> {
        let Some(shared) = &self.shared else {
            return self.renew_by(grant).map(|t| (t, None));
        };
        let _held = shared.lock();
        let mut grant = grant;
        let mut adopted = None;
        let read = self.read_stored(shared);
        let stored_refresh_token = read
            .as_ref()
            .and_then(|(stored, _)| stored.token.refresh_token().cloned());
        if let Some((stored, session)) = read {
            let now = self.flows.clock.now();
            let current = self.current.load_full();
            if is_newer(&stored, current.entry.as_ref()) {
                let token = stored.token.clone();
                let freshness = stored.freshness(now);
                self.change(|_| Some(Some(stored.clone())));
                adopted = Some(session);
                if freshness == Freshness::Fresh {
                    return Ok((token, adopted));
                }
                // Due or expired in the store too: renew it the way its session renews.
                let renewals = Renewals {
                    session: Some(session),
                    ..Renewals::default()
                };
                match renewals.grant(Some(&stored), now, self.confidential()) {
                    Some(g) => grant = g,
                    None if freshness == Freshness::Due => return Ok((token, adopted)),
                    None => {
                        return Err(Error::LoginRequired(
                            "the stored session has expired and nothing may renew it; start a new login".into(),
                        ))
                    }
                }
            }
        }
        let sent_refresh_token = self
            .current
            .load()
            .entry
            .as_ref()
            .and_then(|e| e.token.refresh_token().cloned());
        let token = match self.renew_by(grant) {
            Ok(token) => token,
            Err(e) => {
                // The server refused the refresh token the stored session holds: that session
                // is over for every process. Delete it (under the lock) so the others learn it
                // from the store, not each by a request of its own.
                if grant == Grant::RefreshToken
                    && e.refuses_refresh_token()
                    && sent_refresh_token.is_some()
                    && sent_refresh_token == stored_refresh_token
                {
                    shared.delete();
                }
                return Err(e);
            }
        };
        let session = match grant {
            Grant::ClientCredentials => Session::ClientCredentials,
            Grant::RefreshToken => adopted
                .or(self.lock().renewals.session)
                .unwrap_or(Session::User),
        };
        self.write_shared(session);
        Ok((token, adopted))
    }

    /// Writes the cached entry to the shared store, if there is one.
    fn write_shared(&self, session: Session) {
        if let Some(shared) = &self.shared {
            if let Some(entry) = self.current.load().entry.as_ref() {
                shared.write(entry, session, self.flows.clock.as_ref());
            }
        }
    }

    /// The shared store's record as an entry on this process's clock, if it is usable and its
    /// ID token verifies as if this process had received it
    /// ([`Flows::verify_stored_id_token`]: signature, `iss`, `aud`, `azp`, `exp`, `iat`), so an
    /// adopted token's [`Token::id_token_claims`] are verified ones. A record already expired is
    /// taken unverified: it is never handed out, only renewed, and the renewal's answer is
    /// verified. A record whose ID token does not verify is ignored (and overwritten by the next
    /// renewal), like a foreign one.
    fn read_stored(&self, shared: &Shared) -> Option<(Entry<Arc<Token>>, Session)> {
        let (stored, session) =
            shared.read(self.flows.clock.as_ref(), &self.flows.refresh_policy)?;
        if stored.token.id_token().is_none()
            || stored.freshness(self.flows.clock.now()) == Freshness::Expired
        {
            return Some((stored, session));
        }
        let mut token = Token::clone(&stored.token);
        match self.flows.verify_stored_id_token(&mut token) {
            Ok(()) => Some((
                Entry {
                    token: Arc::new(token),
                    ..stored
                },
                session,
            )),
            Err(e) => {
                shared.ignored(&format!("its ID token does not verify ({e})"));
                None
            }
        }
    }

    /// Adopts the shared store's record when it is usable and newer than the cached entry.
    fn adopt_stored(&self) {
        let Some(shared) = &self.shared else { return };
        let Some((stored, session)) = self.read_stored(shared) else {
            return;
        };
        let current = self.current.load_full();
        if is_newer(&stored, current.entry.as_ref()) {
            self.change(|_| Some(Some(stored.clone())));
            let mut flight = self.lock();
            flight.renewals.began(session);
            flight.last = None;
        }
    }

    /// Performs one renewal by `grant` and publishes the new token.
    fn renew_by(&self, grant: Grant) -> Result<Arc<Token>> {
        let session = self.current.load().session;
        match grant {
            Grant::RefreshToken => {
                let current = self.current.load_full();
                let Some(entry) = current.entry.as_ref() else {
                    return Err(Error::LoginRequired(
                        "no session to refresh; log in first".into(),
                    ));
                };
                let Some(rt) = entry.token.refresh_token() else {
                    return Err(Error::LoginRequired(
                        "the session has no refresh token; start a new login".into(),
                    ));
                };
                let mut token = self.flows.refresh(rt, None)?;
                token.inherit_refresh_token(&entry.token);
                Ok(self.publish(token, session))
            }
            Grant::ClientCredentials => {
                let token = self.flows.client_credentials(&self.scopes)?;
                Ok(self.publish(token, session))
            }
        }
    }

    /// Keeps the access token (it may still be valid) but forgets the refused refresh token.
    fn drop_refresh_token(&self) {
        self.change(|cur| {
            cur.map(|e| Some(e.without_refresh_token(Arc::new(e.token.without_refresh_token()))))
        });
    }
}
