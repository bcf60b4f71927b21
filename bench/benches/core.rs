//! tokenward's hot paths beside oauth2-rs (with ureq) in the same run. Medians are read from
//! criterion's estimates by `bench/report`.

use std::hint::black_box;
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{AuthType, ClientId, ClientSecret, PkceCodeChallenge, TokenResponse, TokenUrl};
use tokenward::token::parse_token_response;
use tokenward::{Client, ClientConfig, HttpResponse, OsRandom, Pkce, Provider, SentAt};
use tokenward_bench::LocalTokenServer;

fn tokenward_client(url: &str) -> Client {
    Client::new(
        Provider::from_token_url(url).unwrap(),
        ClientConfig::new("svc").secret("bench-secret"),
    )
    .unwrap()
}

/// A client whose cache is shared through the store `url` names.
fn store_client(url: &str, store: &str) -> Client {
    Client::builder(
        Provider::from_token_url(url).unwrap(),
        ClientConfig::new("svc").secret("bench-secret"),
    )
    .store(store)
    .build()
    .unwrap()
}

/// A redis-server of the bench's own on a free loopback port (with its own directory), if one
/// is on PATH; stopped by PID when dropped.
struct Redis {
    child: std::process::Child,
    dir: std::path::PathBuf,
    url: String,
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("tw-bench-redis-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let redis = Redis {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}/0"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(5) {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Issue 18: one renewal through a shared store (take its lock, re-read the record, request,
/// write, release) beside a plain renewal, all against the in-process token server.
fn renew(c: &mut Criterion, server: &LocalTokenServer) {
    let plain = tokenward_client(&server.token_url);
    plain.token().unwrap();
    c.bench_function("renew/tokenward/no_store", |b| {
        b.iter(|| black_box(plain.refresh().unwrap()))
    });
    let dir = std::env::temp_dir().join(format!("tw-bench-renew-{}", std::process::id()));
    let file = store_client(
        &server.token_url,
        &tokenward::native::store::file_url(&dir).unwrap(),
    );
    file.token().unwrap();
    c.bench_function("renew/tokenward/file_store", |b| {
        b.iter(|| black_box(file.refresh().unwrap()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    match Redis::start() {
        Some(redis) => {
            let shared = store_client(&server.token_url, &redis.url);
            shared.token().unwrap();
            c.bench_function("renew/tokenward/redis", |b| {
                b.iter(|| black_box(shared.refresh().unwrap()))
            });
        }
        None => eprintln!(
            "bench: renew/tokenward/redis skipped: no redis-server on PATH (apt-get install redis-server)"
        ),
    }
}

fn oauth2_client(
    url: &str,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new("svc".into()))
        .set_client_secret(ClientSecret::new("bench-secret".into()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(url.to_string()).unwrap())
}

fn cached_token(c: &mut Criterion, server: &LocalTokenServer) {
    let client = tokenward_client(&server.token_url);
    client.token().unwrap();
    c.bench_function("cached_token/tokenward/1_thread", |b| {
        b.iter(|| black_box(client.token().unwrap()))
    });

    let client = Arc::new(client);
    c.bench_function("cached_token/tokenward/2_threads", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, &client, |c| drop(black_box(c.token().unwrap())))
        })
    });

    // Issue 18: the same with the file store configured. The fresh path must not touch it.
    let dir = std::env::temp_dir().join(format!("tw-bench-store-{}", std::process::id()));
    let stored = store_client(
        &server.token_url,
        &tokenward::native::store::file_url(&dir).unwrap(),
    );
    stored.token().unwrap();
    c.bench_function("cached_token/tokenward_file_store/1_thread", |b| {
        b.iter(|| black_box(stored.token().unwrap()))
    });
    let _ = std::fs::remove_dir_all(&dir);

    // The floor the issue names: an uncontended RwLock read plus an Arc clone.
    let baseline = RwLock::new(Some(Arc::new(String::from("token"))));
    c.bench_function("cached_token/baseline_rwlock_arc/1_thread", |b| {
        b.iter(|| black_box(baseline.read().unwrap().clone()))
    });
    // The same floor read from two threads at once: what the shared reference counts cost on
    // this machine's cores, beside tokenward's 2-thread row.
    let baseline = Arc::new(baseline);
    c.bench_function("cached_token/baseline_rwlock_arc/2_threads", |b| {
        b.iter_custom(|iters| {
            on_two_threads(iters, &baseline, |l| {
                drop(black_box(l.read().unwrap().clone()))
            })
        })
    });
}

/// Wall time for two threads each running `call` `iters` times on the shared `value`.
fn on_two_threads<T: Send + Sync + 'static>(
    iters: u64,
    value: &Arc<T>,
    call: fn(&T),
) -> std::time::Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let value = Arc::clone(value);
            thread::spawn(move || (0..iters).for_each(|_| call(&value)))
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    start.elapsed()
}

fn pkce(c: &mut Criterion) {
    c.bench_function("pkce_pair/tokenward", |b| {
        b.iter(|| black_box(Pkce::generate(&OsRandom).unwrap()))
    });
    c.bench_function("pkce_pair/oauth2-rs", |b| {
        b.iter(|| black_box(PkceCodeChallenge::new_random_sha256()))
    });
}

fn parse(c: &mut Criterion) {
    // A Keycloak-sized response: a ~1 KB JWT plus the usual extras.
    let jwt = format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        "eyJleHAiOjE3MDAwMDAzMDAsImlhdCI6MTcwMDAwMDAwMCwianRpIjoiYWJjIiwiaXNzIjoiaHR0cDovLzEyNy4wLjAuMTo4MDgwL3JlYWxtcy92aW9uIiwiYXVkIjoiYWNjb3VudCIsInN1YiI6IjEyMyIsInR5cCI6IkJlYXJlciIsImF6cCI6InZpb24tc2VydmljZSIsInJlYWxtX2FjY2VzcyI6eyJyb2xlcyI6WyJvZmZsaW5lX2FjY2VzcyIsInVtYV9hdXRob3JpemF0aW9uIl19LCJzY29wZSI6InByb2ZpbGUgZW1haWwifQ",
        "x".repeat(342)
    );
    let body = format!(
        r#"{{"access_token":"{jwt}","expires_in":300,"refresh_expires_in":0,"token_type":"Bearer","not-before-policy":0,"scope":"profile email"}}"#
    );
    let resp = HttpResponse::new(200, vec![], body.clone().into_bytes());
    let sent = SentAt {
        monotonic: Duration::ZERO,
        unix: 1_700_000_000,
    };
    c.bench_function("token_parse/tokenward", |b| {
        b.iter(|| black_box(parse_token_response(&resp, sent).unwrap()))
    });
    c.bench_function("token_parse/oauth2-rs", |b| {
        b.iter(|| black_box(serde_json::from_slice::<BasicTokenResponse>(body.as_bytes()).unwrap()))
    });
}

fn fetch(c: &mut Criterion, server: &LocalTokenServer) {
    let url = server.token_url.clone();
    let warm = tokenward_client(&url);
    c.bench_function("cc_fetch_warm/tokenward", |b| {
        b.iter(|| black_box(warm.client_credentials().unwrap()))
    });
    let o2 = oauth2_client(&url);
    let agent = oauth2::ureq::builder().redirects(0).build();
    c.bench_function("cc_fetch_warm/oauth2-rs", |b| {
        b.iter(|| {
            black_box(
                o2.exchange_client_credentials()
                    .request(&agent)
                    .unwrap()
                    .access_token()
                    .secret()
                    .len(),
            )
        })
    });
    c.bench_function("cc_fetch_cold/tokenward", |b| {
        b.iter(|| black_box(tokenward_client(&url).client_credentials().unwrap()))
    });
    c.bench_function("cc_fetch_cold/oauth2-rs", |b| {
        b.iter(|| {
            let agent = oauth2::ureq::builder().redirects(0).build();
            black_box(
                oauth2_client(&url)
                    .exchange_client_credentials()
                    .request(&agent)
                    .unwrap()
                    .access_token()
                    .secret()
                    .len(),
            )
        })
    });
}

/// An RS256 access token and its key set, from a 2048-bit key openssl makes for this run.
fn signed_token() -> (String, String, jsonwebtoken::DecodingKey) {
    let dir = std::env::temp_dir().join(format!("tw-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        key.to_str().unwrap(),
    ]);
    let modulus = openssl(&["rsa", "-in", key.to_str().unwrap(), "-noout", "-modulus"]);
    let hex = modulus.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let pem = std::fs::read(&key).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    use base64::Engine as _;
    let n64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&n);
    let jwks = format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"{n64}","e":"AQAB"}}]}}"#
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": ISSUER, "sub": "u1", "typ": "Bearer", "azp": "svc",
        "aud": "account", "iat": now, "exp": now + 3600, "realm_access": {"roles": ["user"]}});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&n64, "AQAB").unwrap();
    (token, jwks, decoding)
}

const ISSUER: &str = "http://127.0.0.1:9/realms/bench";

/// Verifying an access token (RS256, the key cached): signature and claims.
fn verify(c: &mut Criterion) {
    let (token, jwks, decoding) = signed_token();
    let transport = move |_: &tokenward::HttpRequest| {
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: jwks.clone().into_bytes().into(),
        })
    };
    let client = Client::builder(
        Provider::keycloak("http://127.0.0.1:9", "bench").unwrap(),
        ClientConfig::new("svc").secret("bench-secret"),
    )
    .transport(Arc::new(transport))
    .build()
    .unwrap();
    let requirements = tokenward::AccessTokenRequirements::default();
    client.verify_access_token(&token, &requirements).unwrap();
    c.bench_function("verify_rs256/tokenward", |b| {
        b.iter(|| {
            black_box(
                client
                    .verify_access_token(black_box(&token), &requirements)
                    .unwrap(),
            )
        })
    });
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    c.bench_function("verify_rs256/jsonwebtoken", |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(
                    black_box(&token),
                    &decoding,
                    &validation,
                )
                .unwrap(),
            )
        })
    });
}

fn all(c: &mut Criterion) {
    let server = LocalTokenServer::start(3600);
    cached_token(c, &server);
    pkce(c);
    parse(c);
    fetch(c, &server);
    renew(c, &server);
    verify(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(30);
    targets = all
}
criterion_main!(benches);
