//! The stateless half of a [`Client`](super::client::Client): configuration and seams, and
//! the grants the cache renews with (`grant::*` build -> `Transport::send` -> `token::*`
//! parse). The token sources and the client share one `Arc<Flows>`.

use crate::prelude::*;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use core::time::Duration;

use super::clock::Clock;
use super::keys::KeyCache;
use super::shared::StoreHook;
use super::store::Store;
use crate::cache::policy::RefreshPolicy;
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::grant;
use crate::http::{HttpRequest, Transport};
use crate::jws::Jws;
use crate::pkce::RandomSource;
use crate::provider::Provider;
use crate::secret::Secret;
use crate::token::{parse_token_response, SentAt, Token};
use crate::verify::{check_id_token, Expect, IdTokenExpect};

/// Called with every token the client obtains, e.g. to persist a rotated refresh token.
pub type TokenHook = Arc<dyn Fn(&Token) + Send + Sync>;

/// The stateless half of a client: configuration and seams, shared by its token sources.
pub(crate) struct Flows {
    pub provider: Provider,
    pub config: ClientConfig,
    pub transport: Arc<dyn Transport>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn RandomSource>,
    pub on_token: Option<TokenHook>,
    /// When the token sources start renewing.
    pub refresh_policy: RefreshPolicy,
    /// The provider's signing keys, fetched when a token is verified.
    pub keys: KeyCache,
    /// How far clocks may disagree when `exp` / `iat` are checked.
    pub leeway: Duration,
    /// The store shared with other processes, if any (`None`: this process's cache only).
    pub store: Option<Arc<dyn Store>>,
    /// Told of the shared store's failures and returns (`None`: standard error).
    pub store_hook: Option<StoreHook>,
}

impl Flows {
    pub(crate) fn sent_at(&self) -> SentAt {
        SentAt {
            monotonic: self.clock.now(),
            unix: self.clock.unix_time(),
        }
    }

    /// Sends a token request, parses the answer, enforces required claims, tells the hook.
    pub(crate) fn request_token(&self, request: HttpRequest) -> Result<Token> {
        let sent_at = self.sent_at();
        let response = self.transport.send(&request)?;
        let mut token = parse_token_response(&response, sent_at)?;
        token.check_required_claims(&self.config.required_claims)?;
        self.verify_id_token(&mut token)?;
        if let Some(hook) = &self.on_token {
            // The hook is the application's code: its panic must not break token renewal.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| hook(&token)));
        }
        Ok(token)
    }

    /// The token's claims if its signature verifies with the provider's keys; the claims
    /// themselves are the caller's to check ([`crate::verify`]).
    pub(crate) fn signed<'t>(&self, token: &'t str) -> Result<Jws<'t>> {
        self.keys.signed(
            token,
            self.provider.jwks_uri.as_deref(),
            self.transport.as_ref(),
            self.clock.as_ref(),
        )
    }

    /// What every verified token is compared with: the provider's issuer, now, the leeway.
    pub(crate) fn expect(&self) -> Result<Expect<'_>> {
        let issuer = self.provider.issuer.as_deref().ok_or_else(|| {
            Error::config("the provider's issuer is unknown, so its tokens cannot be verified; name the provider by discovery or by Keycloak base URL and realm, or set the expected issuer")
        })?;
        Ok(Expect {
            issuer,
            now: self.clock.unix_time(),
            leeway: self.leeway,
        })
    }

    /// OIDC Core §3.1.3.7, on by default for every answer that carries an ID token (a code
    /// exchange's `nonce` is checked on top by the login). The verified claims stay on the
    /// token.
    ///
    /// A provider that publishes no keys (a bare token URL that is not Keycloak's) cannot have
    /// its ID tokens verified: they are kept as the server sent them but never trusted, so
    /// [`Token::id_token_claims`] stays `None` (and no login runs without an authorization
    /// endpoint, which such a provider lacks too).
    fn verify_id_token(&self, token: &mut Token) -> Result<()> {
        let Some(id_token) = token.id_token() else {
            return Ok(());
        };
        if self.provider.jwks_uri.is_none() {
            return Ok(());
        }
        let jws = self.signed(id_token.expose())?;
        let id = IdTokenExpect {
            client_id: &self.config.client_id,
            nonce: None,
            max_age: None,
        };
        check_id_token(&jws.claims, &self.expect()?, &id)?;
        let claims = jws.claims;
        token.set_verified_id_token_claims(claims);
        Ok(())
    }

    pub(crate) fn client_credentials(&self, scopes: &[String]) -> Result<Token> {
        self.request_token(grant::client_credentials(
            &self.provider,
            &self.config,
            scopes,
        )?)
    }

    pub(crate) fn refresh(
        &self,
        refresh_token: &Secret,
        scopes: Option<&[String]>,
    ) -> Result<Token> {
        self.request_token(grant::refresh_token(
            &self.provider,
            &self.config,
            refresh_token,
            scopes,
        )?)
    }

    /// A token another process stored (the shared store) gets the same ID-token verification
    /// as one this process received: the record's bytes are trusted no more than the network's.
    pub(crate) fn verify_stored_id_token(&self, token: &mut Token) -> Result<()> {
        self.verify_id_token(token)
    }
}
