//! The Redis store (`redis://`, `rediss://`; the `redis` cargo feature): many machines. A
//! record is the string `tokenward:<key>`, kept only as long as it can be of use; the renewal
//! lock is `tokenward:<key>:lock`, taken with `SET NX PX` and a random value and released by a
//! compare-and-delete script, so a holder whose lock expired never releases someone else's.
//!
//! The URL is the `redis` crate's: `redis://[user][:password@]host[:port][/db]`, `rediss://`
//! for TLS (the system's trusted roots). One connection per store, re-opened after any error;
//! connecting and every command are bounded (2 s), and after a failure the store is not tried
//! again for a second, so a Redis that is down or slow costs a renewal at most that.

use crate::prelude::*;

use core::time::Duration;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::{redact_url, Store, StoreLock};
use crate::error::{Error, Result};

/// Connecting, and each command, give up after this.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// After a failure the store is not tried again for this long.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

const RELEASE: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

struct Conn {
    connection: Option<redis::Connection>,
    /// No new attempt before this, after a failure.
    paused_until: Option<Instant>,
}

struct Inner {
    client: redis::Client,
    url: String,
    conn: Mutex<Conn>,
}

/// A Redis server or proxy ([module docs](self)). Clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

impl RedisStore {
    pub fn from_url(url: &str) -> Result<RedisStore> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::Config(format!(
                "store `{}`: not a Redis URL ({:?}); use redis://[:password@]host[:port][/db] or rediss://...",
                redact_url(url),
                e.kind()
            ))
        })?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                url: redact_url(url),
                conn: Mutex::new(Conn {
                    connection: None,
                    paused_until: None,
                }),
            }),
        })
    }

    /// Runs `f` on the connection (opened if needed); any error drops the connection and
    /// pauses the store.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<R>,
    ) -> Result<R> {
        let mut conn = self.inner.lock();
        if let Some(until) = conn.paused_until {
            if Instant::now() < until {
                return Err(Error::Transport(format!(
                    "Redis store {} failed a moment ago; not retried yet",
                    self.inner.url
                )));
            }
        }
        if conn.connection.is_none() {
            let opened = self
                .inner
                .client
                .get_connection_with_timeout(TIMEOUT)
                .and_then(|c| {
                    c.set_read_timeout(Some(TIMEOUT))?;
                    c.set_write_timeout(Some(TIMEOUT))?;
                    Ok(c)
                });
            match opened {
                Ok(c) => conn.connection = Some(c),
                Err(e) => return Err(self.failed(&mut conn, "cannot connect to", &e)),
            }
        }
        let Some(c) = conn.connection.as_mut() else {
            return Err(Error::Transport("Redis store: no connection".into()));
        };
        match f(c) {
            Ok(r) => {
                conn.paused_until = None;
                Ok(r)
            }
            Err(e) => Err(self.failed(&mut conn, "lost", &e)),
        }
    }

    fn failed(&self, conn: &mut Conn, what: &str, e: &redis::RedisError) -> Error {
        conn.connection = None;
        conn.paused_until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
        // The error's text can quote the URL; only its kind and the redacted URL go out.
        let detail = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connection_refusal() {
            "connection refused".to_string()
        } else if e.kind() == redis::ErrorKind::AuthenticationFailed {
            "authentication failed (check the password in the URL)".to_string()
        } else {
            format!("{:?}", e.kind())
        };
        Error::Transport(format!("Redis store {what} {}: {detail}", self.inner.url))
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn record_key(key: &str) -> String {
    format!("tokenward:{key}")
}

fn lock_key(key: &str) -> String {
    format!("tokenward:{key}:lock")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

struct Held {
    store: RedisStore,
    key: String,
    value: String,
}

impl StoreLock for Held {}

impl Drop for Held {
    fn drop(&mut self) {
        // Best effort: if Redis is gone, the lock expires by itself.
        let _ = self.store.with(|c| {
            redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(&self.key)
                .arg(&self.value)
                .query::<i64>(c)
        });
    }
}

impl Store for RedisStore {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let k = record_key(key);
        self.with(|c| redis::cmd("GET").arg(&k).query::<Option<Vec<u8>>>(c))
    }

    fn write(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()> {
        let k = record_key(key);
        self.with(|c| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&k).arg(value);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(millis(ttl));
            }
            cmd.query::<()>(c)
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        let k = record_key(key);
        self.with(|c| redis::cmd("DEL").arg(&k).query::<i64>(c))
            .map(|_| ())
    }

    fn lock(&self, key: &str, ttl: Duration, wait: Duration) -> Result<Box<dyn StoreLock>> {
        let k = lock_key(key);
        let mut random = [0u8; 16];
        getrandom::fill(&mut random)
            .map_err(|_| Error::Transport("no OS randomness for the Redis lock".into()))?;
        let value: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            let taken = self.with(|c| {
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&value)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .query::<Option<String>>(c)
            })?;
            if taken.is_some() {
                return Ok(Box::new(Held {
                    store: self.clone(),
                    key: k,
                    value,
                }));
            }
            if started.elapsed() >= wait {
                return Err(Error::Timeout(wait));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    fn describe(&self) -> String {
        self.inner.url.clone()
    }
}
