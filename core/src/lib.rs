//! tokenward: an OAuth 2.0 / OpenID Connect client for Keycloak and friends.
//!
//! Read top-down, a token request is:
//!
//! 1. [`Provider`] — where the endpoints are (Keycloak base + realm, a URL template, a token
//!    URL, or discovery) — and [`ClientConfig`] — who the client is.
//! 2. [`grant`] builds an [`HttpRequest`] (pure; [`authorize`] does the login URL and callback,
//!    [`session`] revocation, introspection and logout).
//! 3. A [`Transport`] sends it: [`UreqTransport`] natively, `fetch` in the browser.
//! 4. [`token::parse_token_response`] turns the [`HttpResponse`] into a [`Token`], or
//!    [`oauth_error`] into an [`Error`].
//! 5. [`TokenSource`] caches it and renews it by the right source ([`cache`] decides when).
//!
//! The folders are the layers, lowest first: [`protocol`] (sans-IO requests and answers),
//! [`cache`] (the renewal policy, sans-IO), `native` (the runtime: transport, clock, OS
//! randomness, threads). [`Client`] ties them together for native code:
//!
#![cfg_attr(feature = "blocking", doc = "```no_run")]
// Without `blocking` there is no Client: the example is shown, not compiled.
#![cfg_attr(not(feature = "blocking"), doc = "```ignore")]
//! use tokenward::{Client, ClientConfig, Provider};
//!
//! let provider = Provider::keycloak("https://sso.ecoinvent.org", "ecoinvent")?;
//! let config = ClientConfig::new("my-client").secret(std::env::var("ECOINVENT_SECRET").unwrap());
//! let client = Client::new(provider, config)?;
//! let token = client.token()?; // cached; renewed before it expires
//! let header = token.authorization_header(); // "Bearer ..."
//! # Ok::<(), tokenward::Error>(())
//! ```
//!
//! Without the default `blocking` feature the crate is the sans-IO protocol core only (no
//! threads, no sockets, no OS randomness, `no_std` + `alloc`) and builds for
//! `wasm32-unknown-unknown`. Its parsers read JSON through [`fields::Fields`], so a caller with
//! a JSON parser of its own (the browser's `JSON.parse`) needs no second one.

#![no_std]
// `unsafe` lives in two small modules that say why: `native::monotonic` (a libc clock read) and
// `native::store::os` (`flock`, `geteuid`).
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(any(feature = "blocking", test))]
extern crate std;

/// What the std prelude would bring: the crate is `no_std` (plus `alloc`) so that the browser
/// package links no std runtime; the `blocking` feature brings std back for the native parts.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

// The layers: `protocol` at the bottom, `cache` on it, `native` on both. No module imports
// from a layer above its own.
pub mod cache;
#[cfg(feature = "blocking")]
pub mod native;
pub mod protocol;

// The modules by their short names (`tokenward::grant`, `crate::token`), as every binding and
// the rest of the crate use them; the folders above are where they live.
pub use cache::policy;
#[cfg(feature = "blocking")]
pub use native::{assertion, client, clock, flows, random, settings, source, transport};
pub use protocol::{
    api, authorize, client_assertion, client_auth, config, device, error, exchange, fields, grant,
    http, jws, jwt, lifetime, oauth_error, params, pkce, provider, secret, session, text, token,
    uri, verify,
};

pub use api::{api_error, is_token_rejected};
pub use authorize::{AuthorizationRequest, LoginOptions, PendingLogin};
pub use client_assertion::{AssertionSigner, ClientSigner};
pub use config::{AuthMethod, ClientConfig};
pub use device::{DeviceAuthorization, DeviceOptions};
pub use error::{Error, ErrorCode, Result, TokenCheck};
pub use exchange::{ExchangeOptions, TokenType};
#[cfg(feature = "blocking")]
pub use http::{HttpOptions, Trust};
pub use http::{HttpRequest, HttpResponse, Method, Transport};
pub use jwt::Claims;
pub use params::{Params, Redirect};
pub use pkce::{Pkce, RandomSource};
pub use policy::RefreshPolicy;
pub use provider::Provider;
pub use secret::Secret;
pub use session::TokenKind;
pub use token::{SentAt, Token};

#[cfg(feature = "blocking")]
pub use assertion::PrivateKey;
#[cfg(feature = "blocking")]
pub use client::{AccessTokenRequirements, CacheKey, Client, ClientBuilder, Introspection};
#[cfg(feature = "blocking")]
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "blocking")]
pub use flows::TokenHook;
#[cfg(feature = "blocking")]
pub use random::OsRandom;
#[cfg(feature = "blocking")]
pub use source::TokenSource;
#[cfg(feature = "blocking")]
pub use transport::UreqTransport;

/// The README's Rust snippets, compiled by `cargo test --doc` so they cannot rot (they use
/// the native `Client`, so only with `blocking`).
#[cfg(all(doctest, feature = "blocking"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
