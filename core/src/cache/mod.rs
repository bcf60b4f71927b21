//! The renewal policy, sans-IO: when a cached token is fresh, due or dead, and what renews it.
//! Pure functions of the state and a `now` handed in; no clock, thread, lock or I/O inside, so
//! every runtime (the native `TokenSource`, the browser client) drives the same decisions.

pub mod policy;
pub mod state;
