//! Faults a real Keycloak will not produce on demand, from a scripted loopback server, through
//! the real ureq transport: each must come back as its typed error within the timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tokenward::{Client, ClientConfig, Error, HttpOptions, ManualClock, Provider, RefreshPolicy};

/// What the server does with one connection.
#[derive(Clone)]
enum Fault {
    Respond(Vec<u8>),
    /// Reads the request, then says nothing for this long.
    Hang(Duration),
    /// Closes without reading: the kernel answers with a reset.
    Reset,
}

fn http(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Fault {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Fault::Respond(bytes)
}

fn token_body(token: &str, expires_in: u64) -> Vec<u8> {
    format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#)
        .into_bytes()
}

/// Serves `script` one connection per entry, on a free loopback port; returns the token URL.
fn serve(script: Vec<Fault>) -> String {
    serve_counted(script).0
}

/// Like [`serve`], also counting the connections accepted so far.
fn serve_counted(script: Vec<Fault>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/realms/faults/protocol/openid-connect/token",
        listener.local_addr().unwrap()
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for fault in script {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            count.fetch_add(1, SeqCst);
            match fault {
                Fault::Reset => {
                    thread::sleep(Duration::from_millis(50)); // let the request arrive unread
                    drop(stream);
                }
                Fault::Hang(d) => {
                    read_request(&mut stream);
                    thread::sleep(d);
                }
                Fault::Respond(bytes) => {
                    read_request(&mut stream);
                    let _ = stream.write_all(&bytes);
                    let _ = stream.flush();
                }
            }
        }
    });
    (url, accepted)
}

fn read_request(stream: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    loop {
        let Ok(n) = stream.read(&mut chunk) else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return;
            }
        }
    }
}

const TIMEOUT: Duration = Duration::from_millis(1500);

fn client_for(url: &str) -> Client {
    client_with_clock(url, None)
}

fn client_with_clock(url: &str, clock: Option<Arc<ManualClock>>) -> Client {
    let options = HttpOptions {
        timeout: TIMEOUT,
        ..HttpOptions::default()
    };
    let mut b = Client::builder(
        Provider::from_token_url(url).unwrap(),
        ClientConfig::new("svc").secret("fault-secret"),
    )
    .http_options(options);
    if let Some(c) = clock {
        b = b.clock(c);
    }
    b.build().unwrap()
}

/// Runs one fault and returns the error and how long it took.
fn fault(f: Fault) -> (Error, Duration) {
    let c = client_for(&serve(vec![f]));
    let start = Instant::now();
    let e = c.client_credentials().unwrap_err();
    let took = start.elapsed();
    assert!(!e.to_string().contains("fault-secret"));
    (e, took)
}

#[test]
fn internal_server_error() {
    let (e, _) = fault(http("500 Internal Server Error", &[], b"oops"));
    assert!(matches!(&e, Error::Http { status: 500, .. }), "{e:?}");
    assert!(e.is_transient());
}

#[test]
fn service_unavailable_with_retry_after() {
    let (e, _) = fault(http(
        "503 Service Unavailable",
        &[("Retry-After", "7")],
        b"",
    ));
    assert!(matches!(&e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.to_string().contains("retry after 7 s"), "{e}");
}

#[test]
fn too_many_requests() {
    let (e, _) = fault(http(
        "429 Too Many Requests",
        &[("Retry-After", "2")],
        b"slow down",
    ));
    assert!(matches!(&e, Error::Http { status: 429, .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
}

#[test]
fn html_error_page() {
    let page = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let (e, _) = fault(http(
        "502 Bad Gateway",
        &[("Content-Type", "text/html")],
        page,
    ));
    match &e {
        Error::Http {
            status: 502,
            body_excerpt,
            ..
        } => assert!(
            body_excerpt.starts_with("502 Bad Gateway"),
            "{body_excerpt}"
        ),
        _ => panic!("{e:?}"),
    }
}

#[test]
fn truncated_json() {
    let (e, _) = fault(http(
        "200 OK",
        &[("Content-Type", "application/json")],
        br#"{"access_token":"abc","expi"#,
    ));
    assert!(
        matches!(&e, Error::InvalidResponse(m) if m.contains("truncated")),
        "{e:?}"
    );
}

#[test]
fn connection_closed_mid_body() {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nContent-Type: application/json\r\n\r\n"
            .to_vec();
    bytes.extend_from_slice(br#"{"access_token":"abc""#);
    let (e, _) = fault(Fault::Respond(bytes));
    assert!(
        matches!(&e, Error::InvalidResponse(_) | Error::Transport(_)),
        "{e:?}"
    );
}

#[test]
fn ten_megabyte_body_is_refused() {
    let body = vec![b' '; 10 * 1024 * 1024];
    let (e, _) = fault(http(
        "200 OK",
        &[("Content-Type", "application/json")],
        &body,
    ));
    assert!(
        matches!(&e, Error::InvalidResponse(m) if m.contains("larger than")),
        "{e:?}"
    );
}

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let (e, took) = fault(Fault::Hang(Duration::from_secs(10)));
    assert_eq!(e, Error::Timeout(TIMEOUT));
    assert!(
        took < TIMEOUT + Duration::from_millis(1000),
        "took {took:?}"
    );
    assert!(
        took >= TIMEOUT - Duration::from_millis(100),
        "took {took:?}"
    );
}

#[test]
fn reset_connection() {
    let (e, _) = fault(Fault::Reset);
    assert!(
        matches!(&e, Error::Transport(_) | Error::InvalidResponse(_)),
        "{e:?}"
    );
    assert!(e.is_transient());
}

#[test]
fn success_without_access_token() {
    let (e, _) = fault(http(
        "200 OK",
        &[],
        br#"{"token_type":"Bearer","expires_in":300}"#,
    ));
    assert!(
        matches!(&e, Error::InvalidResponse(m) if m.contains("no `access_token`")),
        "{e:?}"
    );
}

#[test]
fn redirects_are_not_followed() {
    let (e, _) = fault(http(
        "302 Found",
        &[("Location", "https://elsewhere.example/token")],
        b"",
    ));
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
    let faults = vec![
        http("500 Internal Server Error", &[], b"oops"),
        http("502 Bad Gateway", &[], b"<h1>bad gateway</h1>"),
        http("200 OK", &[], br#"{"access_tok"#),
        Fault::Reset,
        Fault::Hang(Duration::from_secs(5)),
        http("200 OK", &[], b"{}"),
    ];
    let n = faults.len();
    let mut script = vec![http(
        "200 OK",
        &[("Content-Type", "application/json")],
        &token_body("first", 3600),
    )];
    script.extend(faults);
    script.push(http("200 OK", &[], &token_body("second", 3600)));
    let (url, accepted) = serve_counted(script);
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let options = HttpOptions {
        timeout: TIMEOUT,
        ..HttpOptions::default()
    };
    // Renew 1000 s before expiry: room for every fault and its back-off while still valid.
    let config = ClientConfig::new("svc")
        .secret("fault-secret")
        .refresh_policy(RefreshPolicy {
            fraction: 0.5,
            max_margin: Duration::from_secs(1000),
            ..RefreshPolicy::default()
        });
    let c = Client::builder(Provider::from_token_url(&url).unwrap(), config)
        .http_options(options)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(c.token().unwrap().access_token().expose(), "first");
    clock.advance(Duration::from_secs(2700)); // past the refresh point, still valid
    for attempt in 1..=n + 1 {
        // Each call past the back-off starts one background renewal; callers keep the token.
        let deadline = Instant::now() + Duration::from_secs(10);
        while accepted.load(SeqCst) <= attempt {
            let t = c.token().unwrap();
            if attempt <= n {
                assert_eq!(t.access_token().expose(), "first", "attempt {attempt}");
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
    while c.token().unwrap().access_token().expose() != "second" {
        assert!(Instant::now() < deadline, "the renewal never succeeded");
        thread::sleep(Duration::from_millis(10));
    }
}
