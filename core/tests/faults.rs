//! Faults beyond the fault matrix's rows, from `tests/faults/server.py` (the one scripted
//! loopback server, in a child process) through the real ureq transport: each must come back
//! as its typed error. The matrix's nine faults run once, in `fault_matrix.rs`, which also
//! holds their exact assertions (status, `Retry-After`, message words, the timeout's bounds).

mod scripted;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use scripted::ScriptedServer;
use tokenward::{Client, ClientConfig, Error, HttpOptions, ManualClock, Provider, RefreshPolicy};

const TIMEOUT: Duration = Duration::from_millis(1500);
/// `expires_in` of the server's `/seq/` tokens.
const LIFETIME: u64 = 3600;

fn client_for(url: &str) -> Client {
    let options = HttpOptions {
        timeout: TIMEOUT,
        ..HttpOptions::default()
    };
    Client::builder(
        Provider::from_token_url(url).unwrap(),
        ClientConfig::new("svc").secret("fault-secret"),
    )
    .http_options(options)
    .build()
    .unwrap()
}

/// Runs one of the server's faults (`/fault/<fault>/token`) and returns the error.
fn fault(name: &str) -> Error {
    let server = ScriptedServer::start(LIFETIME);
    let c = client_for(&format!("{}/fault/{name}/token", server.url));
    let e = c.client_credentials().unwrap_err();
    assert!(!e.to_string().contains("fault-secret"));
    e
}

#[test]
fn connection_closed_mid_body() {
    let e = fault("closed-mid-body");
    assert!(
        matches!(&e, Error::InvalidResponse(_) | Error::Transport(_)),
        "{e:?}"
    );
}

#[test]
fn redirects_are_not_followed() {
    let e = fault("redirect-302");
    assert!(matches!(&e, Error::Http { status: 302, .. }), "{e:?}");
}

#[test]
fn nobody_listening() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client_for(&format!("http://127.0.0.1:{port}/token"));
    let e = c.client_credentials().unwrap_err();
    assert!(matches!(&e, Error::Transport(_)), "{e:?}");
    assert!(e.to_string().contains("could not reach the server"));
}

#[test]
fn the_cache_serves_its_valid_token_through_every_failed_renewal() {
    // A token, then a renewal through each fault in turn, then a healthy server again.
    let faults = [
        "http-500",
        "html-error-page",
        "truncated-json",
        "connection-reset",
        "never-answers",
        "no-access-token",
    ];
    let n = faults.len();
    let server = ScriptedServer::start(LIFETIME);
    let session = format!("rust-faults-{}", std::process::id());
    let url = format!(
        "{}/seq/{session}/token,{},token/token",
        server.url,
        faults.join(",")
    );
    let first = format!("tw-seq-{session}-1");
    let second = format!("tw-seq-{session}-{}", n + 2);
    let requests = || server.stats(&session).0 as usize;
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let options = HttpOptions {
        timeout: TIMEOUT,
        ..HttpOptions::default()
    };
    // Renew 1000 s before expiry: room for every fault and its back-off while still valid.
    let config = ClientConfig::new("svc").secret("fault-secret");
    let c = Client::builder(Provider::from_token_url(&url).unwrap(), config)
        .refresh_policy(RefreshPolicy {
            fraction: 0.5,
            max_margin: Duration::from_secs(1000),
            ..RefreshPolicy::default()
        })
        .http_options(options)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(c.token().unwrap().access_token().expose(), first);
    clock.advance(Duration::from_secs(2700)); // past the refresh point, still valid
    for attempt in 1..=n + 1 {
        // Each call past the back-off starts one background renewal; callers keep the token.
        let deadline = Instant::now() + Duration::from_secs(10);
        while requests() <= attempt {
            let t = c.token().unwrap();
            if attempt <= n {
                assert_eq!(t.access_token().expose(), first, "attempt {attempt}");
            }
            assert!(
                Instant::now() < deadline,
                "renewal {attempt} never reached the server"
            );
            thread::sleep(Duration::from_millis(10));
            clock.advance(Duration::from_millis(100)); // time passes; back-offs run out
        }
    }
    // The server is healthy again: the last renewal succeeded.
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.token().unwrap().access_token().expose() != second {
        assert!(Instant::now() < deadline, "the renewal never succeeded");
        thread::sleep(Duration::from_millis(10));
    }
}
