//! The device, token exchange and signed-JWT client authentication grants against
//! `tests/faults/server.py`'s scripted routes: what Keycloak will not do on demand (a stream of
//! `slow_down`, an expired device code, a device endpoint answering HTML, a refused exchange, a
//! rejected assertion). The good paths run against the real Keycloak in `keycloak.rs`.

mod scripted;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use scripted::ScriptedServer;
use tokenward::{
    AuthMethod, Client, ClientConfig, DeviceOptions, Error, PrivateKey, Provider, TokenType,
};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/keycloak/keys/");

/// A public device client whose device and token endpoints are the script's.
fn device_client(server: &ScriptedServer, script: &str, session: &str) -> Client {
    let base = format!("{}/device/{script}/{session}", server.url);
    let mut provider = Provider::from_token_url(&format!("{base}/token")).unwrap();
    provider.device_authorization_endpoint = Some(format!("{base}/auth/device"));
    Client::new(provider, ClientConfig::new("tv")).unwrap()
}

#[test]
fn pending_then_approved_polls_at_the_interval_and_caches_a_user_session() {
    let server = ScriptedServer::start(300);
    let c = device_client(&server, "pending,token", "ok");
    let started = c.device_authorization(&DeviceOptions::default()).unwrap();
    assert_eq!(started.user_code, "WDJB-MJHT");
    assert_eq!(started.interval, Duration::from_secs(1));
    assert!(started.url_to_show().ends_with("user_code=WDJB-MJHT"));
    assert!(
        !format!("{started:?}").contains("tw-dc-"),
        "the device code is a secret"
    );
    let begun = Instant::now();
    // Real sleeps: the server answers a poll sooner than its interval with an error.
    let token = c.device_wait(&started, &AtomicBool::new(false)).unwrap();
    assert!(begun.elapsed() >= Duration::from_secs(2));
    assert_eq!(token.access_token().expose(), "tw-device-ok");
    assert_eq!(
        c.token().unwrap().refresh_token().unwrap().expose(),
        "tw-device-rt-ok"
    );
}

#[test]
fn a_stream_of_slow_down_adds_five_seconds_each_time() {
    let server = ScriptedServer::start(300);
    // `lax`: the server does not check the interval, since the waits are recorded, not slept.
    let c = device_client(&server, "lax,slow_down,slow_down,slow_down,token", "slow");
    let started = c.device_authorization(&DeviceOptions::default()).unwrap();
    let mut waits = Vec::new();
    let token = c
        .device_wait_with(&started, |d| {
            waits.push(d.as_secs());
            true
        })
        .unwrap();
    assert_eq!(
        waits,
        [1, 6, 11, 16],
        "never faster than asked, and +5 s per slow_down"
    );
    assert_eq!(token.access_token().expose(), "tw-device-slow");
    // The device code lives 30 s, and the waits are not slept (the clock hardly moves): once
    // the interval alone (31 s) outlasts the code, the policy stops rather than poll a dead code.
    let c = device_client(&server, "lax,slow_down", "forever");
    let started = c.device_authorization(&DeviceOptions::default()).unwrap();
    let mut waits = Vec::new();
    let e = c
        .device_wait_with(&started, |d| {
            waits.push(d.as_secs());
            true
        })
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("expired_token"), "{e:?}");
    assert_eq!(waits, [1, 6, 11, 16, 21, 26], "{waits:?}");
}

#[test]
fn denied_and_expired_stop_with_typed_errors() {
    let server = ScriptedServer::start(300);
    for (script, error, words) in [
        (
            "pending,access_denied",
            "access_denied",
            "scripted access_denied",
        ),
        ("expired_token", "expired_token", "scripted expired_token"),
    ] {
        let c = device_client(&server, script, &script.replace(',', "-"));
        let started = c.device_authorization(&DeviceOptions::default()).unwrap();
        let e = c
            .device_wait(&started, &AtomicBool::new(false))
            .unwrap_err();
        assert_eq!(e.oauth_error(), Some(error), "{e:?}");
        assert!(e.to_string().contains(words), "{e}");
        assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
    }
    // A device code that expires (4 s) while the user does nothing: stopped locally.
    let c = device_client(&server, "short,pending", "short");
    let started = c.device_authorization(&DeviceOptions::default()).unwrap();
    let e = c
        .device_wait(&started, &AtomicBool::new(false))
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("expired_token"), "{e:?}");
    assert!(e.to_string().contains("start a new device login"), "{e}");
}

#[test]
fn cancelling_stops_the_wait_at_once() {
    let server = ScriptedServer::start(300);
    let c = device_client(&server, "pending", "cancel");
    let started = c.device_authorization(&DeviceOptions::default()).unwrap();
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2500));
        flag.store(true, std::sync::atomic::Ordering::Release);
    });
    let begun = Instant::now();
    let e = c.device_wait(&started, &cancel).unwrap_err();
    stopper.join().unwrap();
    assert!(matches!(e, Error::LoginRequired(_)), "{e:?}");
    assert!(begun.elapsed() < Duration::from_millis(3000));
}

#[test]
fn a_device_endpoint_answering_html_says_so() {
    let server = ScriptedServer::start(300);
    let c = device_client(&server, "html", "html");
    let e = c
        .device_authorization(&DeviceOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidResponse(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("device authorization response is not JSON"),
        "{e}"
    );
}

#[test]
fn a_refused_exchange_is_the_servers_oauth_error() {
    let server = ScriptedServer::start(300);
    let provider =
        Provider::from_token_url(&format!("{}/exchange/refused/token", server.url)).unwrap();
    let c = Client::new(provider, ClientConfig::new("svc").secret("exchange-secret")).unwrap();
    let subject = tokenward::Secret::new("subject-token-value");
    let e = c
        .exchange_token(&subject, Some("other-client"), None, TokenType::AccessToken)
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_request"), "{e:?}");
    assert!(
        e.to_string().contains("Requested audience not available"),
        "{e}"
    );
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("subject-token-value") && !shown.contains("exchange-secret"));
}

#[test]
fn a_rejected_client_assertion_is_invalid_client_and_shows_no_key() {
    let server = ScriptedServer::start(300);
    let url = format!("{}/assertion/rejected/token", server.url);
    let key = PrivateKey::from_pem_file(format!("{KEYS}vion-jwt-rsa.pem"), None).unwrap();
    let pem = std::fs::read_to_string(format!("{KEYS}vion-jwt-rsa.pem")).unwrap();
    let body_line = pem.lines().nth(1).unwrap().to_string();
    let c = Client::new(
        Provider::from_token_url(&url).unwrap(),
        ClientConfig::new("svc").signer(key.into_signer()),
    )
    .unwrap();
    let e = c.client_credentials().unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e:?}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(!shown.contains(&body_line), "the key never shows");

    let c = Client::new(
        Provider::from_token_url(&url).unwrap(),
        ClientConfig::new("svc")
            .secret("hmac-secret")
            .auth_method(AuthMethod::ClientSecretJwt),
    )
    .unwrap();
    let e = c.client_credentials().unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e:?}");
    assert!(!format!("{e} {e:?} {c:?}").contains("hmac-secret"));

    // private_key_jwt without a key is a configuration error before any request.
    let e = Client::new(
        Provider::from_token_url(&url).unwrap(),
        ClientConfig::new("svc").auth_method(AuthMethod::PrivateKeyJwt),
    )
    .unwrap_err();
    assert!(e.to_string().contains("private key"), "{e}");
}

/// An unsigned JWT whose `exp` is `exp` (the subject token a user sent).
fn subject_expiring_at(exp: u64) -> tokenward::Secret {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    tokenward::Secret::new(format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&format!(r#"{{"sub":"u1","aud":"svc","exp":{exp}}}"#))
    ))
}

#[test]
fn exchanged_tokens_are_cached_per_subject_audience_and_scope_and_renewed_while_the_subject_lives()
{
    // Tokens of 300 s; the manual clock moves instead of the test sleeping.
    let server = ScriptedServer::start(300);
    let clock = std::sync::Arc::new(tokenward::ManualClock::new(1_700_000_000));
    let url = format!("{}/exchange/ok/cache/token", server.url);
    let c = Client::builder(
        Provider::from_token_url(&url).unwrap(),
        ClientConfig::new("svc").secret("exchange-secret"),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let subject = subject_expiring_at(1_700_000_000 + 1000);
    let get = |aud: &str, scope: Option<&str>| {
        c.exchange_token(&subject, Some(aud), scope, TokenType::AccessToken)
            .unwrap()
    };
    let first = get("api-a", None);
    assert_eq!(first.access_token().expose(), "tw-exchange-cache-1");
    assert!(
        std::sync::Arc::ptr_eq(&first, &get("api-a", None)),
        "cached"
    );
    // Another audience, another scope: other cache entries.
    assert_eq!(
        get("api-b", None).access_token().expose(),
        "tw-exchange-cache-2"
    );
    assert_eq!(
        get("api-a", Some("read")).access_token().expose(),
        "tw-exchange-cache-3"
    );
    // Due (within the refresh margin of its 300 s): exchanged again.
    clock.advance(Duration::from_secs(290));
    assert_eq!(
        get("api-a", None).access_token().expose(),
        "tw-exchange-cache-4"
    );
    // The subject token has expired: no new exchange, a login is needed.
    clock.advance(Duration::from_secs(1000));
    let e = c
        .exchange_token(&subject, Some("api-a"), None, TokenType::AccessToken)
        .unwrap_err();
    assert!(matches!(e, Error::LoginRequired(_)), "{e:?}");
    assert!(e.to_string().contains("subject token has expired"), "{e}");
}
