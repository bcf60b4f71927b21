//! A [`TokenSource`](super::source::TokenSource)'s view of a shared store: its key, the
//! record read and written through [`crate::cache::stored`], and the store's health. The
//! source touches it only on its slow path (a token due, expired or missing; a login; a
//! clear), never while its own token is fresh.
//!
//! A store that fails (unreachable, slow, restarted, a file refused for its mode) never costs a
//! valid token: every call here turns the failure into "nothing from the store", and the source
//! carries on with its own cache. The failure is said once, through the client's store hook or
//! else one line on standard error, and so is the store's return.

use crate::prelude::*;

use core::time::Duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::clock::Clock;
use super::store::{Store, StoreLock, LOCK_TTL};
use crate::cache::policy::RefreshPolicy;
use crate::cache::state::{Entry, Session};
use crate::cache::stored::{Now, Record, Rejected};
use crate::error::Error;
use crate::token::Token;

/// Told what happens to the shared store: a failure (once, until it works again), its return,
/// a record ignored as corrupt or foreign. Without one, each goes to standard error as one line
/// starting `tokenward:`.
pub type StoreHook = Arc<dyn Fn(&str) + Send + Sync>;

pub(crate) struct Shared {
    store: Arc<dyn Store>,
    key: String,
    hook: Option<StoreHook>,
    faulted: AtomicBool,
}

impl Shared {
    pub(crate) fn new(store: Arc<dyn Store>, key: String, hook: Option<StoreHook>) -> Shared {
        Shared {
            store,
            key,
            hook,
            faulted: AtomicBool::new(false),
        }
    }

    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    fn say(&self, msg: &str) {
        match &self.hook {
            Some(hook) => hook(msg),
            None => std::eprintln!("tokenward: {msg}"),
        }
    }

    /// A store call failed: said once until it works again.
    fn fault(&self, e: &Error) {
        if !self.faulted.swap(true, Ordering::SeqCst) {
            self.say(&format!(
                "the token store {} failed ({e}); carrying on with this process's own token cache until it is back",
                self.store.describe()
            ));
        }
    }

    fn ok(&self) {
        if self.faulted.swap(false, Ordering::SeqCst) {
            self.say(&format!(
                "the token store {} is back; using it again",
                self.store.describe()
            ));
        }
    }

    /// The renewal lock, or `None` when the store fails (the renewal goes ahead alone).
    pub(crate) fn lock(&self) -> Option<Box<dyn StoreLock>> {
        match self.store.lock(&self.key, LOCK_TTL, LOCK_TTL) {
            Ok(lock) => {
                self.ok();
                Some(lock)
            }
            Err(e) => {
                self.fault(&e);
                None
            }
        }
    }

    /// The stored entry, mapped onto this process's clock, if there is a usable one.
    pub(crate) fn read(
        &self,
        clock: &dyn Clock,
        policy: &RefreshPolicy,
    ) -> Option<(Entry<Arc<Token>>, Session)> {
        let bytes = match self.store.read(&self.key) {
            Ok(Some(bytes)) => {
                self.ok();
                bytes
            }
            Ok(None) => {
                self.ok();
                return None;
            }
            Err(e) => {
                self.fault(&e);
                return None;
            }
        };
        let record = match Record::decode(&bytes, &self.key) {
            Ok(r) => r,
            Err(why) => {
                self.say(&format!(
                    "ignored a {} record in the token store {}; it is overwritten by the next renewal",
                    match why {
                        Rejected::Corrupt => "corrupt",
                        Rejected::Foreign => "foreign (another format or key)",
                    },
                    self.store.describe()
                ));
                return None;
            }
        };
        let entry = record.entry(now(clock), policy, clock.max_lag())?;
        Some((
            Entry {
                token: Arc::new(entry.token),
                refresh_at: entry.refresh_at,
                expires_at: entry.expires_at,
                refresh_token: entry.refresh_token,
            },
            record.session(),
        ))
    }

    /// Stores `entry` (a renewal landed, a login).
    pub(crate) fn write(&self, entry: &Entry<Arc<Token>>, session: Session, clock: &dyn Clock) {
        let now = now(clock);
        let record = Record::new(&self.key, session, entry, now);
        // Kept while the access token or the refresh token can be of use.
        let useful_until = match entry.refresh_token {
            Some(None) => None,
            Some(Some(rt)) => Some(rt.max(entry.expires_at)),
            None => Some(entry.expires_at),
        };
        let ttl =
            useful_until.map(|at| at.saturating_sub(now.monotonic).max(Duration::from_secs(1)));
        match self.store.write(&self.key, &record.encode(), ttl) {
            Ok(()) => self.ok(),
            Err(e) => self.fault(&e),
        }
    }

    /// Says that the stored record was not used, and why.
    pub(crate) fn ignored(&self, why: &str) {
        self.say(&format!(
            "ignored the record in the token store {}: {why}; it is overwritten by the next renewal",
            self.store.describe()
        ));
    }

    /// Forgets the stored record (a logout).
    pub(crate) fn delete(&self) {
        match self.store.delete(&self.key) {
            Ok(()) => self.ok(),
            Err(e) => self.fault(&e),
        }
    }
}

/// This process's clocks, read together.
pub(crate) fn now(clock: &dyn Clock) -> Now {
    Now {
        monotonic: clock.now(),
        unix_ms: clock.unix_time_ms(),
    }
}
