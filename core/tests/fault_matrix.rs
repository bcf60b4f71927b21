//! The fault matrix's Rust column (issue #7): every fault of `tests/faults/faults.tsv`, served by
//! the scripted loopback server every binding shares (`tests/faults/server.py`, run with
//! `python3`), through `Client::token` (the `TokenSource`) and the real ureq transport.
//!
//! For each fault: the first call of a fresh client must fail with the fault's typed error
//! within the timeout (1 s, plus 1 s grace), without the secret in the message; and a client
//! holding a valid token (8 s, renewed 4 s before expiry) must keep handing out that token,
//! never an error, through a renewal that meets the fault, checked after the server saw the
//! failing exchange end. One row per fault goes to `.tw-state/fault-matrix/rust.tsv` (format:
//! `tests/faults/README.md`; `$TW_FAULT_MATRIX_DIR` overrides the directory), then the test
//! fails if any row did.
//!
//! Each fault runs once in core: the first call's error is also held to what this fault must
//! say exactly (status, `Retry-After`, the words of the message, transient or not, the timeout
//! neither early nor late); a miss fails the row with the reason in its note. `faults.rs` keeps
//! what the matrix does not cover (other faults, a renewal through every fault in turn).

use std::io::Write;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use tokenward::{Client, ClientConfig, Error, HttpOptions, Provider, RefreshPolicy};

mod scripted;
use scripted::{repo as root, ScriptedServer as FaultServer};

const TIMEOUT: Duration = Duration::from_millis(1000);
const GRACE: Duration = Duration::from_millis(1000);
/// The valid token's lifetime (the server's `--lifetime`) and how early it is renewed.
const LIFETIME: Duration = Duration::from_secs(8);
const MARGIN: Duration = Duration::from_secs(4);
const SECRET: &str = "fault-matrix-secret";
const FAULTS_TSV: &str = include_str!("../../tests/faults/faults.tsv");

/// (fault, expected code) in table order.
fn faults() -> Vec<(String, String)> {
    FAULTS_TSV
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1) // the header
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_string())
        })
        .collect()
}

fn client(token_url: &str) -> Client {
    let config = ClientConfig::new("svc").secret(SECRET);
    Client::builder(Provider::from_token_url(token_url).unwrap(), config)
        .refresh_policy(RefreshPolicy::fixed(MARGIN))
        .http_options(HttpOptions {
            timeout: TIMEOUT,
            ..HttpOptions::default()
        })
        .build()
        .unwrap()
}

/// What the first call of a fresh client against the fault gave.
struct Direct {
    reported: String,
    code: String,
    elapsed: Duration,
    leak: bool,
    /// What the error got wrong beyond its code (see [`exact`]).
    wrong: Vec<String>,
}

/// What this fault's error must say beyond its code; each miss as a sentence.
fn exact(fault: &str, e: &Error, elapsed: Duration) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut want = |ok: bool, what: &str| {
        if !ok {
            wrong.push(format!("{what} ({e:?})"));
        }
    };
    let status = |s: u16| matches!(e, Error::Http { status, .. } if *status == s);
    let message = |words: &str| matches!(e, Error::InvalidResponse(m) if m.contains(words));
    match fault {
        "http-500" => {
            want(status(500), "status 500");
            want(e.is_transient(), "a 500 is transient");
        }
        "http-503-retry-after" => {
            want(status(503), "status 503");
            want(
                e.retry_after() == Some(Duration::from_secs(7)),
                "Retry-After 7 s",
            );
            want(
                e.to_string().contains("retry after 7 s"),
                "the message says retry after 7 s",
            );
        }
        "http-429" => {
            want(status(429), "status 429");
            want(
                e.retry_after() == Some(Duration::from_secs(2)),
                "Retry-After 2 s",
            );
        }
        "html-error-page" => want(
            matches!(e, Error::Http { status: 502, body_excerpt, .. }
                if body_excerpt.starts_with("502 Bad Gateway")),
            "status 502, the page's text (not its tags) quoted",
        ),
        "truncated-json" => want(message("truncated"), "the message says truncated"),
        "body-10mb" => want(
            message("larger than"),
            "the message says larger than the cap",
        ),
        "never-answers" => {
            want(
                *e == Error::Timeout(TIMEOUT),
                "Error::Timeout of the configured timeout",
            );
            want(
                elapsed >= TIMEOUT - Duration::from_millis(100),
                &format!("not before the timeout (took {elapsed:?})"),
            );
        }
        "connection-reset" => want(e.is_transient(), "a reset is transient"),
        "no-access-token" => want(
            message("no `access_token`"),
            "the message names access_token",
        ),
        _ => {}
    }
    wrong
}

fn direct(server: &FaultServer, fault: &str) -> Direct {
    let c = client(&format!("{}/fault/{fault}/token", server.url));
    let start = Instant::now();
    let result = c.token();
    let elapsed = start.elapsed();
    match result {
        Ok(_) => Direct {
            reported: "Ok".into(),
            code: "none".into(),
            elapsed,
            leak: false,
            wrong: vec![],
        },
        Err(e) => Direct {
            reported: format!("Error::{:?}", e.code()),
            code: e.code().as_str().into(),
            elapsed,
            leak: format!("{e} {e:?}").contains(SECRET),
            wrong: exact(fault, &e, elapsed),
        },
    }
}

/// Whether the cache kept its valid token through a renewal that met the fault, and how it went.
fn kept(server: &FaultServer, fault: &str) -> (bool, String) {
    let session = format!("rust-{}-{fault}", std::process::id());
    let c = client(&format!("{}/renew/{fault}/{session}/token", server.url));
    let t0 = Instant::now();
    let want = format!("tw-fault-first-{session}");
    match c.token() {
        Ok(t) if t.access_token().expose() == want => {}
        Ok(_) => return (false, "the first token is not the server's".into()),
        Err(e) => return (false, format!("the first token failed: {e}")),
    }
    // The token is valid until at least t0 + LIFETIME (its clock starts when the request left).
    let valid_until = t0 + LIFETIME - Duration::from_millis(500);
    let (mut calls, mut done_at) = (0u32, None::<Instant>);
    loop {
        let now = Instant::now();
        let (requests, done) = server.stats(&session);
        if now >= valid_until {
            return (
                false,
                format!("no failed renewal seen before expiry (requests={requests} done={done})"),
            );
        }
        match c.token() {
            Ok(t) if t.access_token().expose() == want => calls += 1,
            Ok(_) => return (false, "the cache handed out another token".into()),
            Err(e) => {
                return (
                    false,
                    format!("a call failed while the token was valid: {e}"),
                )
            }
        }
        if done >= 1 {
            let at = *done_at.get_or_insert(now);
            if now - at >= Duration::from_millis(300) {
                return (
                    true,
                    format!("{calls} calls, {} renewal(s) failed", requests - 1),
                );
            }
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn out_dir() -> PathBuf {
    std::env::var_os("TW_FAULT_MATRIX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tw-state/fault-matrix"))
}

#[test]
fn fault_matrix() {
    let out = out_dir().join("rust.tsv");
    let _ = std::fs::remove_file(&out); // no stale column if this run dies
    let server = FaultServer::start(LIFETIME.as_secs());
    let faults = faults();
    assert_eq!(
        faults.len(),
        9,
        "tests/faults/faults.tsv lists issue #2's nine faults"
    );

    // One at a time, so no timing is another's queue.
    let directs: Vec<Direct> = faults.iter().map(|(f, _)| direct(&server, f)).collect();
    // Each waits out half a token lifetime: all at once.
    let keeps: Vec<(bool, String)> = thread::scope(|s| {
        let handles: Vec<_> = faults
            .iter()
            .map(|(f, _)| s.spawn(|| kept(&server, f)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut tsv = String::from(
        "# tokenward fault matrix v1: rust (core/tests/fault_matrix.rs, Client::token)\n\
         fault\treported\tcode\telapsed_ms\ttimeout_ms\tin_time\tkept\tresult\tnote\n",
    );
    let mut failures = Vec::new();
    for (((fault, expect), d), (kept, how)) in faults.iter().zip(&directs).zip(&keeps) {
        let in_time = d.elapsed <= TIMEOUT + GRACE;
        let mut why = Vec::new();
        if &d.code != expect {
            why.push(format!("{} instead of {expect}", d.code));
        }
        if !in_time {
            why.push(format!("took {:?}", d.elapsed));
        }
        if d.leak {
            why.push("the secret is in the error".into());
        }
        why.extend(d.wrong.iter().cloned());
        if !kept {
            why.push(format!("token not kept: {how}"));
        }
        let pass = why.is_empty();
        let line = format!(
            "{fault}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            d.reported,
            d.code,
            d.elapsed.as_millis(),
            TIMEOUT.as_millis(),
            if in_time { "yes" } else { "no" },
            if *kept { "yes" } else { "no" },
            if pass { "pass" } else { "fail" },
            if d.wrong.is_empty() {
                how.replace(['\t', '\n'], " ")
            } else {
                format!("{how}; wrong: {}", d.wrong.join("; ")).replace(['\t', '\n'], " ")
            },
        );
        print!("fault matrix rust: {line}");
        tsv.push_str(&line);
        if !pass {
            failures.push(format!("{fault}: {}", why.join("; ")));
        }
    }
    std::fs::create_dir_all(out_dir()).unwrap();
    let tmp = out.with_extension("tsv.tmp");
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(tsv.as_bytes()))
        .unwrap();
    std::fs::rename(&tmp, &out).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
