//! C ABI for tokenward: `libtokenward.so` / `libtokenward.a` and `include/tokenward.h`.
//!
//! This crate only translates: C strings and pointers in, `tw_result` codes, caller buffers and
//! owned strings out. Every behaviour lives in the `tokenward` core. The conventions
//! (DESIGN.md, "C ABI conventions", modelled on rustls-ffi):
//!
//! - prefix `tw_`; opaque types `tw_client`, `tw_options`, `tw_token`, `tw_login`;
//! - every fallible function returns `tw_result` (`TW_OK` = 0); codes 1..12 are the core's
//!   `ErrorCode`s one to one, codes from 100 are the C interface's own;
//! - out-parameters come last and are written only on success (the one exception: the size
//!   needed, on `TW_ERR_BUFFER_TOO_SMALL`);
//! - a thread-local last error holds the message and the server's `error` /
//!   `error_description`;
//! - every export runs under `catch_unwind`: a panic returns `TW_ERR_PANIC`, never unwinds
//!   into C;
//! - every `_free` accepts NULL.
//!
//! The header is generated from these sources by cbindgen (`ffi/gen-header.sh`).

#![allow(non_camel_case_types)]
// Exports take raw pointers from C; their contracts are documented on each function.
#![allow(clippy::missing_safety_doc)]

// Declared in the order the header should read: results and errors, options, tokens,
// clients, logins, verification.
mod error;
mod strings;
mod options;
mod hook;
mod token;
mod client;
mod login;
mod grants;
mod verify;
mod store;

use std::ffi::c_char;

pub use client::*;
pub use error::*;
pub use grants::*;
pub use hook::tw_token_callback;
pub use login::*;
pub use options::*;
pub use strings::tw_string_free;
pub use token::*;
pub use verify::*;

/// The library's version, e.g. `"0.1.0"`.
///
/// Ownership: a static string; never free it. Thread-safety: any thread.
#[no_mangle]
pub extern "C" fn tw_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// TEST BUILDS ONLY (cargo feature `test-hooks`; absent from the shipped library): panics
/// inside the library so tests can check that the panic comes back as `TW_ERR_PANIC`.
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "C" fn tw_test_force_panic() -> tw_result {
    error::guard(|| panic!("forced by tw_test_force_panic"))
}
