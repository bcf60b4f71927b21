//! A store inside one process: what tests use to stand in for a shared store, and a way for
//! several clients of one process to share their entries. (The `memory` URL means no store at
//! all: each token source already caches in memory.)

use crate::prelude::*;

use core::time::Duration;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use super::{Store, StoreLock};
use crate::error::{Error, Result};

#[derive(Default)]
struct State {
    records: HashMap<String, Vec<u8>>,
    locked: HashSet<String>,
}

/// An in-process [`Store`]; clones share it.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<(Mutex<State>, Condvar)>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Held {
    store: MemoryStore,
    key: String,
}

impl StoreLock for Held {}

impl Drop for Held {
    fn drop(&mut self) {
        self.store.state().locked.remove(&self.key);
        self.store.inner.1.notify_all();
    }
}

impl Store for MemoryStore {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state().records.get(key).cloned())
    }

    fn write(&self, key: &str, value: &[u8], _ttl: Option<Duration>) -> Result<()> {
        self.state().records.insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.state().records.remove(key);
        Ok(())
    }

    fn lock(&self, key: &str, _ttl: Duration, wait: Duration) -> Result<Box<dyn StoreLock>> {
        let deadline = Instant::now() + wait;
        let mut state = self.state();
        while state.locked.contains(key) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(wait));
            }
            state = self
                .inner
                .1
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.locked.insert(key.to_string());
        Ok(Box::new(Held {
            store: self.clone(),
            key: key.to_string(),
        }))
    }

    fn describe(&self) -> String {
        "an in-process store".into()
    }
}
