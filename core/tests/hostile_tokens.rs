//! Hostile tokens and key sets (issue 16, "Tests"), from `tests/faults/server.py`'s scripted
//! provider (`/jwks/<set>/keys`, `/token`, `/stats`) through the real ureq transport: tokens
//! signed here with ring (ES256), a key set the test PUTs, and the server's own 5 MB and
//! 10,000-key sets. Every case must come back as `Error::InvalidToken` with the check it failed,
//! a message that says what to look at, and no token in it; none may panic. An unknown-`kid`
//! flood from 8 threads must cost at most one refetch of the key set.
//!
//! `cargo test -p tokenward --test hostile_tokens -- --nocapture` prints the case -> check table.

mod scripted;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use scripted::ScriptedServer;
use tokenward::{
    AccessTokenRequirements, Client, ClientConfig, Error, HttpOptions, LoginOptions, ManualClock,
    TokenCheck,
};

const CLIENT_ID: &str = "app";
const API: &str = "api";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An ES256 key made for this run, as the provider (or a forger) holds it.
struct Signer {
    key: EcdsaKeyPair,
    kid: String,
}

impl Signer {
    fn new(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        Signer {
            key,
            kid: kid.into(),
        }
    }

    /// The uncompressed point 0x04 || x || y.
    fn public(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    fn jwk(&self) -> Value {
        let p = self.public();
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
               "x": b64(&p[1..33]), "y": b64(&p[33..65])})
    }

    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }
}

/// An RSA public key as a provider publishes it (2048-bit modulus): the secret an RS/HS
/// confusion forger HMACs with. Its private half never existed; nothing here needs it.
fn rsa_jwk() -> Value {
    let mut n: Vec<u8> = (0..256u32).map(|i| (i * 37 + 11) as u8).collect();
    n[0] |= 0x80;
    n[255] |= 1;
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa1", "n": b64(&n), "e": "AQAB"})
}

/// A JWT with this header, signed by HMAC-SHA256 with `secret` (the forger's "signature").
fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(tag.as_ref()))
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// The scripted provider `/jwks/<set>` of the server.
struct Provider<'a> {
    server: &'a ScriptedServer,
    set: String,
}

impl Provider<'_> {
    fn base(&self) -> String {
        format!("{}/jwks/{}", self.server.url, self.set)
    }

    fn put(&self, what: &str, content_type: &str, body: &[u8]) {
        ureq::put(&format!("{}/{what}", self.base()))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap();
    }

    fn put_keys(&self, keys: &[Value]) {
        let set = json!({ "keys": keys }).to_string();
        self.put("keys", "application/json", set.as_bytes());
    }

    /// GETs of the key set so far, as the server counted them.
    fn gets(&self) -> u64 {
        let body = ureq::get(&format!("{}/stats", self.base()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str::<Value>(&body).unwrap()["gets"]
            .as_u64()
            .unwrap()
    }

    /// A client of this provider, by discovery (issuer `<base>`, jwks_uri `<base>/keys`).
    fn client(&self, clock: Option<Arc<ManualClock>>, options: HttpOptions) -> Client {
        let config = ClientConfig::new(CLIENT_ID)
            .secret("hostile-suite-secret")
            .redirect_uri(REDIRECT)
            .scope("openid");
        let mut builder = Client::discover(&self.base(), config).http_options(options);
        if let Some(clock) = clock {
            builder = builder.clock(clock);
        }
        builder.build().unwrap()
    }
}

fn provider<'a>(server: &'a ScriptedServer, set: &str) -> Provider<'a> {
    Provider {
        server,
        set: set.into(),
    }
}

/// One row of the table: the case, what came back, and the checks on it.
struct Outcome {
    case: String,
    got: String,
}

/// Asserts `result` is the `want` check, that its message names `hint` (what to look at), and
/// that neither the message nor the `Debug` form holds any part of `token` (or the other
/// secrets in `secrets`).
fn expect<T>(
    table: &mut Vec<Outcome>,
    case: &str,
    result: tokenward::Result<T>,
    want: TokenCheck,
    hint: &str,
    token: &str,
    secrets: &[&str],
) {
    let e = match result {
        Ok(_) => panic!("{case}: accepted; expected the `{}` check", want.as_str()),
        Err(e) => e,
    };
    let message = e.to_string();
    assert_eq!(
        e.token_check(),
        Some(want),
        "{case}: expected InvalidToken {{ check: {} }}, got {e:?}",
        want.as_str()
    );
    assert!(
        message.to_lowercase().contains(&hint.to_lowercase()),
        "{case}: the message does not say what to check ({hint:?}): {message}"
    );
    for shown in [message.clone(), format!("{e:?}")] {
        assert!(!shown.contains(token), "{case}: the token is in {shown}");
        // Nor any part of it: header, payload or signature (the short `alg: none` one aside).
        for part in token.split('.').filter(|p| p.len() >= 16) {
            assert!(
                !shown.contains(part),
                "{case}: a part of the token is in {shown}"
            );
        }
        for s in secrets {
            assert!(!shown.contains(s), "{case}: a secret is in {shown}");
        }
    }
    table.push(Outcome {
        case: case.into(),
        got: format!("{} ({})", want.as_str(), short(&message)),
    });
}

fn short(message: &str) -> String {
    let m: String = message.chars().take(150).collect();
    if m.len() < message.len() {
        m + "..."
    } else {
        m
    }
}

fn print(title: &str, table: &[Outcome]) {
    let width = table.iter().map(|o| o.case.len()).max().unwrap_or(0);
    eprintln!("\n{title}\n{:width$} | error check (message)", "case");
    eprintln!("{}-|-{}", "-".repeat(width), "-".repeat(60));
    for o in table {
        eprintln!("{:width$} | {}", o.case, o.got);
    }
}

/// An access token as Keycloak issues it (payload `typ: Bearer`), for the API `api`.
fn access_claims(issuer: &str) -> Value {
    let t = now();
    json!({"iss": issuer, "aud": [API, "account"], "azp": CLIENT_ID, "typ": "Bearer",
           "sub": "user-1", "exp": t + 300, "iat": t, "jti": "at-1", "scope": "openid"})
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn api() -> AccessTokenRequirements {
    AccessTokenRequirements {
        audience: Some(API.into()),
        ..AccessTokenRequirements::default()
    }
}

/// A provider at `/jwks/<set>` publishing a fresh ES256 key `ec1` (and `others`): the key the
/// genuine tokens of a test are signed with.
fn provider_with_key<'a>(
    server: &'a ScriptedServer,
    set: &str,
    others: &[Value],
) -> (Provider<'a>, Signer) {
    let op = provider(server, set);
    let key = Signer::new("ec1");
    op.put_keys(&[&[key.jwk()], others].concat());
    (op, key)
}

#[test]
fn hostile_access_tokens_are_typed_errors_without_the_token() {
    let server = ScriptedServer::start(8);
    let rsa = rsa_jwk();
    let (op, good_key) = provider_with_key(&server, "at", std::slice::from_ref(&rsa));
    let client = op.client(None, HttpOptions::default());
    let iss = op.base();
    let claims = access_claims(&iss);
    let mut table = Vec::new();

    let good = good_key.sign(&claims);
    let verified = client.verify_access_token(&good, &api()).unwrap();
    assert_eq!(verified.subject(), Some("user-1"));
    table.push(Outcome {
        case: "good ES256 token (control)".into(),
        got: "Ok: verified".into(),
    });

    // RS/HS confusion: HS256 tokens whose secret is public (the RSA key's JWK, its modulus, the
    // EC key's point), naming the key the forger hopes is used as the HMAC secret.
    let hs256_with = |kid: &str, secret: &[u8]| {
        hs256(
            &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
            &claims,
            secret,
        )
    };
    let rsa_modulus = URL_SAFE_NO_PAD.decode(rsa["n"].as_str().unwrap()).unwrap();
    // Bad signatures: a flipped byte in the signature; a payload swapped under a valid one.
    let (input, sig) = good.rsplit_once('.').unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    raw[10] ^= 0x01;
    let flipped = format!("{input}.{}", b64(&raw));
    let elevated = with(claims.clone(), json!({"sub": "admin"}));
    let (header, _) = good.split_once('.').unwrap();
    let swapped = format!("{header}.{}.{sig}", b64(elevated.to_string().as_bytes()));
    let forger = Signer::new("ec1");
    // Genuinely signed, with claims that must not pass.
    let signed_with = |changes: Value| good_key.sign(&with(claims.clone(), changes));
    let t = now();
    // 70 KB: a validly signed token padded past the 64 KB cap.
    let big = signed_with(json!({"pad": "x".repeat(70 * 1024)}));
    assert!(big.len() > 70 * 1024);

    // (case, token, the check that refuses it, a word its message must say), in table order.
    let cases: Vec<(&str, String, TokenCheck, &str)> = vec![
        (
            "alg: none",
            unsigned(&json!({"alg": "none", "typ": "JWT", "kid": "ec1"}), &claims),
            TokenCheck::Algorithm,
            "alg: none",
        ),
        (
            "alg: None (other case)",
            unsigned(&json!({"alg": "None"}), &claims),
            TokenCheck::Algorithm,
            "not supported",
        ),
        (
            "HS256, secret = the RSA key's JWK",
            hs256_with("rsa1", rsa.to_string().as_bytes()),
            TokenCheck::Algorithm,
            "shared secret",
        ),
        (
            "HS256, secret = the RSA modulus",
            hs256_with("rsa1", &rsa_modulus),
            TokenCheck::Algorithm,
            "shared secret",
        ),
        (
            "HS256, secret = the EC public key",
            hs256_with("ec1", good_key.public()),
            TokenCheck::Algorithm,
            "shared secret",
        ),
        (
            "bad signature (a byte flipped)",
            flipped,
            TokenCheck::Signature,
            "signature",
        ),
        (
            "payload swapped under a valid signature",
            swapped,
            TokenCheck::Signature,
            "altered",
        ),
        (
            "signed by another key with the same kid",
            forger.sign(&claims),
            TokenCheck::Signature,
            "not issued by this provider",
        ),
        (
            "unknown kid",
            forger.sign_as("kid-nobody-published", &claims),
            TokenCheck::Key,
            "key set",
        ),
        // An ES256 token naming the RSA key: a key of another type is no key for it.
        (
            "ES256 token naming the RSA key's kid",
            good_key.sign_as("rsa1", &claims),
            TokenCheck::Key,
            "key set",
        ),
        (
            "wrong iss",
            signed_with(json!({"iss": "https://evil.example/realms/vion"})),
            TokenCheck::Issuer,
            "expected issuer",
        ),
        (
            "wrong aud",
            signed_with(json!({"aud": ["billing"]})),
            TokenCheck::Audience,
            "audience mapper",
        ),
        (
            "no aud",
            signed_with(json!({"aud": null})),
            TokenCheck::Audience,
            "audience mapper",
        ),
        (
            "expired (1 h ago)",
            signed_with(json!({"exp": t - 3600, "iat": t - 7200})),
            TokenCheck::Expired,
            "clock",
        ),
        (
            "no exp",
            signed_with(json!({"exp": null})),
            TokenCheck::Expired,
            "exp",
        ),
        (
            "future iat (+1 h)",
            signed_with(json!({"iat": t + 3600})),
            TokenCheck::IssuedInFuture,
            "clock",
        ),
        (
            "an ID token sent as access token",
            signed_with(json!({"typ": "ID"})),
            TokenCheck::Type,
            "access token",
        ),
        ("a token of 70 KB", big, TokenCheck::Format, "64 KB"),
        (
            "an opaque token",
            "tw-opaque-0123456789abcdef0123456789".into(),
            TokenCheck::Format,
            "signed JWT",
        ),
        (
            "four dot-separated parts",
            "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJlLXNpZ24.ZXh0cmEtcGFydA".into(),
            TokenCheck::Format,
            "signed JWT",
        ),
        (
            "header not base64url",
            "!!!!!!!!!!!!!!!!!!!!.e30.c2lnbmF0dXJlLXNpZ24".into(),
            TokenCheck::Format,
            "signed JWT",
        ),
    ];
    for (case, token, want, hint) in cases {
        let r = client.verify_access_token(&token, &api());
        expect(&mut table, case, r, want, hint, &token, &[]);
    }

    // All of it from one fetch of the key set (held, and no kid flood here reached 10 s).
    assert_eq!(op.gets(), 1, "one GET of the key set for the whole run");
    assert_eq!(client.key_set_fetches(), 1);
    print(
        "hostile access tokens (Client::verify_access_token, audience `api`)",
        &table,
    );
}

#[test]
fn hostile_key_sets_are_key_set_errors() {
    let server = ScriptedServer::start(8);
    let signer = Signer::new("ec1");
    let mut table = Vec::new();
    let roomy = HttpOptions {
        max_response_bytes: 16 * 1024 * 1024,
        ..HttpOptions::default()
    };
    // (case, set, client options, expected message words). The server generates huge, many
    // and many-bare; html is PUT below.
    let cases: [(&str, &str, HttpOptions, &str); 6] = [
        (
            "5 MB JWKS (default 1 MB body cap)",
            "huge",
            HttpOptions::default(),
            "key set",
        ),
        (
            "5 MB JWKS (16 MB body cap)",
            "huge",
            roomy.clone(),
            "256 KB",
        ),
        (
            "10,000 keys, 1.8 MB (default cap)",
            "many",
            HttpOptions::default(),
            "key set",
        ),
        (
            "10,000 keys, 1.8 MB (16 MB cap)",
            "many",
            roomy.clone(),
            "256 KB",
        ),
        (
            "10,000 bare keys, 130 KB",
            "many-bare",
            HttpOptions::default(),
            "10000 keys",
        ),
        (
            "a JWKS that is an HTML page (200)",
            "html",
            HttpOptions::default(),
            "jwks_uri",
        ),
    ];
    let html = provider(&server, "html");
    html.put(
        "keys",
        "text/html",
        b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi login</body></html>",
    );
    for (case, set, options, hint) in cases {
        let op = provider(&server, set);
        let before = op.gets();
        let client = op.client(None, options);
        let token = signer.sign(&access_claims(&op.base()));
        let r = client.verify_access_token(&token, &api());
        expect(&mut table, case, r, TokenCheck::KeySet, hint, &token, &[]);
        assert_eq!(op.gets(), before + 1, "{case}: one GET");
        assert_eq!(
            client.key_set_fetches(),
            0,
            "{case}: nothing usable was fetched"
        );
        // The next token within 10 s is not a second GET, and still says the set is the trouble.
        let again = signer.sign(&access_claims(&op.base()));
        let r = client.verify_access_token(&again, &api());
        let case2 = format!("{case}, next token within 10 s");
        expect(
            &mut table,
            &case2,
            r,
            TokenCheck::KeySet,
            "key set",
            &again,
            &[],
        );
        assert_eq!(
            op.gets(),
            before + 1,
            "{case}: a failed set is not refetched at once"
        );
    }
    // A key set that cannot be had (404 here) is the server's error, not the token's: the
    // first token gets it, and so does the next within 10 s (no GET, and never `Key`).
    let gone = provider(&server, "nothing-stored");
    let client = gone.client(None, HttpOptions::default());
    for (n, case) in [
        "key set answers 404",
        "key set answers 404, next token within 10 s",
    ]
    .into_iter()
    .enumerate()
    {
        let token = signer.sign(&access_claims(&gone.base()));
        let e = client.verify_access_token(&token, &api()).unwrap_err();
        assert!(
            matches!(e, Error::Http { status: 404, .. }),
            "{case}: {e:?}"
        );
        assert!(!e.to_string().contains(&token));
        assert_eq!(gone.gets(), 1, "{case}: attempt {}", n + 1);
        table.push(Outcome {
            case: case.into(),
            got: format!("Http 404 (not InvalidToken) ({})", short(&e.to_string())),
        });
    }
    print("hostile key sets (Client::verify_access_token)", &table);
}

/// The token endpoint's answer with this ID token.
fn answer(id_token: &str, access_token: &str) -> Vec<u8> {
    json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
           "refresh_token": "tw-hostile-refresh-token-0123456789", "id_token": id_token,
           "scope": "openid"})
    .to_string()
    .into_bytes()
}

#[test]
fn hostile_id_tokens_fail_the_login() {
    let server = ScriptedServer::start(8);
    let (op, key) = provider_with_key(&server, "id", &[]);
    let client = op.client(None, HttpOptions::default());
    let iss = op.base();
    let mut table = Vec::new();

    // A login per case: authorization request -> a callback built from its state -> the code
    // exchange at /jwks/id/token, which answers the ID token the case PUT there.
    let login = |id_claims: &dyn Fn(&str) -> Value, sign: &dyn Fn(&Value) -> String| {
        let request = client
            .authorization_request(&LoginOptions::default())
            .unwrap();
        let nonce = request.pending.nonce.expose().to_string();
        let id_token = sign(&id_claims(&nonce));
        let access_token = format!("tw-hostile-access-{}", b64(&nonce.as_bytes()[..8]));
        op.put(
            "token",
            "application/json",
            &answer(&id_token, &access_token),
        );
        let callback = format!(
            "{REDIRECT}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("code", "hostile-code-1")
                .append_pair("state", request.pending.state.expose())
                .append_pair("iss", &iss)
                .finish()
        );
        let verifier = request.pending.pkce.verifier().expose().to_string();
        let result = client.exchange_code(request.pending, &callback);
        (result, id_token, access_token, nonce, verifier)
    };
    let t = now();
    let base = |nonce: &str| {
        json!({"iss": iss, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "user-1", "exp": t + 300,
               "iat": t, "nonce": nonce, "auth_time": t, "typ": "ID"})
    };
    let es256 = |c: &Value| key.sign(c);
    // A login with this ID token must fail the `want` check, and no secret of the login (the
    // access token, nonce, PKCE verifier, client secret) may show in the error.
    let refused_login = |table: &mut Vec<Outcome>,
                         case: &str,
                         id_claims: &dyn Fn(&str) -> Value,
                         sign: &dyn Fn(&Value) -> String,
                         want: TokenCheck,
                         hint: &str| {
        let (r, id_token, at, nonce, verifier) = login(id_claims, sign);
        let secrets = [
            at.as_str(),
            nonce.as_str(),
            verifier.as_str(),
            "hostile-suite-secret",
        ];
        expect(table, case, r, want, hint, &id_token, &secrets);
    };

    let (ok, ..) = login(&base, &es256);
    let token = ok.unwrap();
    assert_eq!(
        token.id_token_claims().and_then(|c| c.subject()),
        Some("user-1"),
        "the control login verifies"
    );
    table.push(Outcome {
        case: "good ID token (control)".into(),
        got: "Ok: verified, claims kept".into(),
    });

    type Change = fn(u64) -> Value;
    let cases: [(&str, Change, TokenCheck, &str); 8] = [
        (
            "ID token: wrong iss",
            |_| json!({"iss": "https://evil.example/realms/vion"}),
            TokenCheck::Issuer,
            "expected issuer",
        ),
        (
            "ID token: wrong aud",
            |_| json!({"aud": "other-client"}),
            TokenCheck::Audience,
            "client id",
        ),
        (
            "ID token: azp another client",
            |_| json!({"aud": [CLIENT_ID, "other-client"], "azp": "other-client"}),
            TokenCheck::AuthorizedParty,
            "azp",
        ),
        (
            "ID token: 2 audiences, no azp",
            |_| json!({"aud": [CLIENT_ID, "other-client"], "azp": null}),
            TokenCheck::AuthorizedParty,
            "azp",
        ),
        (
            "ID token: expired (1 h ago)",
            |t| json!({"exp": t - 3600, "iat": t - 7200}),
            TokenCheck::Expired,
            "clock",
        ),
        (
            "ID token: future iat (+1 h)",
            |t| json!({"iat": t + 3600}),
            TokenCheck::IssuedInFuture,
            "clock",
        ),
        (
            "ID token: nonce mismatch",
            |_| json!({"nonce": "another-login"}),
            TokenCheck::Nonce,
            "new login",
        ),
        (
            "ID token: no nonce",
            |_| json!({"nonce": null}),
            TokenCheck::Nonce,
            "new login",
        ),
    ];
    for (case, change, want, hint) in cases {
        let claims = |nonce: &str| with(base(nonce), change(t));
        refused_login(&mut table, case, &claims, &es256, want, hint);
    }

    let forger = Signer::new("ec1");
    type Sign<'a> = &'a dyn Fn(&Value) -> String;
    let sign_cases: [(&str, Sign, TokenCheck, &str); 4] = [
        (
            "ID token: alg none",
            &|c| unsigned(&json!({"alg": "none", "kid": "ec1"}), c),
            TokenCheck::Algorithm,
            "alg: none",
        ),
        (
            "ID token: HS256, secret = the EC public key",
            &|c| hs256(&json!({"alg": "HS256", "kid": "ec1"}), c, key.public()),
            TokenCheck::Algorithm,
            "shared secret",
        ),
        (
            "ID token: signed by a forger, same kid",
            &|c| forger.sign(c),
            TokenCheck::Signature,
            "signature",
        ),
        (
            "ID token: unknown kid",
            &|c| forger.sign_as("forged-kid", c),
            TokenCheck::Key,
            "key set",
        ),
    ];
    for (case, sign, want, hint) in sign_cases {
        refused_login(&mut table, case, &base, sign, want, hint);
    }
    print(
        "hostile ID tokens (Client::exchange_code: login, callback, code exchange)",
        &table,
    );
}

#[test]
fn an_unknown_kid_flood_refetches_the_key_set_at_most_once() {
    let server = ScriptedServer::start(8);
    let (op, key) = provider_with_key(&server, "flood", &[]);
    let clock = Arc::new(ManualClock::new(now()));
    let client = Arc::new(op.client(Some(clock.clone()), HttpOptions::default()));
    let forger = Arc::new(Signer::new("x"));
    let claims = access_claims(&op.base());

    // 1,000 tokens with distinct unknown kids, verified from 8 threads at once.
    let flood = |round: u32| -> usize {
        let threads: Vec<_> = (0..8u32)
            .map(|t| {
                let (client, forger, claims) = (client.clone(), forger.clone(), claims.clone());
                thread::spawn(move || {
                    (0..125u32)
                        .map(|i| {
                            let kid = format!("forged-{round}-{t}-{i}");
                            let token = forger.sign_as(&kid, &claims);
                            let e = client.verify_access_token(&token, &api()).unwrap_err();
                            assert_eq!(e.token_check(), Some(TokenCheck::Key), "{e:?}");
                            assert!(!e.to_string().contains(&token));
                            assert!(e.to_string().contains(&kid), "names the kid: {e}");
                        })
                        .count()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    };
    assert_eq!(flood(1), 1000);
    let first = op.gets();
    eprintln!("\nunknown-kid flood: 1,000 tokens, 8 threads: {first} GET(s) of the key set");
    assert!(first <= 2, "{first} GETs for the flood");
    assert_eq!(
        first, 1,
        "the first need fetched; the flood within 10 s adds none"
    );

    // A genuine token still verifies from the held set, without a fetch.
    let good = key.sign(&claims);
    client.verify_access_token(&good, &api()).unwrap();
    assert_eq!(op.gets(), 1);

    // 11 s later the next unknown kid may refetch once (a rotation is picked up), no more.
    clock.advance(Duration::from_secs(11));
    assert_eq!(flood(2), 1000);
    let second = op.gets();
    eprintln!("after 11 s, a second flood of 1,000: {second} GET(s) in all");
    assert_eq!(second, 2, "one refetch per 10 s interval");
    assert_eq!(client.key_set_fetches(), 2);
}
