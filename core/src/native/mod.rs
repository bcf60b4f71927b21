//! The runtime for native code (the `blocking` feature): the ureq transport, the OS clock and
//! random generator, the threaded [`TokenSource`](source::TokenSource) that drives the cache
//! policy, and the [`Client`](client::Client) that ties them together.

pub mod client;
pub mod clock;
pub mod flows;
pub mod keys;
mod monotonic;
pub mod random;
pub mod signature;
pub mod source;
pub mod transport;
