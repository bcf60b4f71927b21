//! A minimal keep-alive token endpoint on loopback, so fetch benchmarks measure the clients and
//! not Keycloak. It answers every request with a fresh opaque token and counts them.
//!
//! Not the tests' scripted server (`tests/faults/server.py`) on purpose: `cc_fetch_warm` and
//! `cc_fetch_cold` put tokenward beside oauth2-rs at about 120-200 µs a fetch, and a keep-alive
//! round trip through server.py alone costs about 400 µs on the project's machine (Python,
//! one thread per connection, the GIL), which would bury the difference being measured. This
//! one answers from a thread of the benchmark's own process in a few µs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

pub struct LocalTokenServer {
    pub token_url: String,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

impl LocalTokenServer {
    /// Starts the server; tokens say `expires_in` seconds. It runs until the process exits.
    pub fn start(expires_in: u64) -> LocalTokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let token_url = format!(
            "http://{}/realms/bench/protocol/openid-connect/token",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                accepted.fetch_add(1, SeqCst);
                let counter = counter.clone();
                thread::spawn(move || {
                    let _ = stream.set_nodelay(true);
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    loop {
                        let mut content_length = 0usize;
                        let mut line = String::new();
                        // Request line and headers.
                        loop {
                            line.clear();
                            match reader.read_line(&mut line) {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                            if line == "\r\n" {
                                break;
                            }
                            let lower = line.to_ascii_lowercase();
                            if let Some(v) = lower.strip_prefix("content-length:") {
                                content_length = v.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0; content_length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let n = counter.fetch_add(1, SeqCst) + 1;
                        let json = format!(
                            r#"{{"access_token":"bench-token-{n}","token_type":"Bearer","expires_in":{expires_in},"not-before-policy":0,"scope":"profile email"}}"#
                        );
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                            json.len()
                        );
                        if writer.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        LocalTokenServer {
            token_url,
            requests,
            connections,
        }
    }

    /// TCP connections accepted so far (keep-alive clients reuse one).
    pub fn connections(&self) -> usize {
        self.connections.load(SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(SeqCst)
    }
}
