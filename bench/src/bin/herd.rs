//! The thundering-herd count: 8 threads × 10,000 `token()` calls spread over ~6 s, with 2 s
//! tokens from a loopback endpoint. A cache that renews once per lifetime makes about
//! 6 s / (2 s − early-refresh margin) ≈ 4 requests.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tokenward::{Client, ClientConfig, Provider};
use tokenward_bench::LocalTokenServer;

const THREADS: usize = 8;
const CALLS: usize = 10_000;
const SPAN: Duration = Duration::from_secs(6);

fn main() {
    let server = LocalTokenServer::start(2);
    let client = Arc::new(
        Client::new(
            Provider::from_token_url(&server.token_url).unwrap(),
            ClientConfig::new("svc").secret("herd-secret"),
        )
        .unwrap(),
    );
    let pause = SPAN / CALLS as u32;
    let start = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let client = client.clone();
            thread::spawn(move || {
                let mut errors = 0;
                for i in 0..CALLS {
                    if client.token().is_err() {
                        errors += 1;
                    }
                    // Spread the calls evenly over the span.
                    let due = pause * (i as u32 + 1);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        thread::sleep(wait);
                    }
                }
                errors
            })
        })
        .collect();
    let errors: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "herd/tokenward: {} token requests for {} calls over {elapsed:.1} s ({errors} errors; ideal ≈ 4)",
        server.requests(),
        THREADS * CALLS
    );
}
