//! What a process adopts from the shared store, and what it leaves there (issue 18's last two
//! gaps), with an in-process provider (token endpoint and key set) and a `MemoryStore` shared
//! by clients that stand for separate processes:
//!
//! - a token adopted from the store has its ID token verified like one received from the
//!   server; a record whose ID token does not verify is ignored and overwritten;
//! - a refresh token the server refuses under the store's lock deletes the stored session, so
//!   the other processes learn the session is over from the store, not each by a request.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use tokenward::native::store::{MemoryStore, Store};
use tokenward::{Client, ClientConfig, Error, HttpRequest, HttpResponse, ManualClock, Provider};

const ISSUER: &str = "https://sso.example.com/realms/r";

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn es256_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

fn sign(key: &EcdsaKeyPair, claims: &Value) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": "k1"});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig.as_ref()))
}

/// The provider: its key set, and a token endpoint that counts requests, answers with an ID
/// token signed by its key, and refuses refresh tokens once told to.
struct Idp {
    key: EcdsaKeyPair,
    now: u64,
    requests: AtomicUsize,
    refuse_refresh: Mutex<bool>,
}

impl Idp {
    fn new(now: u64) -> Arc<Idp> {
        Arc::new(Idp {
            key: es256_key(),
            now,
            requests: AtomicUsize::new(0),
            refuse_refresh: Mutex::new(false),
        })
    }

    fn id_token(&self, key: &EcdsaKeyPair) -> String {
        sign(
            key,
            &json!({"iss": ISSUER, "aud": "app", "azp": "app", "sub": "u1",
                    "iat": self.now, "exp": self.now + 300}),
        )
    }

    fn answer(&self, req: &HttpRequest) -> tokenward::Result<HttpResponse> {
        if req.url.ends_with("/certs") {
            let p = self.key.public_key().as_ref();
            let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                "kid": "k1", "x": b64(&p[1..33]), "y": b64(&p[33..65])}]});
            return Ok(HttpResponse::new(
                200,
                vec![],
                jwks.to_string().into_bytes(),
            ));
        }
        let body = req.body().unwrap().expose().to_string();
        if body.contains("grant_type=refresh_token") && *self.refuse_refresh.lock().unwrap() {
            self.requests.fetch_add(1, SeqCst);
            return Ok(HttpResponse::new(
                400,
                vec![],
                br#"{"error":"invalid_grant","error_description":"Token is not active"}"#.to_vec(),
            ));
        }
        let n = self.requests.fetch_add(1, SeqCst) + 1;
        let answer = json!({"access_token": format!("at-{n}"), "token_type": "Bearer",
            "expires_in": 300, "refresh_token": format!("rt-{n}"), "refresh_expires_in": 1800,
            "id_token": self.id_token(&self.key)});
        Ok(HttpResponse::new(
            200,
            vec![],
            answer.to_string().into_bytes(),
        ))
    }
}

/// A client standing for one process: its own cache, the shared store.
fn process(
    idp: &Arc<Idp>,
    clock: &Arc<ManualClock>,
    store: &Arc<MemoryStore>,
    config: ClientConfig,
    said: &Arc<Mutex<Vec<String>>>,
) -> Client {
    let i = idp.clone();
    let said = said.clone();
    Client::builder(
        Provider::keycloak("https://sso.example.com", "r").unwrap(),
        config,
    )
    .transport(Arc::new(move |req: &HttpRequest| i.answer(req)))
    .clock(clock.clone())
    .shared_store(store.clone())
    .on_store_event(move |m| said.lock().unwrap().push(m.to_string()))
    .build()
    .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn an_adopted_token_has_a_verified_id_token_and_a_forged_one_is_not_adopted() {
    let idp = Idp::new(now());
    let clock = Arc::new(ManualClock::new(idp.now));
    let store = Arc::new(MemoryStore::new());
    let said = Arc::new(Mutex::new(Vec::new()));
    let service = || ClientConfig::new("app").secret("s3cret");

    let a = process(&idp, &clock, &store, service(), &said);
    let t = a.token().unwrap();
    assert!(t.id_token_claims().is_some());
    assert_eq!(idp.requests.load(SeqCst), 1);

    // Another process adopts the stored token (no request) with its ID token verified.
    let b = process(&idp, &clock, &store, service(), &said);
    let t = b.token().unwrap();
    assert_eq!(t.access_token().expose(), "at-1");
    assert_eq!(idp.requests.load(SeqCst), 1);
    let claims = t
        .id_token_claims()
        .expect("the adopted ID token's verified claims");
    assert_eq!(claims.subject(), Some("u1"));

    // A record whose ID token is signed by another key (a forger who can write to the store):
    // not adopted; the process renews on its own and overwrites it.
    let key = a.token_source().store_key().unwrap().to_string();
    let mut record: Value = serde_json::from_slice(&store.read(&key).unwrap().unwrap()).unwrap();
    let forged = idp.id_token(&es256_key());
    record["token"]["id_token"] = forged.clone().into();
    record["token"]["access_token"] = "forged-at".into();
    store
        .write(&key, record.to_string().as_bytes(), None)
        .unwrap();
    let c = process(&idp, &clock, &store, service(), &said);
    let t = c.token().unwrap();
    assert_eq!(t.access_token().expose(), "at-2");
    assert!(t.id_token_claims().is_some());
    assert_eq!(idp.requests.load(SeqCst), 2);
    let said = said.lock().unwrap().join("\n");
    assert!(said.contains("ID token does not verify"), "{said}");
    assert!(
        !said.contains(&forged) && !said.contains("forged-at"),
        "{said}"
    );
    let stored: Value = serde_json::from_slice(&store.read(&key).unwrap().unwrap()).unwrap();
    assert_eq!(stored["token"]["access_token"], "at-2", "overwritten");
}

#[test]
fn a_refused_refresh_token_deletes_the_stored_session_for_every_process() {
    let idp = Idp::new(now());
    let clock = Arc::new(ManualClock::new(idp.now));
    let store = Arc::new(MemoryStore::new());
    let said = Arc::new(Mutex::new(Vec::new()));
    // A public client: a user's session, renewed only by its refresh token.
    let user = || ClientConfig::new("app");

    let a = process(&idp, &clock, &store, user(), &said);
    a.resume(&"rt-login".into()).unwrap();
    let key = a.token_source().store_key().unwrap().to_string();
    assert!(store.read(&key).unwrap().is_some());
    let b = process(&idp, &clock, &store, user(), &said);
    assert_eq!(b.token().unwrap().access_token().expose(), "at-1");
    assert_eq!(idp.requests.load(SeqCst), 1);

    // The session ends at the server (revoked, idle too long); the access token expires.
    *idp.refuse_refresh.lock().unwrap() = true;
    clock.advance(Duration::from_secs(301));
    match a.token() {
        Err(Error::LoginRequired(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(idp.requests.load(SeqCst), 2, "one refused refresh");
    assert!(
        store.read(&key).unwrap().is_none(),
        "the dead session is deleted"
    );

    // The other processes learn it from the store: a new one, with nothing of its own, sends
    // nothing.
    let c = process(&idp, &clock, &store, user(), &said);
    match c.token() {
        Err(Error::LoginRequired(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(idp.requests.load(SeqCst), 2);
}
