//! Running the built `tokenward` binary and checking that no secret leaks from it.
//!
//! Every run goes through [`Tw::run`], which checks the captured output against every secret
//! registered so far ([`register_secret`]): none may appear on stderr, and on stdout only a
//! token the command is meant to print ([`Run::allow_on_stdout`] says which).

#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub const BIN: &str = env!("CARGO_BIN_EXE_tokenward");

fn secrets() -> &'static Mutex<HashSet<String>> {
    static S: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    S.get_or_init(Default::default)
}

/// Something no output may show (a client secret, a password, a refresh token).
pub fn register_secret(s: &str) {
    if s.len() >= 8 {
        secrets().lock().unwrap().insert(s.to_string());
    }
}

/// The outcome of one run of the binary.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    #[track_caller]
    pub fn fails(&self, code: i32, needles: &[&str]) -> &Self {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(self.stdout.is_empty(), "stdout on failure: {self:#?}");
        assert!(
            self.stderr.contains("tokenward: error: "),
            "no `tokenward: error: ` line: {self:#?}"
        );
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}: {self:#?}");
        }
        self
    }

    /// A `--json` failure: exit `code`, nothing on stdout, and stderr one JSON object whose
    /// `error` is returned.
    #[track_caller]
    pub fn json_error(&self, code: i32) -> serde_json::Value {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(self.stdout.is_empty(), "stdout on failure: {self:#?}");
        let v: serde_json::Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}): {self:#?}"));
        assert_eq!(v["error"]["exit"], code, "{self:#?}");
        v["error"].clone()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }
}

/// A scratch directory and environment for running the binary in isolation: no inherited
/// `TOKENWARD_*` variable, `HOME` inside the scratch directory.
pub struct Tw {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Tw {
    pub fn new(name: &str) -> Tw {
        // Unique per call: tests run in parallel and may share a name.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tw-cli-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tw {
            env: vec![("HOME".into(), dir.to_string_lossy().into_owned())],
            dir,
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Tw {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Runs `tokenward args...` with `stdin`. `printed` is the one token stdout may hold.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_command(self.command(args), args, stdin)
    }

    /// [`Tw::run`] with one more environment variable.
    pub fn run_env(&self, args: &[&str], name: &str, value: &str) -> Run {
        let mut command = self.command(args);
        command.env(name, value);
        self.run_command(command, args, None)
    }

    fn run_command(&self, mut command: Command, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tokenward binary runs");
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        let run = Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        check_no_leak(&run);
        run
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }

    /// Starts `tokenward args...` without waiting for it, for the commands a test must answer
    /// while they run (login's browser, device's code); stdin is closed.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tokenward binary runs");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Running {
            args: args.iter().map(|s| s.to_string()).collect(),
            child,
            stderr,
            shown: String::new(),
        }
    }
}

/// A `tokenward` process started by [`Tw::spawn`] and still running.
pub struct Running {
    args: Vec<String>,
    child: Child,
    stderr: BufReader<ChildStderr>,
    /// Standard error as far as it has been read.
    pub shown: String,
}

impl Running {
    /// Reads standard error a line at a time until `pick` accepts one (trimmed), and returns
    /// what it gave; if standard error ends first, kills the process and panics with `what`.
    #[track_caller]
    pub fn read_until<T>(&mut self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        loop {
            let mut line = String::new();
            if self.stderr.read_line(&mut line).unwrap() == 0 {
                let _ = self.child.kill();
                let status = self.child.wait();
                panic!("{what} ({status:?}): {}", self.shown);
            }
            self.shown.push_str(&line);
            if let Some(found) = pick(line.trim()) {
                return found;
            }
        }
    }

    /// The URL a login prints for the browser: the first line of standard error that is one.
    #[track_caller]
    pub fn printed_url(&mut self) -> String {
        self.read_until("login printed no URL", |l| {
            l.starts_with("http").then(|| l.to_string())
        })
    }

    /// Waits for the process to end. Returns its run (all of standard error, through the leak
    /// check like every run) and, apart, what standard error said after the lines read so far.
    pub fn finish(mut self) -> (Run, String) {
        let mut stdout = String::new();
        let mut out = self.child.stdout.take().unwrap();
        out.read_to_string(&mut stdout).unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        let run = Run {
            args: self.args,
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.shown + &rest,
        };
        check_no_leak(&run);
        (run, rest)
    }
}

/// `--keycloak URL --realm REALM --client-id ID`: how most tests name the provider and client.
pub fn keycloak_client<'a>(url: &'a str, realm: &'a str, client_id: &'a str) -> [&'a str; 6] {
    [
        "--keycloak",
        url,
        "--realm",
        realm,
        "--client-id",
        client_id,
    ]
}

/// `--token-url URL --client-id ID --client-secret-env VAR`: a confidential client named by
/// its token endpoint alone, its secret in an environment variable.
pub fn token_url_client<'a>(url: &'a str, client_id: &'a str, secret_env: &'a str) -> [&'a str; 6] {
    [
        "--token-url",
        url,
        "--client-id",
        client_id,
        "--client-secret-env",
        secret_env,
    ]
}

/// `COMMAND PROVIDER... MORE...`: a command line from its parts, so tests need not splice arrays.
pub fn args<'a>(command: &'a str, provider: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    [&[command][..], provider, more].concat()
}

impl Drop for Tw {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The leak check every run passes through. Standard error never shows a secret or a JWT;
/// standard output never shows a client secret or password (tokens there are the product, and
/// each test checks it printed only the one it asked for).
#[track_caller]
pub fn check_no_leak(run: &Run) {
    assert!(
        !has_jwt(&run.stderr),
        "a JWT-looking string on stderr: {run:#?}"
    );
    for s in secrets().lock().unwrap().iter() {
        assert!(
            !run.stderr.contains(s.as_str()),
            "a secret on stderr: {run:#?}"
        );
        let is_token = s.starts_with("eyJ");
        if !is_token {
            assert!(
                !run.stdout.contains(s.as_str()),
                "a secret on stdout: {run:#?}"
            );
        }
    }
}

/// True when `text` holds something shaped like a JWT: `eyJ` + base64url, a dot, more base64url.
/// (A login URL's random `state` may contain `eyJ` by chance, but never a dot after it.)
pub fn has_jwt(text: &str) -> bool {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    text.match_indices("eyJ").any(|(i, _)| {
        let rest = &text.as_bytes()[i..];
        let head = rest.iter().take_while(|c| b64(**c)).count();
        head >= 10 && rest.get(head) == Some(&b'.') && rest.get(head + 1).is_some_and(|c| b64(*c))
    })
}

/// Checks that stdout holds no registered secret except those in `allowed`.
#[track_caller]
pub fn stdout_only(run: &Run, allowed: &[&str]) {
    for s in secrets().lock().unwrap().iter() {
        if !allowed.contains(&s.as_str()) {
            assert!(
                !run.stdout.contains(s.as_str()),
                "unexpected secret on stdout: {run:#?}"
            );
        }
    }
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A JWT with this payload and a dummy signature.
pub fn fake_jwt(payload: &str) -> String {
    format!(
        "{}.{}.c2ln",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(payload.as_bytes())
    )
}

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub fn mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
