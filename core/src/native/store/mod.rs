//! Where cache entries live beyond one process: the [`Store`] seam and its three kinds, chosen
//! by URL so every binding says it the same way ([`open`]):
//!
//! | URL | store | lock |
//! |---|---|---|
//! | `memory` | none: each process keeps its own cache (the default for libraries) | |
//! | `file:///dir` | one file per key in `dir` (one machine; the CLI's default) | `flock` on a lock file, released when the holder dies |
//! | `redis://[user:password@]host[:port][/db]`, `rediss://...` | Redis (many machines; the `redis` cargo feature) | `SET NX PX` with a random value, compare-and-delete release |
//!
//! What is stored and when is the core's ([`crate::cache::stored`]): the record format, the
//! key (a hash: no secret in a file name or a Redis key), whether a record is usable or newer.
//! A store only moves bytes and holds locks. Every operation is bounded in time; the
//! [`TokenSource`](super::source::TokenSource) turns a failing store into "carry on with this
//! process's own cache" and never loses a valid token to one.
//!
//! A store holds bearer tokens and refresh tokens in clear: whoever can read it can act as
//! the user or the client until they expire. The file store keeps them in files of mode 0600
//! in a directory of mode 0700 and refuses files that others can read; give Redis a password
//! (`redis://:password@host`) and TLS (`rediss://`).

use crate::prelude::*;

use core::time::Duration;
use std::sync::Arc;

use crate::error::{Error, Result};

pub mod file;
pub mod memory;
mod os;
#[cfg(feature = "redis")]
pub mod redis;

pub use file::FileStore;
pub use memory::MemoryStore;

/// A held lock; dropping it releases it.
pub trait StoreLock: Send {}

/// A shared place for cache records. Keys are [`store_key`](crate::cache::stored::store_key)s
/// (`tw1-` and 64 hex digits). Implementations must be safe from many threads and bound every
/// call in time.
pub trait Store: Send + Sync {
    /// The record stored under `key`, if any.
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`; `ttl` (when known) is how long it can be of any use, after
    /// which the store may forget it.
    fn write(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<()>;
    /// Forgets the record under `key` (a logout).
    fn delete(&self, key: &str) -> Result<()>;
    /// Takes the renewal lock for `key`, waiting at most `wait`. A holder that dies loses it
    /// (at once for a file, after `ttl` for Redis).
    fn lock(&self, key: &str, ttl: Duration, wait: Duration) -> Result<Box<dyn StoreLock>>;
    /// The store's URL without any password, for messages.
    fn describe(&self) -> String;
}

/// How long a renewal may hold the lock before another process may take it over (Redis), and
/// how long a process waits for it before renewing on its own.
pub const LOCK_TTL: Duration = Duration::from_secs(30);

/// Opens the store a URL names; `Ok(None)` for `memory` (no shared store).
pub fn open(url: &str) -> Result<Option<Arc<dyn Store>>> {
    let url = url.trim();
    let scheme = url.split_once(':').map_or(url, |(s, _)| s);
    match scheme.to_ascii_lowercase().as_str() {
        "" | "memory" | "none" => Ok(None),
        "file" => Ok(Some(Arc::new(FileStore::from_url(url)?))),
        "redis" | "rediss" => open_redis(url),
        _ => Err(Error::Config(format!(
            "store `{}`: unknown kind; use `memory`, `file:///absolute/dir`, `redis://host[:port]` or `rediss://host[:port]`",
            redact_url(url)
        ))),
    }
}

#[cfg(feature = "redis")]
fn open_redis(url: &str) -> Result<Option<Arc<dyn Store>>> {
    Ok(Some(Arc::new(redis::RedisStore::from_url(url)?)))
}

#[cfg(not(feature = "redis"))]
fn open_redis(url: &str) -> Result<Option<Arc<dyn Store>>> {
    Err(Error::Config(format!(
        "store `{}`: this build of tokenward has no Redis support; build it with the `redis` cargo feature (the C library, the Python package and the CLI have it)",
        redact_url(url)
    )))
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') || !user.is_empty() {
                format!("{user}:***")
            } else {
                String::new()
            };
            format!("{scheme}://{hidden}@{host}{path}")
        }
        None => url.to_string(),
    }
}

/// The default directory of the file store: `$XDG_STATE_HOME/tokenward`, else
/// `~/.local/state/tokenward`, from the process environment.
pub fn default_dir() -> Option<std::path::PathBuf> {
    default_dir_from(|k| std::env::var(k).ok())
}

/// [`default_dir`] with the variables `var` gives (blank counts as unset).
pub fn default_dir_from(var: impl Fn(&str) -> Option<String>) -> Option<std::path::PathBuf> {
    let from_env = |k| var(k).filter(|v| !v.trim().is_empty());
    if let Some(state) = from_env("XDG_STATE_HOME") {
        return Some(std::path::PathBuf::from(state).join("tokenward"));
    }
    from_env("HOME").map(|h| std::path::PathBuf::from(h).join(".local/state/tokenward"))
}

/// The `file://` URL of [`default_dir`].
pub fn default_file_url() -> Option<String> {
    default_dir().and_then(|d| file_url(&d))
}

/// The `file://` URL of an absolute directory (percent-encoded as [`FileStore::from_url`]
/// decodes it), or `None` for a relative or non-UTF-8 path.
pub fn file_url(dir: &std::path::Path) -> Option<String> {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'?')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    let dir = dir.to_str().filter(|d| d.starts_with('/'))?;
    Some(format!(
        "file://{}",
        percent_encoding::utf8_percent_encode(dir, PATH)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_store_and_passwords_never_show() {
        assert!(open("memory").unwrap().is_none());
        assert!(open("").unwrap().is_none());
        let e = open("ftp://x").err().unwrap().to_string();
        assert!(e.contains("unknown kind"), "{e}");
        assert_eq!(
            redact_url("redis://:s3cret@localhost:6379/0"),
            "redis://:***@localhost:6379/0"
        );
        assert_eq!(redact_url("rediss://u:p@h"), "rediss://u:***@h");
        assert_eq!(redact_url("redis://h:1"), "redis://h:1");
        let url = file_url(std::path::Path::new("/home/a b/100%/s")).unwrap();
        assert_eq!(url, "file:///home/a%20b/100%25/s");
        assert_eq!(
            FileStore::from_url(&url).unwrap().dir(),
            std::path::Path::new("/home/a b/100%/s")
        );
        assert_eq!(file_url(std::path::Path::new("rel")), None);
        let dir = |pairs: &[(&str, &str)]| {
            let pairs = pairs.to_vec();
            default_dir_from(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(
            dir(&[("HOME", "/h"), ("XDG_STATE_HOME", "/s")]).unwrap(),
            std::path::Path::new("/s/tokenward")
        );
        assert_eq!(
            dir(&[("HOME", "/h"), ("XDG_STATE_HOME", " ")]).unwrap(),
            std::path::Path::new("/h/.local/state/tokenward")
        );
        assert_eq!(dir(&[]), None);
        #[cfg(not(feature = "redis"))]
        {
            let e = open("redis://:pw@h").err().unwrap().to_string();
            assert!(
                e.contains("`redis` cargo feature") && !e.contains("pw"),
                "{e}"
            );
        }
    }
}
