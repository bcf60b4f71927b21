//! The two system calls of the file store that std does not offer on the crate's minimum Rust
//! (1.85): `flock` and `geteuid`. The crate's only `unsafe` besides `native::monotonic`.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Takes an exclusive `flock` on `file` without waiting: `Ok(false)` when another open file
/// (another process, or another thread of this one) holds it. The kernel releases it when the
/// file is closed, including when the process dies.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    // SAFETY: the descriptor is owned by `file`, open for the whole call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => Ok(false),
        _ => Err(err),
    }
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
