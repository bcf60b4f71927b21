//! The runtime for native code (the `blocking` feature): the ureq transport, the OS clock and
//! random generator, the settings read from flags, `TOKENWARD_*` variables and profiles
//! ([`settings`]), the threaded [`TokenSource`](source::TokenSource) that drives the cache
//! policy, and the [`Client`](client::Client) that ties them together.

pub mod assertion;
pub mod client;
pub mod clock;
pub mod device;
pub mod exchange;
pub mod flows;
pub mod keys;
pub mod logout;
mod monotonic;
pub mod random;
pub mod settings;
pub mod shared;
pub mod signature;
pub mod source;
pub mod store;
pub mod transport;
