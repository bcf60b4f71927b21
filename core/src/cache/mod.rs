//! What is cached and when it is renewed, sans-IO: the token's renewal policy ([`state`],
//! [`policy`]) and the provider's signing keys ([`keys`]). Pure functions of the state and a
//! `now` handed in; no clock, thread, lock or I/O inside, so every runtime (the native
//! `TokenSource`, the browser client) drives the same decisions.

pub mod keys;
pub mod policy;
pub mod state;
pub mod stored;
