//! The protocol, sans-IO: what a request carries and what an answer means, as pure functions
//! of plain values. No clock, thread, socket or randomness of its own: those come in as
//! arguments ([`crate::pkce::RandomSource`], a `now`), so this layer runs the same natively, in
//! the browser and in tests.
//!
//! Read in this order: who and where ([`provider`], [`config`]), the requests ([`grant`],
//! [`session`], [`authorize`], with [`client_auth`] and [`pkce`]), the answers ([`token`],
//! [`lifetime`], [`oauth_error`], [`api`], [`jwt`], and verified: [`jws`], [`verify`]), and the pieces under them ([`http`],
//! [`error`], [`fields`], [`params`], [`secret`], [`text`], [`uri`]).

pub mod api;
pub mod authorize;
pub mod client_assertion;
pub mod client_auth;
pub mod config;
pub mod device;
pub mod error;
pub mod exchange;
pub mod fields;
pub mod grant;
pub mod http;
pub mod jws;
pub mod jwt;
pub mod lifetime;
pub mod oauth_error;
pub mod params;
pub mod pkce;
pub mod provider;
pub mod secret;
pub mod session;
pub mod text;
pub mod token;
pub mod uri;
pub mod verify;
