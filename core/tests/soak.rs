//! Soak: 16 threads ask one `Client` for tokens of a 3 s client (`ecoinvent-soak`) for
//! `TW_SOAK_SECS` (default 60) of up time, and Keycloak is stopped and restarted on the same
//! port in the middle. Asserted:
//!
//! - no token is ever handed out past its JWT `exp` (checked against the wall clock at hand-out);
//! - every error is typed: while Keycloak is down `Transport`, `Timeout`, `Http` or
//!   `InvalidResponse` (a connection cut mid-response during shutdown); while it is up, none;
//! - tokens flow again within [`RECOVERY_MAX`] of the restarted server being ready;
//! - token requests stay near the ideal of one per lifetime (counted by the `on_token` hook and
//!   by a counting transport; the ratio is printed);
//! - resident memory stays flat (VmRSS sampled every 250 ms; start/peak/end printed).
//!
//! It starts a Keycloak of its own (only the `ecoinvent` realm, in a scratch state dir under
//! `target/tmp`) because it has to stop and restart it, and stops it at the end, on failure too.
//! `TW_KC_ENV` (the shared server of `make test`) is deliberately not used: restarting that one
//! would break the suites running beside this one.
//!
//! Run: `cargo test -p tokenward --features keycloak-tests --test soak -- --nocapture`
//! (`tests/soak/run [SECS]` does that; `make soak` with 600).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokenward::{
    Client, ClientConfig, ErrorCode, HttpOptions, HttpRequest, HttpResponse, Provider, Transport,
    UreqTransport,
};

const THREADS: usize = 16;
const LIFETIME_SECS: f64 = 3.0;
/// After the restarted server answers, tokens must flow again within this (the cache backs
/// off up to 10 s after failures, plus one request).
const RECOVERY_MAX: Duration = Duration::from_secs(15);
/// Down time before the restart begins: long enough for the last token to expire (3 s).
const DOWN_BEFORE_RESTART: Duration = Duration::from_secs(6);
/// Pause between one thread's calls: 16 threads make about 3000 calls a second.
const CALL_PAUSE: Duration = Duration::from_millis(5);
/// Allowed VmRSS growth from the first sample after warm-up to the end.
const RSS_GROWTH_MAX_KB: u64 = 24 * 1024;
/// Token requests per the policy's ideal (one per usable lifetime, renewed at 90 %: Keycloak's
/// whole-second `exp` leaves a 3 s token 2 s of use from receipt). Measured: 1.05 in 60 s.
/// Far above 1 means renewals are not single-flight; far below, stalls or expired hand-outs.
const POLICY_RATIO: std::ops::RangeInclusive<f64> = 0.8..=1.5;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn soak_secs() -> u64 {
    std::env::var("TW_SOAK_SECS")
        .ok()
        .map(|v| v.parse().expect("TW_SOAK_SECS must be whole seconds"))
        .unwrap_or(60)
}

fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn port_of(url: &str) -> &str {
    url.rsplit(':').next().unwrap()
}

/// This test's own Keycloak; stopped when dropped, so a failing assertion stops it too.
struct Keycloak {
    state: PathBuf,
}

impl Keycloak {
    fn start() -> Keycloak {
        let state = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tw-soak-kc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let kc = Keycloak { state };
        kc.run_start(&[]);
        kc
    }

    fn env(&self) -> BTreeMap<String, String> {
        env_file(&self.state.join("env"))
    }

    fn run_start(&self, extra_env: &[(&str, String)]) {
        let status = Command::new(repo().join("tests/keycloak/start"))
            .arg(&self.state)
            .env("TW_KC_REALMS", "ecoinvent")
            .envs(extra_env.iter().map(|(k, v)| (k, v)))
            .status()
            .expect("tests/keycloak/start");
        assert!(
            status.success(),
            "tests/keycloak/start failed; see {}/keycloak.log",
            self.state.display()
        );
    }

    fn stop(&self) {
        let status = Command::new(repo().join("tests/keycloak/stop"))
            .arg(&self.state)
            .status()
            .expect("tests/keycloak/stop");
        assert!(status.success(), "tests/keycloak/stop failed");
    }

    /// Starts again on the same HTTP and management ports with the same client secrets.
    fn restart(&self, env: &BTreeMap<String, String>) {
        self.run_start(&[
            ("TW_KC_PORT", port_of(&env["KC_URL"]).to_string()),
            ("TW_KC_MGMT_PORT", port_of(&env["KC_MGMT_URL"]).to_string()),
            ("TW_KC_REUSE_SECRETS", "1".to_string()),
        ]);
    }
}

impl Drop for Keycloak {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("tests/keycloak/stop"))
            .arg(&self.state)
            .status();
        if !thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

/// The real transport, counting every request it sends (successful or not).
struct Counting {
    inner: UreqTransport,
    sent: AtomicUsize,
}

impl Transport for Counting {
    fn send(&self, request: &HttpRequest) -> tokenward::Result<HttpResponse> {
        self.sent.fetch_add(1, SeqCst);
        self.inner.send(request)
    }
}

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Phases, as seen by a worker when its call began.
const UP: u8 = 0;
const DOWN: u8 = 1;
/// Restarted server ready, no new token seen yet.
const BACK: u8 = 2;
const RECOVERED: u8 = 3;
const PHASES: [&str; 4] = ["up", "down", "restarted, not yet recovered", "recovered"];

/// (phase, error code number) -> the code, a count and one example message.
type Errors = BTreeMap<(u8, u16), (ErrorCode, u64, String)>;

#[derive(Default)]
struct Tally {
    calls: AtomicU64,
    handed_out: AtomicU64,
    expired_handed_out: AtomicU64,
    /// Smallest `exp - now` seen at hand-out, in milliseconds.
    min_margin_ms: AtomicU64,
    errors: Mutex<Errors>,
    /// Wall-clock time of the first token the restarted server issued (its `iat` after the stop).
    first_new_token_at: Mutex<Option<Instant>>,
}

#[test]
fn sixteen_threads_three_second_tokens_keycloak_restarted_midway() {
    let secs = soak_secs();
    let half = Duration::from_secs(secs / 2);
    let kc = Keycloak::start();
    let env = kc.env();
    let url = env["KC_URL"].clone();

    let transport = Arc::new(Counting {
        inner: UreqTransport::new(HttpOptions {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            proxy_from_env: false,
            ..HttpOptions::default()
        })
        .unwrap(),
        sent: AtomicUsize::new(0),
    });
    let issued = Arc::new(AtomicUsize::new(0));
    let hook_count = issued.clone();
    let client = Arc::new(
        Client::builder(
            Provider::keycloak(&url, "ecoinvent").unwrap(),
            ClientConfig::new("ecoinvent-soak").secret(env["TW_ECOINVENT_SOAK_SECRET"].clone()),
        )
        .transport(transport.clone())
        .on_token(move |_| {
            hook_count.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap(),
    );
    let first = client
        .token()
        .expect("a first token from the fresh Keycloak");
    let lifetime = first.lifetime().unwrap();
    assert!(
        lifetime <= Duration::from_secs(3),
        "the soak client's lifetime: {lifetime:?}"
    );

    let phase = Arc::new(AtomicU8::new(UP));
    let stop_at_unix = Arc::new(Mutex::new(f64::MAX));
    let done = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally {
        min_margin_ms: AtomicU64::new(u64::MAX),
        ..Tally::default()
    });

    // VmRSS every 250 ms.
    let rss = Arc::new(Mutex::new(Vec::<u64>::new()));
    let sampler = {
        let (rss, done) = (rss.clone(), done.clone());
        thread::spawn(move || {
            while !done.load(SeqCst) {
                rss.lock().unwrap().push(vm_rss_kb());
                thread::sleep(Duration::from_millis(250));
            }
            rss.lock().unwrap().push(vm_rss_kb());
        })
    };

    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (client, phase, done, tally, stop_at_unix) = (
                client.clone(),
                phase.clone(),
                done.clone(),
                tally.clone(),
                stop_at_unix.clone(),
            );
            thread::spawn(move || {
                while !done.load(SeqCst) {
                    let p = phase.load(SeqCst);
                    tally.calls.fetch_add(1, SeqCst);
                    match client.token() {
                        Ok(t) => {
                            let now = unix_now_f64();
                            let claims = t.claims().expect("Keycloak tokens are JWTs");
                            let exp = claims.exp().expect("exp") as f64;
                            tally.handed_out.fetch_add(1, SeqCst);
                            if now >= exp {
                                tally.expired_handed_out.fetch_add(1, SeqCst);
                            }
                            let margin = ((exp - now).max(0.0) * 1000.0) as u64;
                            tally.min_margin_ms.fetch_min(margin, SeqCst);
                            let iat = claims.iat().unwrap_or(0) as f64;
                            if p == BACK && iat >= *stop_at_unix.lock().unwrap() {
                                let mut first = tally.first_new_token_at.lock().unwrap();
                                first.get_or_insert_with(Instant::now);
                            }
                        }
                        Err(e) => {
                            let mut errors = tally.errors.lock().unwrap();
                            let entry = errors
                                .entry((p, e.code() as u16))
                                .or_insert_with(|| (e.code(), 0, e.to_string()));
                            entry.1 += 1;
                        }
                    }
                    thread::sleep(CALL_PAUSE);
                }
            })
        })
        .collect();

    // Phase 1: up.
    let t0 = Instant::now();
    thread::sleep(half);
    let up1 = t0.elapsed();

    // Phase 2: down, then restarted on the same port.
    *stop_at_unix.lock().unwrap() = unix_now_f64();
    phase.store(DOWN, SeqCst);
    let stop_began = Instant::now();
    kc.stop();
    let stopped_in = stop_began.elapsed();
    thread::sleep(DOWN_BEFORE_RESTART);
    let restart_began = Instant::now();
    kc.restart(&env);
    let ready_at = Instant::now();
    let restart_took = ready_at - restart_began;
    phase.store(BACK, SeqCst);
    assert_eq!(kc.env()["KC_URL"], url, "restarted on the same URL");

    // Phase 3: back up. Wait for recovery, then run another half.
    let recovery_deadline = ready_at + RECOVERY_MAX;
    let recovered_at = loop {
        if let Some(at) = *tally.first_new_token_at.lock().unwrap() {
            break Some(at);
        }
        if Instant::now() > recovery_deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    phase.store(RECOVERED, SeqCst);
    let recovery = recovered_at.map(|at| at.saturating_duration_since(ready_at));
    let back_from = recovered_at.unwrap_or(ready_at);
    if recovered_at.is_some() {
        thread::sleep(half.saturating_sub(back_from.elapsed()));
    }
    let up2 = back_from.elapsed();
    done.store(true, SeqCst);
    for w in workers {
        w.join().expect("a worker panicked");
    }
    sampler.join().unwrap();
    drop(kc);

    // Report.
    let up = up1 + up2;
    let ideal = up.as_secs_f64() / LIFETIME_SECS;
    let tokens = issued.load(SeqCst);
    let sent = transport.sent.load(SeqCst);
    let ratio = tokens as f64 / ideal;
    let samples = rss.lock().unwrap().clone();
    // The first second's samples include thread stacks being touched: start after warm-up.
    let (rss_start, rss_peak, rss_end) = (
        samples[samples.len().min(4) - 1],
        *samples.iter().max().unwrap(),
        *samples.last().unwrap(),
    );
    let errors = tally.errors.lock().unwrap().clone();
    let min_margin = tally.min_margin_ms.load(SeqCst);
    println!("soak: {secs} s asked ({THREADS} threads, {LIFETIME_SECS} s tokens, lifetime seen {lifetime:?})");
    println!(
        "soak: up {:.1} s before the stop + {:.1} s after recovery; stop took {:.1} s, down {:.1} s before restart, restart took {:.1} s",
        up1.as_secs_f64(),
        up2.as_secs_f64(),
        stopped_in.as_secs_f64(),
        DOWN_BEFORE_RESTART.as_secs_f64(),
        restart_took.as_secs_f64()
    );
    println!(
        "soak: calls {}, tokens handed out {}, expired handed out {}, least time left at hand-out {} ms",
        tally.calls.load(SeqCst),
        tally.handed_out.load(SeqCst),
        tally.expired_handed_out.load(SeqCst),
        min_margin
    );
    println!(
        "soak: token requests {tokens} issued (on_token) / {sent} sent (transport) vs ideal {ideal:.1} (one per {LIFETIME_SECS} s of up time): ratio {ratio:.2}"
    );
    // What the cache policy aims at: one token per usable lifetime (Keycloak's whole-second
    // `exp` makes a 3 s token usable for `lifetime` from receipt), renewed in its last 10 %.
    let usable = lifetime.as_secs_f64().max(1.0) * 0.9;
    let policy_ideal = up.as_secs_f64() / usable;
    let policy_ratio = tokens as f64 / policy_ideal;
    println!(
        "soak: against the policy's ideal {policy_ideal:.1} (one per {usable:.1} s: {lifetime:?} usable, renewed at 90 %): ratio {:.2}",
        policy_ratio
    );
    for ((p, _), (code, n, example)) in &errors {
        let p = PHASES[*p as usize];
        println!("soak: errors while {p}: {code:?} x{n} (e.g. {example})");
    }
    match recovery {
        Some(r) => println!(
            "soak: tokens flowed again {:.2} s after the restarted server was ready",
            r.as_secs_f64()
        ),
        None => println!("soak: tokens did NOT flow again within {RECOVERY_MAX:?}"),
    }
    println!(
        "soak: VmRSS start {rss_start} kB, peak {rss_peak} kB, end {rss_end} kB ({} samples)",
        samples.len()
    );

    // Assertions.
    assert_eq!(
        tally.expired_handed_out.load(SeqCst),
        0,
        "a token was handed out past its exp"
    );
    for ((p, _), (code, n, example)) in &errors {
        assert!(
            *p == DOWN || *p == BACK,
            "{n} {code:?} errors while Keycloak was {}: {example}",
            PHASES[*p as usize]
        );
        assert!(
            matches!(
                code,
                ErrorCode::Transport
                    | ErrorCode::Timeout
                    | ErrorCode::Http
                    | ErrorCode::InvalidResponse
            ),
            "an untyped or unexpected error while down: {code:?} x{n}: {example}"
        );
    }
    assert!(
        errors.keys().any(|(p, _)| *p == DOWN),
        "no error at all while Keycloak was down (was it really stopped?)"
    );
    let recovery = recovery.expect("tokens flow again after the restart");
    assert!(recovery <= RECOVERY_MAX);
    assert!(
        POLICY_RATIO.contains(&policy_ratio),
        "{tokens} token requests for the policy's ideal of {policy_ideal:.1} (ratio {policy_ratio:.2}, \
         allowed {POLICY_RATIO:?}): above means renewals are not single-flight, below stalls"
    );
    assert!(
        sent <= tokens + 100,
        "{sent} requests sent for {tokens} tokens: the down server was hammered (no back-off)"
    );
    assert!(
        rss_end.saturating_sub(rss_start) < RSS_GROWTH_MAX_KB,
        "VmRSS grew from {rss_start} kB to {rss_end} kB"
    );
}
