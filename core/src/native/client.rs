//! [`Client`]: one registered OAuth client at one provider, with its transport, clock and
//! token caches. Each method is `grant::*` / `session::*` (build) -> `Transport::send` ->
//! `token::*` / `oauth_error::*` (parse).

use crate::prelude::*;

use core::time::Duration;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::clock::{Clock, SystemClock};
use super::flows::{Flows, TokenHook};
use super::keys::KeyCache;
use super::random::OsRandom;
use super::shared::StoreHook;
use super::source::TokenSource;
use super::store::{self, Store};
use super::transport::UreqTransport;
use crate::authorize::{self, AuthorizationRequest, LoginOptions, PendingLogin};
use crate::cache::policy::RefreshPolicy;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::grant;
use crate::http::{HttpOptions, HttpRequest, Method, Transport};
use crate::jwt::Claims;
use crate::oauth_error::{error_from_response, json_object};
use crate::pkce::RandomSource;
use crate::provider::Provider;
use crate::secret::Secret;
use crate::session::{self, TokenKind};
use crate::token::Token;
use crate::verify::{check_access_token, AccessTokenExpect, DEFAULT_LEEWAY};

/// What tokens are cached by: tokens for one key are never handed out for another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub issuer: String,
    pub client_id: String,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
}

/// The key a token source for `scopes` is cached under.
fn cache_key(flows: &Flows, scopes: &[String]) -> CacheKey {
    CacheKey {
        issuer: flows
            .provider
            .issuer
            .clone()
            .unwrap_or_else(|| flows.provider.token_endpoint.clone()),
        client_id: flows.config.client_id.clone(),
        scopes: scopes.iter().cloned().collect(),
        audience: flows.config.audience.clone(),
    }
}

/// The result of token introspection (RFC 7662).
#[derive(Debug, Clone)]
pub struct Introspection {
    pub active: bool,
    /// Everything the server said about the token (`exp`, `scope`, `client_id`, `username`, ...).
    pub claims: Claims,
}

/// An OAuth client for one provider. Cheap to share (`Arc` it); every method is thread-safe.
pub struct Client {
    flows: Arc<Flows>,
    default_source: TokenSource,
    sources: Mutex<HashMap<CacheKey, TokenSource>>,
    /// Exchanged tokens (native/exchange.rs).
    exchanges: super::exchange::ExchangeCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.flows.provider)
            .field("config", &self.flows.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; the defaults are the blocking ureq transport, the system clock and the
/// OS random generator.
pub struct ClientBuilder {
    provider: ProviderSource,
    config: ClientConfig,
    http: HttpOptions,
    transport: Option<Arc<dyn Transport>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    on_token: Option<TokenHook>,
    refresh_policy: RefreshPolicy,
    issuer: Option<String>,
    leeway: Duration,
    store: StoreChoice,
    store_hook: Option<StoreHook>,
}

/// The shared store a builder was given.
enum StoreChoice {
    Url(String),
    Value(Option<Arc<dyn Store>>),
}

enum ProviderSource {
    Known(Provider),
    Discover(String),
}

impl ClientBuilder {
    /// Transport settings: timeouts, trust store / CA file, proxy, size cap.
    pub fn http_options(mut self, options: HttpOptions) -> Self {
        self.http = options;
        self
    }

    /// Sends requests through your own transport instead of ureq.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn random_source(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// Sees every new token, to persist a rotated refresh token. Runs on the thread that
    /// obtained it; keep it short. A panic in it is caught and ignored.
    pub fn on_token(mut self, hook: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.on_token = Some(Arc::new(hook));
        self
    }

    /// Shares the token cache with other processes and machines through the store this URL
    /// names ([`store::open`]): `memory` (the default: this process only), `file:///dir` (one
    /// machine), `redis://[:password@]host[:port][/db]` or `rediss://...` (many; the `redis`
    /// feature). A renewal then takes the store's lock, adopts what another process renewed
    /// meanwhile, and writes what it renews; a login is written too. A bad URL fails `build()`.
    /// The store holds bearer tokens and refresh tokens: protect it like them.
    pub fn store(mut self, url: impl Into<String>) -> Self {
        self.store = StoreChoice::Url(url.into());
        self
    }

    /// Shares the token cache through a [`Store`] of your own (or a [`store::MemoryStore`]
    /// shared by several clients of one process).
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = StoreChoice::Value(Some(store));
        self
    }

    /// Told when the shared store fails (once, until it works again), when it is back, and
    /// when a record in it is ignored as corrupt; the cache carries on with its own tokens
    /// meanwhile. Without a hook, each is one `tokenward: ...` line on standard error.
    pub fn on_store_event(mut self, hook: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.store_hook = Some(Arc::new(hook));
        self
    }

    /// When the cache starts renewing a token (default: when less than min(10 % of its
    /// lifetime, 60 s) is left).
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh_policy = policy;
        self
    }

    /// Renew a fixed time before expiry (at most half the lifetime).
    pub fn refresh_margin(self, margin: Duration) -> Self {
        self.refresh_policy(RefreshPolicy::fixed(margin))
    }

    /// The issuer tokens must carry, when it differs from the URL the client reaches the
    /// provider by: Keycloak behind an internal URL (a backchannel) whose tokens name its
    /// public `hostname`. Discovery then expects this issuer in the document, and ID tokens,
    /// access tokens and callbacks are checked against it.
    pub fn expected_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into().trim_end_matches('/').to_string());
        self
    }

    /// How far clocks may disagree when a token's `exp` and `iat` are checked (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    pub fn build(mut self) -> Result<Client> {
        // client_secret_jwt's HS256 signer (native/assertion.rs).
        super::assertion::complete_config(&mut self.config);
        self.config.validate()?;
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => Arc::new(UreqTransport::new(self.http)?),
        };
        let mut provider = match self.provider {
            ProviderSource::Known(p) => p,
            ProviderSource::Discover(url) => {
                discover_at(transport.as_ref(), &url, self.issuer.as_deref())?
            }
        };
        if let Some(issuer) = self.issuer {
            provider.issuer = Some(issuer);
        }
        let store = match self.store {
            StoreChoice::Url(url) => store::open(&url)?,
            StoreChoice::Value(store) => store,
        };
        let flows = Arc::new(Flows {
            provider,
            config: self.config,
            transport,
            clock: self.clock,
            rng: self.rng,
            on_token: self.on_token,
            refresh_policy: self.refresh_policy,
            keys: KeyCache::default(),
            leeway: self.leeway,
            store,
            store_hook: self.store_hook,
        });
        let default_scopes = flows.config.scopes.clone();
        let default_source = TokenSource::new(flows.clone(), default_scopes.clone());
        let mut sources = HashMap::new();
        sources.insert(cache_key(&flows, &default_scopes), default_source.clone());
        Ok(Client {
            flows,
            default_source,
            sources: Mutex::new(sources),
            exchanges: Default::default(),
        })
    }
}

/// Fetches and checks the discovery document of `issuer`.
pub fn discover(transport: &dyn Transport, issuer: &str) -> Result<Provider> {
    discover_at(transport, issuer, None)
}

/// Fetches the discovery document under `url` and checks that it names `issuer` (by default
/// `url` itself).
fn discover_at(transport: &dyn Transport, url: &str, issuer: Option<&str>) -> Result<Provider> {
    let request = HttpRequest {
        method: Method::Get,
        url: Provider::discovery_url(url)?,
        headers: vec![("Accept".into(), "application/json".into())],
        form: None,
    };
    let response = transport.send(&request)?;
    if !response.is_success() {
        return Err(error_from_response(&response));
    }
    Provider::from_discovery(issuer.unwrap_or(url), &response.body)
}

impl Client {
    /// A client with the default transport, clock and RNG.
    pub fn new(provider: Provider, config: ClientConfig) -> Result<Client> {
        Client::builder(provider, config).build()
    }

    pub fn builder(provider: Provider, config: ClientConfig) -> ClientBuilder {
        ClientBuilder::with_source(ProviderSource::Known(provider), config)
    }

    /// A builder whose provider comes from OIDC discovery at `build()`.
    pub fn discover(issuer: &str, config: ClientConfig) -> ClientBuilder {
        ClientBuilder::with_source(ProviderSource::Discover(issuer.to_string()), config)
    }

    pub fn provider(&self) -> &Provider {
        &self.flows.provider
    }

    /// For the grants that live in their own files (native/device.rs, native/exchange.rs).
    pub(crate) fn flows(&self) -> &Arc<Flows> {
        &self.flows
    }

    pub(crate) fn exchanges(&self) -> &super::exchange::ExchangeCache {
        &self.exchanges
    }

    pub fn config(&self) -> &ClientConfig {
        &self.flows.config
    }

    /// A valid access token for the configured scopes, from the cache when possible.
    pub fn token(&self) -> Result<Arc<Token>> {
        self.default_source.token()
    }

    /// Runs `f` on a valid token without an `Arc` round trip (see [`TokenSource::with_token`]).
    pub fn with_token<R>(&self, f: impl FnOnce(&Token) -> R) -> Result<R> {
        self.default_source.with_token(f)
    }

    /// Runs `f` on a valid token, how long it stays fresh from now and its generation (see
    /// [`TokenSource::with_token_view`]).
    pub fn with_token_view<R>(&self, f: impl FnOnce(&Token, Duration, u64) -> R) -> Result<R> {
        self.default_source.with_token_view(f)
    }

    /// The generation of the cache for the configured scopes (see
    /// [`TokenSource::generation`]).
    pub fn generation(&self) -> u64 {
        self.default_source.generation()
    }

    /// `Bearer <token>` for the `Authorization` header, from [`Client::token`].
    pub fn authorization_header(&self) -> Result<Secret> {
        Ok(self.token()?.authorization_header())
    }

    /// The cache for the configured scopes.
    pub fn token_source(&self) -> &TokenSource {
        &self.default_source
    }

    /// The cache for other scopes (one per distinct scope set, shared by all callers).
    pub fn token_source_for(&self, scopes: &[String]) -> TokenSource {
        let key = cache_key(&self.flows, scopes);
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        sources
            .entry(key)
            .or_insert_with(|| TokenSource::new(self.flows.clone(), scopes.to_vec()))
            .clone()
    }

    /// A new client-credentials token for the configured scopes, bypassing the cache.
    pub fn client_credentials(&self) -> Result<Token> {
        self.flows.client_credentials(&self.flows.config.scopes)
    }

    /// A new client-credentials token for these scopes, bypassing the cache.
    pub fn client_credentials_for(&self, scopes: &[String]) -> Result<Token> {
        self.flows.client_credentials(scopes)
    }

    /// Starts an authorization-code login: the URL to open and the state to keep.
    pub fn authorization_request(&self, options: &LoginOptions) -> Result<AuthorizationRequest> {
        authorize::authorization_request(
            &self.flows.provider,
            &self.flows.config,
            options,
            self.flows.rng.as_ref(),
        )
    }

    /// Finishes a login: checks the callback (`state`, `iss`, `error`), exchanges the code with
    /// the PKCE verifier, checks the ID token's `nonce`, and caches the tokens so
    /// [`Client::token`] renews them with the refresh token from now on.
    ///
    /// A pending login is spent by its first callback, whatever the outcome: it is taken by
    /// value, so a forged or failed callback cannot be followed by another try with the same
    /// `state` and verifier. After a failure, start a new login.
    pub fn exchange_code(&self, pending: PendingLogin, callback_url: &str) -> Result<Arc<Token>> {
        let pending = &pending;
        let code = authorize::parse_callback(pending, callback_url)?;
        let request = grant::authorization_code(
            &self.flows.provider,
            &self.flows.config,
            code.code.expose(),
            &pending.redirect_uri,
            pending.pkce.verifier(),
        )?;
        let token = self.flows.request_token(request)?;
        authorize::check_id_token_nonce(pending, &token)?;
        Ok(self.default_source.set(token))
    }

    /// Renews the cached token now (refresh token, else client credentials).
    pub fn refresh(&self) -> Result<Arc<Token>> {
        self.default_source.renew_now()
    }

    /// Picks up a session from a stored refresh token (e.g. one the `on_token` hook saved):
    /// refreshes it and caches the result, keeping the stored refresh token when the server
    /// does not rotate it.
    pub fn resume(&self, refresh_token: &Secret) -> Result<Arc<Token>> {
        let mut token = self.flows.refresh(refresh_token, None)?;
        token.keep_refresh_token(refresh_token);
        Ok(self.default_source.set(token))
    }

    /// A raw refresh-token grant, outside the cache (for refresh tokens stored elsewhere).
    pub fn refresh_token_grant(&self, refresh_token: &Secret) -> Result<Token> {
        self.flows.refresh(refresh_token, None)
    }

    /// Revokes a token (RFC 7009): `kind` says whether `token` is an access or a refresh token.
    /// An unknown or already invalid token is not an error. Revoking the cached token or its
    /// refresh token also empties the cache.
    pub fn revoke(&self, token: &Secret, kind: TokenKind) -> Result<()> {
        let request = session::revocation(&self.flows.provider, &self.flows.config, token, kind)?;
        let response = self.flows.transport.send(&request)?;
        if !response.is_success() {
            return Err(error_from_response(&response));
        }
        if let Some(cached) = self.default_source.peek() {
            let same = |s: Option<&Secret>| s.is_some_and(|s| s == token);
            if same(Some(cached.access_token())) || same(cached.refresh_token()) {
                self.default_source.clear();
            }
        }
        Ok(())
    }

    /// Asks the server about a token (RFC 7662; Keycloak: confidential clients only).
    pub fn introspect(&self, token: &Secret, kind: TokenKind) -> Result<Introspection> {
        let request =
            session::introspection(&self.flows.provider, &self.flows.config, token, kind)?;
        let response = self.flows.transport.send(&request)?;
        if !response.is_success() {
            return Err(error_from_response(&response));
        }
        let map = json_object(&response.body, "introspection response")?;
        let active = map.get("active").and_then(Value::as_bool).unwrap_or(false);
        Ok(Introspection {
            active,
            claims: Claims(map),
        })
    }

    /// The logout URL for the cached session, with its ID token as `id_token_hint`.
    pub fn logout_url(&self, post_logout_redirect_uri: Option<&str>) -> Result<String> {
        let cached = self.default_source.peek();
        let hint = cached.as_ref().and_then(|t| t.id_token());
        session::end_session_redirect(
            &self.flows.provider,
            &self.flows.config,
            hint,
            post_logout_redirect_uri,
            None,
        )
        .map(|r| r.url())
    }
}

/// What [`Client::verify_access_token`] requires of a token beyond a valid signature, the
/// provider's issuer and its lifetime.
#[derive(Debug, Clone, Default)]
pub struct AccessTokenRequirements {
    /// An audience `aud` must contain (this API's client id); `None` accepts any.
    pub audience: Option<String>,
    /// Claims that must be present and not empty (Docbyte's `tenant`).
    pub claims: Vec<String>,
    /// Keycloak roles that must be granted (realm roles, or any client's roles).
    pub roles: Vec<String>,
}

/// Verification: for resource servers in front of the provider, and the logged-in user.
impl Client {
    /// Verifies an access token a caller presented (an API's `Authorization: Bearer`): its
    /// signature against the provider's keys (fetched and cached, refetched once for an unknown
    /// key), `iss`, `exp` / `iat` within the leeway, that it is an access token (Keycloak's
    /// `typ: Bearer`, or RFC 9068 `at+jwt`), and `requirements`. Returns its verified claims.
    pub fn verify_access_token(
        &self,
        token: &str,
        requirements: &AccessTokenRequirements,
    ) -> Result<Claims> {
        let jws = self.flows.signed(token)?;
        let expect = AccessTokenExpect {
            audience: requirements.audience.as_deref(),
            required_claims: &requirements.claims,
            required_roles: &requirements.roles,
        };
        check_access_token(
            jws.typ.as_deref(),
            &jws.claims,
            &self.flows.expect()?,
            &expect,
        )?;
        Ok(jws.claims)
    }

    /// The logged-in user's claims from the provider's userinfo endpoint, asked with the
    /// cached access token (renewed first if due).
    pub fn userinfo(&self) -> Result<Claims> {
        let token = self.token()?;
        let sub = token.id_token_claims().and_then(Claims::subject);
        self.userinfo_of(token.access_token(), sub)
    }

    /// The claims the userinfo endpoint gives for `access_token` (a user's token obtained
    /// elsewhere, e.g. by `tokenward login`); `sub`, when known from a verified ID token,
    /// must match the answer's.
    pub fn userinfo_of(&self, access_token: &Secret, sub: Option<&str>) -> Result<Claims> {
        let request = session::userinfo(&self.flows.provider, access_token)?;
        let response = self.flows.transport.send(&request)?;
        if !response.is_success() {
            return Err(crate::api::api_error(&response));
        }
        session::userinfo_claims(&response.body, sub)
    }

    /// How many times the provider's key set was fetched (diagnostics: a flood of tokens
    /// with unknown keys must not raise it by more than one per 10 s).
    pub fn key_set_fetches(&self) -> u64 {
        self.flows.keys.fetches()
    }
}

impl ClientBuilder {
    fn with_source(provider: ProviderSource, config: ClientConfig) -> ClientBuilder {
        ClientBuilder {
            provider,
            config,
            http: HttpOptions::default(),
            transport: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRandom),
            on_token: None,
            refresh_policy: RefreshPolicy::default(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            store: StoreChoice::Value(None),
            store_hook: None,
        }
    }
}
