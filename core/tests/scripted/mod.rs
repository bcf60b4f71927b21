//! `tests/faults/server.py`, the one scripted loopback token endpoint every suite shares, in a
//! child process for a Rust test: started with `python3`, killed by its PID on drop. Its routes
//! are listed in its docstring.

#![allow(dead_code)] // each test binary uses its part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct ScriptedServer {
    child: Child,
    /// `http://127.0.0.1:PORT` (or `https://` with TLS), no trailing slash.
    pub url: String,
    state: PathBuf,
}

impl ScriptedServer {
    /// Plain HTTP; `lifetime` is the `expires_in` of the `/renew/`, `/seq/` and `/ok/` tokens.
    pub fn start(lifetime: u64) -> ScriptedServer {
        Self::spawn(lifetime, None)
    }

    /// HTTPS with this certificate chain and key (e.g. `tests/tls/gen-certs`' server.pem/.key).
    pub fn start_tls(cert: &Path, key: &Path) -> ScriptedServer {
        Self::spawn(8, Some((cert, key)))
    }

    fn spawn(lifetime: u64, tls: Option<(&Path, &Path)>) -> ScriptedServer {
        static N: AtomicUsize = AtomicUsize::new(0);
        let state = std::env::temp_dir().join(format!(
            "tw-scripted-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(repo().join("tests/faults/server.py"))
            .arg("--state")
            .arg(&state)
            .arg("--lifetime")
            .arg(lifetime.to_string())
            // Its stdin is our pipe: should this process die without dropping us, it ends too.
            .arg("--stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some((cert, key)) = tls {
            cmd.arg("--tls").arg(cert).arg(key);
        }
        let mut child = cmd
            .spawn()
            .expect("python3 runs tests/faults/server.py, the shared scripted server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "tests/faults/server.py said {url:?}"
        );
        ScriptedServer { child, url, state }
    }

    /// `(requests, done)` of a `/renew/` or `/seq/` session so far.
    pub fn stats(&self, session: &str) -> (u64, u64) {
        let text = std::fs::read_to_string(self.state.join(format!("{session}.stats")))
            .unwrap_or_default();
        let get = |k: &str| {
            text.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (get("requests"), get("done"))
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
