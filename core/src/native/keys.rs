//! The provider's signing keys for one client, fetched from its `jwks_uri` when
//! [`crate::cache::keys`] says so: on first need, when stale, and once (at most every 10 s)
//! for a token naming an unknown key. One fetch at a time however many threads meet a rotated
//! key; they all use its result.

use crate::prelude::*;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::clock::Clock;
use super::signature::RingSignatures;
use crate::cache::keys::{keys_ttl, should_fetch, KeysState};
use crate::error::{Error, Result, TokenCheck};
use crate::http::{HttpRequest, Method, Transport};
use crate::jws::{check_signature, unknown_key, Jws, KeySet};

#[derive(Default)]
struct Held {
    set: Arc<KeySet>,
    state: KeysState,
    /// Bumped by every fetch attempt: a thread that waited for the fetch lock sees whether
    /// another fetched meanwhile.
    attempts: u64,
    /// Successful fetches, for diagnostics and tests.
    fetches: u64,
    /// Why the last fetch failed while no set is held: what tokens are told until the next
    /// attempt may be made (not "unknown key", which would blame the token for the provider's
    /// trouble).
    failed: Option<Error>,
}

/// The key set of one provider, shared by a client's threads.
#[derive(Default)]
pub struct KeyCache {
    held: Mutex<Held>,
    /// Held while fetching: single flight.
    fetching: Mutex<()>,
}

impl KeyCache {
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> u64 {
        self.held().fetches
    }

    /// Takes `token` apart and checks its signature with the provider's keys from `jwks_uri`,
    /// fetching them as the policy says. The claims are not checked here (see
    /// [`crate::verify`]).
    pub fn signed<'t>(
        &self,
        token: &'t str,
        jwks_uri: Option<&str>,
        transport: &dyn Transport,
        clock: &dyn Clock,
    ) -> Result<Jws<'t>> {
        let jws = Jws::parse(token)?;
        let mut fetched = false;
        loop {
            let (set, state, attempts, failed) = {
                let h = self.held();
                (h.set.clone(), h.state, h.attempts, h.failed.clone())
            };
            let found = set.find(jws.kid.as_deref(), jws.alg).is_some();
            if !fetched && should_fetch(&state, clock.now(), found) {
                let Some(uri) = jwks_uri else {
                    return Err(Error::invalid_token(
                        TokenCheck::KeySet,
                        "the provider has no key set (`jwks_uri`) to check the token with; name the provider by discovery or by Keycloak base URL and realm",
                    ));
                };
                self.fetch(uri, attempts, transport, clock)?;
                fetched = true;
                continue;
            }
            if let (None, Some(e)) = (state.fetched_at, failed) {
                return Err(e);
            }
            return if check_signature(&jws, &set, &RingSignatures)? {
                Ok(jws)
            } else {
                Err(unknown_key(&jws))
            };
        }
    }

    /// Fetches the key set unless another thread did since `seen_attempts`. A failure keeps
    /// the keys held (if any) and is an error only when there are none: the transport's or
    /// the server's error as it came, or `invalid_token` for a set that cannot be used.
    fn fetch(
        &self,
        uri: &str,
        seen_attempts: u64,
        transport: &dyn Transport,
        clock: &dyn Clock,
    ) -> Result<()> {
        let _one_at_a_time = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
        if self.held().attempts != seen_attempts {
            return Ok(());
        }
        let now = clock.now();
        let result = get_key_set(uri, transport);
        let mut h = self.held();
        h.attempts += 1;
        h.state.last_attempt = Some(now);
        match result {
            Ok((set, ttl)) => {
                h.set = Arc::new(set);
                h.state.fetched_at = Some(now);
                h.state.ttl = ttl;
                h.fetches += 1;
                h.failed = None;
                Ok(())
            }
            Err(e) if h.state.fetched_at.is_none() => {
                h.failed = Some(e.clone());
                Err(e)
            }
            Err(_) => Ok(()),
        }
    }
}

/// How [`Error::response_too_large`], the transport's error for a body past its cap, begins.
const TOO_LARGE: &str = "the response is larger than the ";

/// One GET of the key set, parsed, with how long to keep it.
fn get_key_set(uri: &str, transport: &dyn Transport) -> Result<(KeySet, core::time::Duration)> {
    let request = HttpRequest {
        method: Method::Get,
        url: uri.to_string(),
        headers: vec![("Accept".into(), "application/json".into())],
        form: None,
    };
    // The network's and the server's trouble keep their own codes (a resource server answers
    // 503 for them, not 401): only a key set that arrives and is unusable is `invalid_token`.
    // A set past the transport's body cap did arrive, and is unusable like one past
    // `MAX_KEY_SET_BYTES`.
    let response = transport.send(&request).map_err(|e| match e {
        Error::Transport(m) => {
            Error::Transport(crate::text::text!("the provider's keys at ", uri, ": ", m))
        }
        Error::InvalidResponse(m) if m.starts_with(TOO_LARGE) => Error::invalid_token(
            TokenCheck::KeySet,
            crate::text::text!(
                "the provider's key set at ",
                uri,
                " is too large (",
                m,
                "; a key set is a few KB); check the jwks_uri"
            ),
        ),
        e => e,
    })?;
    if !response.is_success() {
        return Err(crate::oauth_error::error_from_response(&response));
    }
    let set = KeySet::parse(&response.body)?;
    Ok((set, keys_ttl(response.header("cache-control"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::native::clock::ManualClock;
    use std::sync::atomic::{AtomicU64, Ordering};

    type Answer = fn() -> Result<HttpResponse>;

    /// A transport that answers every GET with `answer` and counts them.
    struct Fixed(Answer, AtomicU64);

    impl Transport for Fixed {
        fn send(&self, _: &HttpRequest) -> Result<HttpResponse> {
            self.1.fetch_add(1, Ordering::SeqCst);
            (self.0)()
        }
    }

    const TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln";

    #[test]
    fn an_oversized_set_is_a_key_set_error_and_a_failed_fetch_is_not_blamed_on_the_token() {
        assert!(
            matches!(Error::response_too_large(1024), Error::InvalidResponse(m) if m.starts_with(TOO_LARGE)),
            "TOO_LARGE follows Error::response_too_large"
        );
        let clock = ManualClock::new(1_700_000_000);
        let cases: [(Answer, Option<TokenCheck>); 3] = [
            (
                || Err(Error::response_too_large(1 << 20)),
                Some(TokenCheck::KeySet),
            ),
            (|| Err(Error::Transport("connection refused".into())), None),
            (
                || Ok(HttpResponse::new(503, Vec::new(), b"down".to_vec())),
                None,
            ),
        ];
        for (answer, check) in cases {
            let transport = Fixed(answer, AtomicU64::new(0));
            let keys = KeyCache::default();
            let first = keys
                .signed(TOKEN, Some("http://127.0.0.1:1/keys"), &transport, &clock)
                .unwrap_err();
            assert_eq!(first.token_check(), check, "{first:?}");
            // Within the refetch interval: no second GET, and the same error, not `Key`.
            let again = keys
                .signed(TOKEN, Some("http://127.0.0.1:1/keys"), &transport, &clock)
                .unwrap_err();
            assert_eq!(again, first);
            assert_eq!(transport.1.load(Ordering::SeqCst), 1);
        }
    }
}
