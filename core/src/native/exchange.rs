//! Token exchange's runtime half: [`Client::exchange_token`] caches the exchanged tokens per
//! (subject token, audience, scope, requested type) and exchanges again when one is due, as
//! long as the subject token is still valid. Keys hold a SHA-256 of the subject token, never
//! the token.

use crate::prelude::*;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::client::Client;
use crate::config::split_scope;
use crate::error::{Error, Result};
use crate::exchange::{token_exchange, ExchangeOptions, TokenType};
use crate::jwt::Claims;
use crate::secret::Secret;
use crate::token::Token;

/// What an exchanged token is cached by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeKey {
    /// SHA-256 of the subject token.
    pub subject: [u8; 32],
    pub audience: Vec<String>,
    pub scopes: BTreeSet<String>,
    pub requested: TokenType,
}

/// The exchanged tokens of one client. Each key's slot is locked while it is renewed: one
/// exchange per key at a time.
#[derive(Default)]
pub(crate) struct ExchangeCache {
    slots: Mutex<HashMap<ExchangeKey, Slot>>,
}

/// One key's exchanged token, locked while it is renewed.
type Slot = Arc<Mutex<Option<Arc<Token>>>>;

/// Keys kept before the cache drops the entries whose tokens have expired.
const PRUNE_AT: usize = 256;

impl Client {
    /// Exchanges `subject_token` (a user's access token naming this client in its audience) for
    /// a token for `audience` and/or `scope` (space-separated), RFC 8693 / Keycloak standard
    /// token exchange. Cached: the same subject, audience, scope and type get the cached token
    /// while it is fresh, and a new exchange when it is due, while the subject token is valid.
    pub fn exchange_token(
        &self,
        subject_token: &Secret,
        audience: Option<&str>,
        scope: Option<&str>,
        requested_token_type: TokenType,
    ) -> Result<Arc<Token>> {
        let options = ExchangeOptions {
            audience: audience.map(split_scope).unwrap_or_default(),
            scopes: scope.map(split_scope).unwrap_or_default(),
            requested_token_type,
        };
        self.exchange(subject_token, &options)
    }

    /// [`Client::exchange_token`] with the options as a struct.
    pub fn exchange(
        &self,
        subject_token: &Secret,
        options: &ExchangeOptions,
    ) -> Result<Arc<Token>> {
        let key = ExchangeKey {
            subject: Sha256::digest(subject_token.expose().as_bytes()).into(),
            audience: options.audience.clone(),
            scopes: options.scopes.iter().cloned().collect(),
            requested: options.requested_token_type,
        };
        let slot = {
            let mut slots = self
                .exchanges()
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slots.len() >= PRUNE_AT {
                let now = self.flows().clock.now();
                slots.retain(|_, s| {
                    s.try_lock()
                        .map(|t| {
                            t.as_ref()
                                .is_some_and(|t| t.expires_at().is_some_and(|at| at > now))
                        })
                        .unwrap_or(true)
                });
            }
            slots.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = cached.as_ref() {
            if self.fresh(token) {
                return Ok(token.clone());
            }
        }
        self.check_subject_alive(subject_token)?;
        let token = Arc::new(self.exchange_uncached(subject_token, options)?);
        *cached = Some(token.clone());
        Ok(token)
    }

    /// One token exchange, outside the cache.
    pub fn exchange_uncached(
        &self,
        subject_token: &Secret,
        options: &ExchangeOptions,
    ) -> Result<Token> {
        let flows = self.flows();
        let request = token_exchange(
            &flows.provider,
            &flows.config,
            subject_token,
            TokenType::AccessToken,
            options,
        )?;
        flows.request_token(request)
    }

    /// Fresh: not yet within the refresh margin of its expiry (the client's refresh policy).
    fn fresh(&self, token: &Token) -> bool {
        let flows = self.flows();
        match (token.expires_at(), token.lifetime()) {
            (Some(at), Some(lifetime)) => {
                let margin = flows.refresh_policy.margin(lifetime);
                flows.clock.now() + margin < at
            }
            _ => false,
        }
    }

    /// A subject token that is a JWT past its `exp` cannot be exchanged again: say so rather
    /// than ask the server.
    fn check_subject_alive(&self, subject_token: &Secret) -> Result<()> {
        let exp = Claims::decode_unverified(subject_token.expose())
            .ok()
            .and_then(|c| c.exp());
        match exp {
            Some(exp) if exp <= self.flows().clock.unix_time() => Err(Error::LoginRequired(
                "the subject token has expired, so the exchanged token cannot be renewed; exchange a fresh subject token".into(),
            )),
            _ => Ok(()),
        }
    }
}
