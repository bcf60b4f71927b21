//! The stateless half of a [`Client`](super::client::Client): configuration and seams, and
//! the grants the cache renews with (`grant::*` build -> `Transport::send` -> `token::*`
//! parse). The token sources and the client share one `Arc<Flows>`.

use crate::prelude::*;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::clock::Clock;
use crate::cache::policy::RefreshPolicy;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::grant;
use crate::http::{HttpRequest, Transport};
use crate::pkce::RandomSource;
use crate::provider::Provider;
use crate::secret::Secret;
use crate::token::{parse_token_response, SentAt, Token};

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
        let token = parse_token_response(&response, sent_at)?;
        token.check_required_claims(&self.config.required_claims)?;
        if let Some(hook) = &self.on_token {
            // The hook is the application's code: its panic must not break token renewal.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| hook(&token)));
        }
        Ok(token)
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
}
