//! The file store (`file:///dir`): one machine, many processes. Each key is a file
//! `<key>.json` of mode 0600, replaced atomically (written beside it, then renamed), and a lock
//! file `<key>.lock` that a renewal holds with `flock`: the kernel releases it when the holder
//! exits or is killed, so a dead holder never blocks anyone. The directory is created with mode
//! 0700; a record file that other users could read (or that another user owns) is refused with
//! an error naming it, and so is a directory others can write to.

use crate::prelude::*;

use core::time::Duration;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::os;
use super::{Store, StoreLock};
use crate::error::{Error, Result};

/// Records larger than this are not read (a store file is a few kilobytes).
const MAX_RECORD: u64 = 1 << 20;

/// A directory of record files ([module docs](self)).
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

struct Held {
    _file: File,
}

impl StoreLock for Held {}

fn io_error(what: &str, path: &Path, e: io::Error) -> Error {
    Error::Transport(format!("file store: {what} {}: {e}", path.display()))
}

/// Store keys are `tw1-` and hex digits; anything else could name a path outside the directory.
fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config(
            "file store: a key must be lowercase letters, digits and `-`".into(),
        ))
    }
}

impl FileStore {
    /// A store in `dir` (created with mode 0700 when first used).
    pub fn new(dir: impl Into<PathBuf>) -> FileStore {
        FileStore { dir: dir.into() }
    }

    /// `file:///absolute/dir` (percent-encoded as a URL path).
    pub fn from_url(url: &str) -> Result<FileStore> {
        let rest = url
            .strip_prefix("file://")
            .or_else(|| url.strip_prefix("FILE://"))
            .ok_or_else(|| {
                Error::Config(format!(
                    "store `{url}`: a file store is `file:///absolute/dir` (three slashes)"
                ))
            })?;
        let path = if let Some(p) = rest.strip_prefix("localhost/") {
            format!("/{p}")
        } else {
            rest.to_string()
        };
        let decoded = percent_encoding::percent_decode_str(&path)
            .decode_utf8()
            .map_err(|_| Error::Config(format!("store `{url}`: the path is not UTF-8")))?;
        if !decoded.starts_with('/') {
            return Err(Error::Config(format!(
                "store `{url}`: the directory must be absolute: `file:///home/me/.local/state/tokenward`"
            )));
        }
        Ok(FileStore::new(decoded.trim_end_matches('/').to_string()))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Creates the directory (0700) if missing; refuses one that other users may write to.
    fn ensure_dir(&self) -> Result<()> {
        match fs::metadata(&self.dir) {
            Ok(m) => check_dir(&self.dir, &m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| io_error("cannot create the directory", &self.dir, e)),
            Err(e) => Err(io_error("cannot use the directory", &self.dir, e)),
        }
    }
}

fn check_dir(dir: &Path, m: &fs::Metadata) -> Result<()> {
    if !m.is_dir() {
        return Err(Error::Config(format!(
            "file store: {} is not a directory",
            dir.display()
        )));
    }
    let sticky = m.mode() & 0o1000 != 0;
    if m.mode() & 0o022 != 0 && !sticky {
        return Err(Error::Config(format!(
            "file store: other users can write to {} (mode {:o}), so they could swap the token files; run `chmod 700 {}`",
            dir.display(),
            m.mode() & 0o777,
            dir.display()
        )));
    }
    Ok(())
}

/// Refuses a record file that other users could read or that is not ours.
fn check_file(path: &Path, m: &fs::Metadata) -> Result<()> {
    if !m.is_file() {
        return Err(Error::Config(format!(
            "file store: {} is not a regular file",
            path.display()
        )));
    }
    if m.mode() & 0o077 != 0 {
        return Err(Error::Config(format!(
            "file store: {} holds tokens but other users can read or write it (mode {:o}); tokenward refuses it: run `chmod 600 {}`",
            path.display(),
            m.mode() & 0o777,
            path.display()
        )));
    }
    if m.uid() != os::euid() {
        return Err(Error::Config(format!(
            "file store: {} belongs to another user (uid {}); tokenward refuses it",
            path.display(),
            m.uid()
        )));
    }
    Ok(())
}

impl Store for FileStore {
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        let path = self.record_path(key);
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot open", &path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error("cannot stat", &path, e))?;
        check_file(&path, &meta)?;
        let mut bytes = Vec::with_capacity(meta.len().min(MAX_RECORD) as usize);
        file.take(MAX_RECORD)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error("cannot read", &path, e))?;
        Ok(Some(bytes))
    }

    fn write(&self, key: &str, value: &[u8], _ttl: Option<Duration>) -> Result<()> {
        check_key(key)?;
        self.ensure_dir()?;
        let path = self.record_path(key);
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self
            .dir
            .join(format!(".{key}.{}.{nonce}.tmp", std::process::id()));
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            // The mode given to open is masked by the umask; 0600 is what it must be.
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
            f.write_all(value)?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("cannot write", &path, e));
        }
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        check_key(key)?;
        let path = self.record_path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("cannot delete", &path, e)),
        }
    }

    fn lock(&self, key: &str, _ttl: Duration, wait: Duration) -> Result<Box<dyn StoreLock>> {
        check_key(key)?;
        self.ensure_dir()?;
        let path = self.dir.join(format!("{key}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| io_error("cannot open the lock file", &path, e))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            if os::try_lock_exclusive(&file).map_err(|e| io_error("cannot lock", &path, e))? {
                return Ok(Box::new(Held { _file: file }));
            }
            if started.elapsed() >= wait {
                return Err(Error::Timeout(wait));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    fn describe(&self) -> String {
        format!("file://{}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tw-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    const KEY: &str = "tw1-00ff";

    #[test]
    fn records_are_0600_in_a_0700_directory_and_replace_each_other() {
        let d = tmp("modes");
        let s = FileStore::from_url(&format!("file://{}", d.display())).unwrap();
        assert_eq!(s.read(KEY).unwrap(), None);
        s.write(KEY, b"one", None).unwrap();
        s.write(KEY, b"two", None).unwrap();
        assert_eq!(s.read(KEY).unwrap().as_deref(), Some(&b"two"[..]));
        let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join(format!("{KEY}.json"))), 0o600);
        s.delete(KEY).unwrap();
        s.delete(KEY).unwrap();
        assert_eq!(s.read(KEY).unwrap(), None);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_others_can_read_is_refused_with_its_name_and_the_fix() {
        let d = tmp("0644");
        let s = FileStore::new(&d);
        s.write(KEY, b"secret", None).unwrap();
        let path = d.join(format!("{KEY}.json"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = s.read(KEY).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("secret"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_lock_excludes_others_until_dropped_and_keys_cannot_escape() {
        let d = tmp("lock");
        let s = FileStore::new(&d);
        let held = s.lock(KEY, LOCK, Duration::ZERO).unwrap();
        assert!(matches!(
            s.lock(KEY, LOCK, Duration::from_millis(30)),
            Err(Error::Timeout(_))
        ));
        drop(held);
        drop(s.lock(KEY, LOCK, Duration::ZERO).unwrap());
        assert!(s.read("../etc/passwd").is_err());
        assert!(FileStore::from_url("file://relative/dir").is_err());
        let spaced = FileStore::from_url("file:///tmp/a%20b/").unwrap();
        assert_eq!(spaced.dir(), Path::new("/tmp/a b"));
        fs::remove_dir_all(&d).unwrap();
    }

    const LOCK: Duration = Duration::from_secs(1);
}
