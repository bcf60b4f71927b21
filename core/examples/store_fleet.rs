//! One process of a fleet that shares a token store (tests/store/fleet.py starts many).
//!
//! ```text
//! store_fleet --store URL --threads N --seconds S (--client ID --secret-env VAR | --user [--seed-env VAR])
//! ```
//!
//! Environment: `KC_URL` and `TW_FLEET_REALM` name the Keycloak realm. Every thread asks for a
//! token in a loop for S seconds and checks each one against the JWT's `exp` on the wall
//! clock. With `--user` the session is a user's: the process given `--seed-env` resumes it
//! from the refresh token in that variable, the others wait until it is in the store. Prints
//! one JSON line: `requests` (token requests this process sent, counted by the `on_token`
//! hook), `calls`, `expired` (tokens handed out past their `exp`), `errors`, `invalid_grant`,
//! `first_error`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokenward::{Client, ClientConfig, Error, Provider, Secret};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store = arg(&args, "--store").unwrap_or_else(|| "memory".into());
    let threads: usize = arg(&args, "--threads").map_or(4, |s| s.parse().unwrap());
    let seconds: f64 = arg(&args, "--seconds").map_or(10.0, |s| s.parse().unwrap());
    let user = args.iter().any(|a| a == "--user");
    let kc = std::env::var("KC_URL").expect("KC_URL");
    let realm = std::env::var("TW_FLEET_REALM").unwrap_or_else(|_| "rotate".into());
    let provider = Provider::keycloak(&kc, &realm).unwrap();
    let config = if user {
        ClientConfig::new(arg(&args, "--client").unwrap_or_else(|| "rotate-cli".into()))
    } else {
        let var = arg(&args, "--secret-env").expect("--secret-env");
        ClientConfig::new(arg(&args, "--client").expect("--client"))
            .secret(std::env::var(var).expect("the secret variable"))
    };

    let requests = Arc::new(AtomicU64::new(0));
    let counted = requests.clone();
    let store_events = Arc::new(AtomicU64::new(0));
    let events = store_events.clone();
    let client = Client::builder(provider, config)
        .store(store)
        .on_token(move |_| {
            counted.fetch_add(1, Relaxed);
        })
        .on_store_event(move |msg| {
            events.fetch_add(1, Relaxed);
            eprintln!("store_fleet[{}]: {msg}", std::process::id());
        })
        .build()
        .unwrap();

    if user {
        if let Some(var) = arg(&args, "--seed-env") {
            let rt = std::env::var(var).expect("the refresh token variable");
            client
                .resume(&Secret::new(rt))
                .expect("resume the seeded session");
        } else {
            // The session arrives through the store.
            let deadline = Instant::now() + Duration::from_secs(15);
            while let Err(e) = client.token() {
                assert!(Instant::now() < deadline, "no session in the store: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    let calls = AtomicU64::new(0);
    let expired = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let invalid_grant = AtomicU64::new(0);
    let first_error: Mutex<Option<String>> = Mutex::new(None);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while Instant::now() < end {
                    calls.fetch_add(1, Relaxed);
                    match client.token() {
                        Ok(t) => {
                            let now_ms = SystemTime::now()
                                .duration_since(UNIX_EPOCH)
                                .unwrap()
                                .as_millis() as u64;
                            let exp = t.claims().and_then(|c| c.exp()).unwrap_or(0);
                            if now_ms >= exp * 1000 {
                                expired.fetch_add(1, Relaxed);
                            }
                        }
                        Err(e) => {
                            errors.fetch_add(1, Relaxed);
                            if e.refuses_refresh_token() || matches!(e, Error::LoginRequired(_)) {
                                invalid_grant.fetch_add(1, Relaxed);
                            }
                            first_error.lock().unwrap().get_or_insert(e.to_string());
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            });
        }
    });
    println!(
        "{}",
        serde_json::json!({
            "pid": std::process::id(),
            "requests": requests.load(Relaxed),
            "calls": calls.load(Relaxed),
            "expired": expired.load(Relaxed),
            "errors": errors.load(Relaxed),
            "invalid_grant": invalid_grant.load(Relaxed),
            "store_events": store_events.load(Relaxed),
            "first_error": first_error.lock().unwrap().clone(),
        })
    );
}
