//! TLS and the https rule against a real loopback HTTPS token endpoint: `tests/faults/server.py
//! --tls` (the one scripted server, Python's `ssl`; its `/mode/fixed/` route) behind a private
//! CA made by `tests/tls/gen-certs` (openssl) into a temp dir at test time. Checked through the core's ureq transport and through the
//! built CLI binary (`--ca-file`):
//!
//! - the private CA is refused by default, with a typed `Transport` error naming the problem;
//! - it is accepted with `Trust::CaFile` / `--ca-file`;
//! - a CA file that is not PEM is a `Config` error before any request;
//! - plain `http://` off loopback is `InsecureUrl` before any connection.
//!
//! Needs `openssl` and `python3` on PATH; no Keycloak.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokenward::{
    grant, Client, ClientConfig, Error, ErrorCode, HttpOptions, HttpRequest, Method, Provider,
    Transport, Trust, UreqTransport,
};

const SECRET: &str = "tls-test-client-secret-9f3c";
const TOKEN: &str = "tls-test-access-token";

mod scripted;
use scripted::{repo, ScriptedServer};

/// A fresh scratch dir for this test process under cargo's `target/tmp` (git-ignored). It holds
/// throw-away keys only; older runs' dirs are removed first.
fn temp_dir(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let prefix = format!("tw-tls-{tag}-");
    for old in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = old.file_name().to_string_lossy().into_owned();
        let stale = old
            .metadata()
            .and_then(|m| m.modified())
            .map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600))
            .unwrap_or(false);
        if name.starts_with(&prefix) && stale {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let dir = root.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gen_certs(dir: &Path) {
    let out = Command::new(repo().join("tests/tls/gen-certs"))
        .arg(dir)
        .output()
        .expect("tests/tls/gen-certs (needs bash and openssl)");
    assert!(
        out.status.success(),
        "gen-certs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Fixture {
    dir: PathBuf,
    /// The CA that signed the server's certificate.
    ca: PathBuf,
    /// A different private CA: valid PEM, wrong anchor.
    other_ca: PathBuf,
}

/// One set of certificates for every test in this file.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = temp_dir("pki");
        gen_certs(&dir);
        let other = dir.join("other");
        gen_certs(&other);
        Fixture {
            ca: dir.join("ca.pem"),
            other_ca: other.join("ca.pem"),
            dir,
        }
    })
}

/// The HTTPS endpoint for one test (stopped when dropped) and its token URL,
/// `https://127.0.0.1:PORT/mode/fixed/token` (any client gets `TOKEN`, 300 s).
fn serve(f: &Fixture) -> (ScriptedServer, String) {
    let server = ScriptedServer::start_tls(&f.dir.join("server.pem"), &f.dir.join("server.key"));
    let url = format!("{}/mode/fixed/token", server.url);
    (server, url)
}

fn options(trust: Trust) -> HttpOptions {
    HttpOptions {
        trust,
        timeout: Duration::from_secs(10),
        proxy_from_env: false,
        ..HttpOptions::default()
    }
}

fn client(url: &str, trust: Trust) -> tokenward::Result<Client> {
    Client::builder(
        Provider::from_token_url(url)?,
        ClientConfig::new("tls-client").secret(SECRET),
    )
    .http_options(options(trust))
    .build()
}

/// The certificate problem must be named, so the user knows to pass a CA file.
fn assert_certificate_refusal(e: &Error) {
    let Error::Transport(msg) = e else {
        panic!("expected Error::Transport for an untrusted certificate, got {e:?}");
    };
    let lower = msg.to_lowercase();
    assert!(
        lower.contains("certificate") || lower.contains("issuer"),
        "the message names the certificate problem: {msg}"
    );
    assert!(
        e.to_string().contains("--ca-file"),
        "the message says how to trust a private CA: {e}"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

#[test]
fn private_ca_is_refused_by_default() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let started = Instant::now();
    let e = client(&token_url, Trust::default())
        .unwrap()
        .token()
        .unwrap_err();
    assert_certificate_refusal(&e);
    assert_eq!(e.code(), ErrorCode::Transport);
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    println!("refused by default: {e}");
}

#[test]
fn private_ca_is_refused_by_the_platform_store_and_by_another_ca() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let e = client(&token_url, Trust::Platform)
        .unwrap()
        .token()
        .unwrap_err();
    assert_certificate_refusal(&e);
    let e = client(&token_url, Trust::CaFile(f.other_ca.clone()))
        .unwrap()
        .token()
        .unwrap_err();
    assert_certificate_refusal(&e);
}

#[test]
fn private_ca_is_accepted_with_the_ca_file() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let c = client(&token_url, Trust::CaFile(f.ca.clone())).unwrap();
    let t = c.token().unwrap();
    assert_eq!(t.access_token().expose(), TOKEN);
    assert_eq!(t.expires_in(), Some(300));
    assert!(
        std::sync::Arc::ptr_eq(&t, &c.token().unwrap()),
        "cached over TLS too"
    );
}

#[test]
fn a_ca_file_that_is_not_pem_is_a_config_error() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let dir = f.dir.join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let der = dir.join("ca.der");
    let der_out = Command::new("openssl")
        .args(["x509", "-in"])
        .arg(&f.ca)
        .args(["-outform", "DER", "-out"])
        .arg(&der)
        .output()
        .unwrap();
    assert!(der_out.status.success());
    let text = dir.join("notes.txt");
    std::fs::write(&text, "this is not a certificate\n").unwrap();
    let broken = dir.join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let key_only = f.dir.join("server.key");
    let missing = dir.join("missing.pem");
    for path in [&der, &text, &broken, &key_only, &missing] {
        let e = client(&token_url, Trust::CaFile(path.clone())).unwrap_err();
        assert!(
            matches!(e, Error::Config(_)),
            "{}: expected Error::Config, got {e:?}",
            path.display()
        );
        assert!(
            e.to_string().contains(&path.display().to_string()),
            "names the file: {e}"
        );
        // Same through the bare transport.
        assert!(matches!(
            UreqTransport::new(options(Trust::CaFile(path.clone()))),
            Err(Error::Config(_))
        ));
    }
}

#[test]
fn plain_http_off_loopback_is_insecure_url_before_any_connection() {
    for url in [
        "http://auth.example.com/realms/x/protocol/openid-connect/token",
        "http://10.0.0.1/realms/x/protocol/openid-connect/token",
        "http://127.0.0.1.nip.io/realms/x/protocol/openid-connect/token",
    ] {
        let e = Provider::from_token_url(url).unwrap_err();
        assert!(matches!(e, Error::InsecureUrl(_)), "{url}: {e:?}");
        let base = url.split("/realms/").next().unwrap();
        let e = Provider::keycloak(base, "x").unwrap_err();
        assert!(matches!(e, Error::InsecureUrl(_)), "{base}: {e:?}");
        // A hand-built request through the transport: refused before DNS or connect (those
        // would be Transport or Timeout errors, and take time).
        let transport = UreqTransport::new(options(Trust::default())).unwrap();
        let started = Instant::now();
        let mut form = tokenward::Params::new();
        form.add("grant_type", "client_credentials");
        form.add("client_secret", SECRET);
        let request = HttpRequest {
            method: Method::Post,
            url: url.to_string(),
            headers: vec![],
            form: Some(form),
        };
        let e = transport.send(&request).unwrap_err();
        assert!(matches!(e, Error::InsecureUrl(_)), "{url}: {e:?}");
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(!format!("{e} {e:?}").contains(SECRET));
    }
    // The same request builder with an https URL is fine; only the scheme decides.
    let p = Provider::from_token_url("https://auth.example.com/realms/x/t").unwrap();
    let config = ClientConfig::new("c").secret(SECRET);
    assert!(grant::client_credentials(&p, &config, &[]).is_ok());
}

/// The built CLI next to this test binary (`target/<profile>/tokenward`). `cargo test
/// --workspace` builds it; `cargo test -p tokenward` alone does not, hence the message.
fn cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = std::env::var_os("TW_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir.join("tokenward"));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p tokenward-cli` first (or set TW_CLI_BIN)",
        bin.display()
    );
    bin
}

/// Runs `tokenward token --token-url URL ...` with the secret in the environment.
fn run_cli(url: &str, extra: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let mut cmd = Command::new(cli());
    cmd.args(["token", "--token-url", url, "--client-id", "tls-client"])
        .args(["--client-secret-env", "TW_TLS_SECRET", "--timeout", "10"])
        .args(extra)
        .env("TW_TLS_SECRET", SECRET)
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("TOKENWARD_") {
            cmd.env_remove(k);
        }
    }
    // Each run asks the server: the CLI's default file store would hand a later run the token
    // an earlier one kept, without the TLS handshake this test is about.
    cmd.env("TOKENWARD_STORE", "memory");
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "the secret leaked"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn cli_refuses_the_private_ca_by_default_and_accepts_it_with_ca_file() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let (code, stdout, stderr) = run_cli(&token_url, &[]);
    assert_eq!(code, 4, "network exit code; stderr: {stderr}");
    assert!(stdout.is_empty());
    let lower = stderr.to_lowercase();
    assert!(
        lower.contains("certificate") || lower.contains("issuer"),
        "{stderr}"
    );

    let (code, stdout, stderr) = run_cli(&token_url, &["--ca-file".as_ref(), f.ca.as_ref()]);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stdout.trim(), TOKEN);

    let (code, _, stderr) = run_cli(&token_url, &["--ca-file".as_ref(), f.other_ca.as_ref()]);
    assert_eq!(code, 4, "another CA is refused too: {stderr}");
}

#[test]
fn cli_a_ca_file_that_is_not_pem_and_plain_http_off_loopback_are_usage_errors() {
    let f = fixture();
    let (_server, token_url) = serve(f);
    let text = f.dir.join("cli-not-pem.txt");
    std::fs::write(&text, "not a certificate\n").unwrap();
    let (code, stdout, stderr) = run_cli(&token_url, &["--ca-file".as_ref(), text.as_ref()]);
    assert_eq!(code, 2, "config exit code; stderr: {stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("cli-not-pem.txt"), "{stderr}");

    let (code, stdout, stderr) = run_cli(
        "http://auth.example.com/realms/x/protocol/openid-connect/token",
        &[],
    );
    assert_eq!(code, 2, "InsecureUrl is a usage error; stderr: {stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.to_lowercase().contains("https"), "{stderr}");
}
