//! The cache policy of DESIGN.md, driven by a manual clock and a scripted in-process transport
//! (the real-Keycloak versions of these scenarios are in `keycloak.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokenward::{
    Client, ClientBuilder, ClientConfig, Error, HttpRequest, HttpResponse, ManualClock, Provider,
    Result,
};

/// What the scripted token endpoint saw and how it answers.
struct Endpoint {
    requests: Mutex<Vec<HashMap<String, String>>>,
    issued: AtomicUsize,
    /// Answers for the next requests, in order; when empty, a fresh token.
    script: Mutex<Vec<Reply>>,
    delay: Mutex<Duration>,
    expires_in: u64,
    with_refresh_token: bool,
}

enum Reply {
    Status(u16, &'static str, Option<&'static str>),
    Block(Arc<Barrier>),
}

impl Endpoint {
    fn new(expires_in: u64, with_refresh_token: bool) -> Arc<Endpoint> {
        Arc::new(Endpoint {
            requests: Mutex::new(Vec::new()),
            issued: AtomicUsize::new(0),
            script: Mutex::new(Vec::new()),
            delay: Mutex::new(Duration::ZERO),
            expires_in,
            with_refresh_token,
        })
    }

    fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push(reply);
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The forms received so far, copied out so a test can index them without holding the lock.
    fn forms(&self) -> Vec<HashMap<String, String>> {
        self.requests.lock().unwrap().clone()
    }

    fn grant_types(&self) -> Vec<String> {
        self.forms()
            .iter()
            .map(|r| r["grant_type"].clone())
            .collect()
    }

    /// Answers the next request 400 with this `invalid_grant` body, as Keycloak refuses a
    /// refresh token it no longer honours.
    fn refuse_next_with_invalid_grant(&self, body: &'static str) {
        self.push(Reply::Status(400, body, None));
    }

    fn answer(&self, req: &HttpRequest) -> Result<HttpResponse> {
        let form: HashMap<String, String> =
            form_urlencoded::parse(req.body().unwrap().expose().as_bytes())
                .into_owned()
                .collect();
        self.requests.lock().unwrap().push(form);
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let next = {
            let mut s = self.script.lock().unwrap();
            if s.is_empty() {
                None
            } else {
                Some(s.remove(0))
            }
        };
        match next {
            Some(Reply::Status(status, body, retry_after)) => {
                let headers = retry_after
                    .map(|r| vec![("Retry-After".to_string(), r.to_string())])
                    .unwrap_or_default();
                return Ok(HttpResponse::new(status, headers, body.as_bytes().to_vec()));
            }
            Some(Reply::Block(b)) => {
                b.wait();
                b.wait();
            }
            None => {}
        }
        let n = self.issued.fetch_add(1, SeqCst) + 1;
        let rt = if self.with_refresh_token {
            format!(r#","refresh_token":"rt-{n}","refresh_expires_in":1800"#)
        } else {
            String::new()
        };
        let body = format!(
            r#"{{"access_token":"at-{n}","token_type":"Bearer","expires_in":{}{rt}}}"#,
            self.expires_in
        );
        Ok(HttpResponse::new(200, vec![], body.into_bytes()))
    }
}

/// Keycloak's `invalid_grant` for a refresh token that is no longer valid.
const TOKEN_NOT_ACTIVE: &str =
    r#"{"error":"invalid_grant","error_description":"Token is not active"}"#;
/// Keycloak's `invalid_grant` for a refresh token whose user session has ended.
const SESSION_NOT_ACTIVE: &str =
    r#"{"error":"invalid_grant","error_description":"Session not active"}"#;

/// One second past the endpoint's 300 s lifetime: the cached token has expired.
const PAST_EXPIRY: Duration = Duration::from_secs(301);

/// A scripted endpoint issuing 300 s access tokens only (as for client credentials) and a
/// manual clock at a fixed start, so every test counts seconds from the same place.
fn access_tokens_only() -> (Arc<Endpoint>, Arc<ManualClock>) {
    (
        Endpoint::new(300, false),
        Arc::new(ManualClock::new(1_700_000_000)),
    )
}

/// The same, with a refresh token (rotated on every answer) as a user's session has.
fn with_refresh_tokens() -> (Arc<Endpoint>, Arc<ManualClock>) {
    (
        Endpoint::new(300, true),
        Arc::new(ManualClock::new(1_700_000_000)),
    )
}

/// A client of the scripted endpoint on the manual clock, left open for extra settings (a hook).
fn builder(
    endpoint: &Arc<Endpoint>,
    clock: &Arc<ManualClock>,
    config: ClientConfig,
) -> ClientBuilder {
    let e = endpoint.clone();
    Client::builder(
        Provider::keycloak("https://sso.example.com", "r").unwrap(),
        config,
    )
    .transport(Arc::new(move |req: &HttpRequest| e.answer(req)))
    .clock(clock.clone())
}

fn client(endpoint: &Arc<Endpoint>, clock: &Arc<ManualClock>, config: ClientConfig) -> Client {
    builder(endpoint, clock, config).build().unwrap()
}

fn service_client(endpoint: &Arc<Endpoint>, clock: &Arc<ManualClock>) -> Client {
    client(endpoint, clock, ClientConfig::new("svc").secret("s3cret"))
}

/// A service client that has already fetched and cached `at-1`: where the tests about what
/// becomes of a cached token start.
fn service_client_holding_at_1(endpoint: &Arc<Endpoint>, clock: &Arc<ManualClock>) -> Client {
    let c = service_client(endpoint, clock);
    assert_eq!(served(&c), "at-1");
    c
}

/// The access token `token()` serves now, as text: what most assertions here compare.
fn served(c: &Client) -> String {
    c.token().unwrap().access_token().expose().to_string()
}

/// Puts a user's session in the cache as a login would (a refresh grant for `rt-0`).
fn log_in(c: &Client) {
    c.token_source()
        .set(c.refresh_token_grant(&"rt-0".into()).unwrap());
}

/// Runs `call` on `n` threads released together and returns what each got, so the callers
/// really race for one renewal.
fn on_threads<T: Send>(n: usize, call: impl Fn() -> T + Sync) -> Vec<T> {
    let start = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    call()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_fresh_token_is_served_from_the_cache() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let a = c.token().unwrap();
    clock.advance(Duration::from_secs(269));
    let b = c.token().unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(ep.count(), 1);
    assert_eq!(ep.grant_types(), ["client_credentials"]);
}

#[test]
fn a_300s_token_renews_in_the_background_at_270s_without_making_callers_wait() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let first = c.token().unwrap();
    let gate = Arc::new(Barrier::new(2));
    ep.push(Reply::Block(gate.clone()));
    clock.advance(Duration::from_secs(271));
    // The renewal is now stuck inside the endpoint; callers still get the valid token at once.
    for _ in 0..100 {
        assert_eq!(served(&c), "at-1");
    }
    gate.wait(); // the renewal has reached the endpoint
    assert_eq!(ep.count(), 2, "exactly one background renewal");
    assert_eq!(served(&c), "at-1");
    gate.wait(); // let it finish
    wait_until("the renewed token", || {
        c.token_source().peek().unwrap().access_token().expose() == "at-2"
    });
    assert!(!Arc::ptr_eq(&first, &c.token().unwrap()));
    assert_eq!(ep.count(), 2);
}

#[test]
fn sixteen_threads_after_expiry_make_one_request() {
    let (ep, clock) = access_tokens_only();
    let c = service_client_holding_at_1(&ep, &clock);
    *ep.delay.lock().unwrap() = Duration::from_millis(100);
    clock.advance(PAST_EXPIRY);
    let tokens = on_threads(16, || served(&c));
    assert!(tokens.iter().all(|t| t == "at-2"), "{tokens:?}");
    assert_eq!(ep.count(), 2);
}

#[test]
fn renewal_uses_the_refresh_token_and_keeps_the_rotated_one() {
    let (ep, clock) = with_refresh_tokens();
    let c = client(&ep, &clock, ClientConfig::new("spa"));
    let seeded = c.client_credentials_for(&[]).err();
    assert!(
        seeded.is_some(),
        "a public client has no client credentials"
    );
    // Seed as a login would, then expire.
    log_in(&c);
    clock.advance(PAST_EXPIRY);
    assert_eq!(served(&c), "at-2");
    let reqs = ep.forms();
    assert_eq!(reqs.last().unwrap()["grant_type"], "refresh_token");
    assert_eq!(
        reqs.last().unwrap()["refresh_token"],
        "rt-1",
        "the rotated refresh token is used"
    );
    assert_eq!(c.token().unwrap().refresh_token().unwrap().expose(), "rt-2");
}

#[test]
fn invalid_grant_on_refresh_falls_back_to_client_credentials() {
    let (ep, clock) = with_refresh_tokens();
    let c = service_client_holding_at_1(&ep, &clock);
    ep.refuse_next_with_invalid_grant(TOKEN_NOT_ACTIVE);
    clock.advance(PAST_EXPIRY);
    assert_eq!(served(&c), "at-2");
    assert_eq!(
        ep.grant_types(),
        ["client_credentials", "refresh_token", "client_credentials"]
    );
}

#[test]
fn a_users_session_never_turns_into_the_service_account() {
    // A confidential web client that also has service accounts enabled: the user's session
    // renews by its refresh token, and once that is refused it needs a new login. It must
    // not silently become the client's own (client-credentials) token.
    let (ep, clock) = with_refresh_tokens();
    let c = service_client(&ep, &clock);
    log_in(&c);
    ep.refuse_next_with_invalid_grant(SESSION_NOT_ACTIVE);
    clock.advance(PAST_EXPIRY);
    let e = c.token().unwrap_err();
    assert!(matches!(e, Error::LoginRequired(_)), "{e:?}");
    assert_eq!(ep.grant_types(), ["refresh_token", "refresh_token"]);
    // Revoking and clearing does not open that door either.
    c.token_source().clear();
    clock.advance(Duration::from_secs(11));
    assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
    assert_eq!(ep.grant_types(), ["refresh_token", "refresh_token"]);
}

#[test]
fn invalid_grant_without_a_secret_means_login_required() {
    let (ep, clock) = with_refresh_tokens();
    let c = client(&ep, &clock, ClientConfig::new("spa"));
    log_in(&c);
    ep.refuse_next_with_invalid_grant(SESSION_NOT_ACTIVE);
    clock.advance(PAST_EXPIRY);
    let e = c.token().unwrap_err();
    assert!(matches!(e, Error::LoginRequired(_)), "{e:?}");
    assert!(
        c.token_source().peek().unwrap().refresh_token().is_none(),
        "the refused refresh token is dropped"
    );
}

#[test]
fn no_token_and_no_secret_is_login_required() {
    let (ep, clock) = access_tokens_only();
    let c = client(&ep, &clock, ClientConfig::new("spa"));
    assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
    assert_eq!(ep.count(), 0);
}

#[test]
fn a_failed_renewal_keeps_the_valid_token_and_backs_off() {
    let (ep, clock) = access_tokens_only();
    let c = service_client_holding_at_1(&ep, &clock);
    ep.push(Reply::Status(500, "<h1>Internal Server Error</h1>", None));
    clock.advance(Duration::from_secs(280));
    assert_eq!(served(&c), "at-1");
    wait_until("the failed background renewal", || ep.count() == 2);
    // Still valid: still served, and no new attempt during the back-off.
    for _ in 0..50 {
        assert_eq!(served(&c), "at-1");
    }
    thread::sleep(Duration::from_millis(20));
    assert_eq!(ep.count(), 2);
    // After the back-off the next caller tries again, and succeeds.
    clock.advance(Duration::from_secs(1));
    wait_until("the retried renewal", || served(&c) == "at-2");
    assert_eq!(ep.count(), 3);
}

#[test]
fn after_expiry_a_failure_is_typed_and_retry_after_is_honoured() {
    let (ep, clock) = access_tokens_only();
    let c = service_client_holding_at_1(&ep, &clock);
    ep.push(Reply::Status(503, "busy", Some("30")));
    clock.advance(PAST_EXPIRY);
    let e = c.token().unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    // Within Retry-After the cached error comes back without a request.
    clock.advance(Duration::from_secs(29));
    assert!(matches!(c.token(), Err(Error::Http { status: 503, .. })));
    assert_eq!(ep.count(), 2);
    clock.advance(Duration::from_secs(2));
    assert_eq!(served(&c), "at-2");
}

#[test]
fn a_rejected_token_is_renewed_once_for_many_callers() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let rejected = c.token().unwrap();
    *ep.delay.lock().unwrap() = Duration::from_millis(50);
    let renewed = on_threads(8, || {
        c.token_source().renew_after_rejection(&rejected).unwrap()
    });
    for t in renewed {
        assert_eq!(t.access_token().expose(), "at-2");
    }
    assert_eq!(ep.count(), 2);
}

#[test]
fn a_rejected_copy_of_the_access_token_is_renewed_once() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let rejected = served(&c);
    *ep.delay.lock().unwrap() = Duration::from_millis(50);
    let renewed = on_threads(8, || {
        c.token_source()
            .renew_after_rejected_access_token(&rejected)
            .unwrap()
    });
    for t in renewed {
        assert_eq!(t.access_token().expose(), "at-2");
    }
    assert_eq!(ep.count(), 2, "eight rejections of one token, one renewal");
    // A late rejection of the old token: the cache already moved on, no request.
    let late = c
        .token_source()
        .renew_after_rejected_access_token(&rejected);
    assert_eq!(late.unwrap().access_token().expose(), "at-2");
    assert_eq!(ep.count(), 2);
    // The current token rejected: renewed.
    let again = c.token_source().renew_after_rejected_access_token("at-2");
    assert_eq!(again.unwrap().access_token().expose(), "at-3");
}

#[test]
fn the_hook_sees_every_new_token_and_a_panicking_hook_is_harmless() {
    let (ep, clock) = with_refresh_tokens();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let c = builder(&ep, &clock, ClientConfig::new("svc").secret("x"))
        .on_token(move |t| {
            s.lock()
                .unwrap()
                .push(t.refresh_token().unwrap().expose().to_string());
            panic!("the application's hook is broken");
        })
        .build()
        .unwrap();
    c.token().unwrap();
    clock.advance(PAST_EXPIRY);
    c.token().unwrap();
    assert_eq!(*seen.lock().unwrap(), ["rt-1", "rt-2"]);
}

#[test]
fn a_required_claim_fails_fast() {
    let (ep, clock) = access_tokens_only();
    let c = client(
        &ep,
        &clock,
        ClientConfig::new("svc").secret("x").require_claim("tenant"),
    );
    assert_eq!(c.token().unwrap_err(), Error::MissingClaim("tenant".into()));
}

#[test]
fn scopes_get_their_own_cache_entry() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let invoicing = c.token_source_for(&["invoicing".into()]);
    let again = c.token_source_for(&["invoicing".into()]);
    invoicing.token().unwrap();
    again.token().unwrap();
    c.token().unwrap();
    let reqs = ep.forms();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["scope"], "invoicing");
    assert!(!reqs[1].contains_key("scope"));
}

#[test]
fn secrets_never_reach_debug_output_or_errors() {
    let (ep, clock) = with_refresh_tokens();
    let c = service_client(&ep, &clock);
    let t = c.token().unwrap();
    ep.push(Reply::Status(401, r#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#, None));
    let e = c.client_credentials().unwrap_err();
    let outputs = [
        format!("{c:?}"),
        format!("{t:?}"),
        format!("{e:?}"),
        e.to_string(),
    ];
    for out in &outputs {
        for secret in ["s3cret", "at-1", "rt-1"] {
            assert!(!out.contains(secret), "{secret} leaked into {out}");
        }
    }
    assert!(outputs[3].contains("Invalid client or Invalid client credentials"));
}

#[test]
fn with_token_borrows_the_cached_token_and_renews_like_token() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let borrowed = |c: &Client| {
        c.with_token(|t| t.access_token().expose().to_string())
            .unwrap()
    };
    let len = c.with_token(|t| t.access_token().expose().len()).unwrap();
    assert_eq!(len, "at-1".len());
    assert_eq!(borrowed(&c), "at-1");
    assert_eq!(ep.count(), 1);
    clock.advance(PAST_EXPIRY);
    assert_eq!(borrowed(&c), "at-2");
    assert_eq!(ep.count(), 2);
}

#[test]
fn resume_caches_the_session_and_keeps_an_unrotated_refresh_token() {
    let (ep, clock) = access_tokens_only();
    let c = client(&ep, &clock, ClientConfig::new("spa"));
    let t = c.resume(&"stored-rt".into()).unwrap();
    assert_eq!(
        t.refresh_token().unwrap().expose(),
        "stored-rt",
        "the server did not rotate it"
    );
    assert!(Arc::ptr_eq(&t, &c.token().unwrap()));
    clock.advance(PAST_EXPIRY);
    c.token().unwrap();
    assert_eq!(ep.forms()[1]["refresh_token"], "stored-rt");
}

#[test]
fn a_login_after_failed_attempts_is_not_held_back_by_their_backoff() {
    let (ep, clock) = with_refresh_tokens();
    // A public client asked for a token before anyone logged in: login_required, and the
    // renewal backoff starts (the clock does not move in this test).
    let c = client(&ep, &clock, ClientConfig::new("spa"));
    for _ in 0..3 {
        assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
    }
    // The user logs in (a code exchange, here a stored refresh token): a new session.
    let t = c.resume(&"stored-rt".into()).unwrap();
    assert!(Arc::ptr_eq(&t, &c.token().unwrap()));
    // An explicit refresh right away goes to the server, not to the old session's error.
    let r = c.refresh().expect("the new session refreshes");
    assert_ne!(r.access_token(), t.access_token());
    assert_eq!(ep.grant_types(), ["refresh_token", "refresh_token"]);
}

#[test]
fn with_token_view_reports_how_long_it_stays_fresh_and_zero_once_due() {
    let (ep, clock) = access_tokens_only();
    let c = service_client(&ep, &clock);
    let fresh_for = c.with_token_view(|_, fresh_for, _| fresh_for).unwrap();
    assert_eq!(
        fresh_for,
        Duration::from_secs(270),
        "a 300 s token is fresh for 270 s"
    );
    clock.advance(Duration::from_secs(100));
    let fresh_for = c.with_token_view(|_, fresh_for, _| fresh_for).unwrap();
    assert_eq!(fresh_for, Duration::from_secs(170), "counted from now");
    clock.advance(Duration::from_secs(171));
    let (token, fresh_for) = c
        .with_token_view(|t, fresh_for, _| (t.access_token().expose().to_string(), fresh_for))
        .unwrap();
    assert_eq!(token, "at-1", "still valid: served at once");
    assert_eq!(fresh_for, Duration::ZERO, "but due: no caller may keep it");
}

#[test]
fn every_change_of_the_session_bumps_the_generation() {
    let (ep, clock) = with_refresh_tokens();
    let c = service_client(&ep, &clock);
    let view = |c: &Client| {
        c.with_token_view(|t, _, g| (t.access_token().expose().to_string(), g))
            .unwrap()
    };
    let g0 = c.generation();
    let (t1, g1) = view(&c);
    assert!(g1 > g0, "a renewal landing is a change");
    assert_eq!(view(&c), (t1.clone(), g1), "serving a fresh token is not");
    assert_eq!(c.generation(), g1);

    let t2 = c.refresh().unwrap();
    let g2 = c.generation();
    assert!(g2 > g1, "renew_now");
    assert_eq!(view(&c), (t2.access_token().expose().to_string(), g2));

    let t3 = c
        .token_source()
        .renew_after_rejected_access_token(t2.access_token().expose())
        .unwrap();
    let g3 = c.generation();
    assert!(g3 > g2, "renew_after_rejection");
    assert_eq!(view(&c), (t3.access_token().expose().to_string(), g3));
    // A refusal of a token already replaced changes nothing.
    c.token_source()
        .renew_after_rejected_access_token(t2.access_token().expose())
        .unwrap();
    assert_eq!(c.generation(), g3);

    c.token_source().clear();
    let g4 = c.generation();
    assert!(g4 > g3, "clear");
    log_in(&c);
    let g5 = c.generation();
    assert!(g5 > g4, "set (a login)");
    assert_eq!(view(&c).1, g5);
}

#[test]
fn a_renewal_still_running_at_logout_does_not_put_its_token_back() {
    let (ep, clock) = with_refresh_tokens();
    let c = Arc::new(client(&ep, &clock, ClientConfig::new("spa")));
    log_in(&c);
    let gate = Arc::new(Barrier::new(2));
    ep.push(Reply::Block(gate.clone()));
    let renewing = {
        let c = c.clone();
        thread::spawn(move || c.refresh())
    };
    gate.wait(); // the refresh has reached the endpoint
    c.token_source().clear(); // the user logs out meanwhile
    gate.wait(); // the refresh answers
    let renewed = renewing.join().unwrap().unwrap();
    assert_eq!(
        renewed.access_token().expose(),
        "at-2",
        "its caller gets it"
    );
    assert!(
        c.token_source().peek().is_none(),
        "but the cache stays empty after the logout"
    );
    assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
}
