//! Every seed scenario against the real Keycloak started by `tests/keycloak/start`.
//!
//! Built only with `--features keycloak-tests`; the env file's path comes from `TW_KC_ENV`.
//! Without it these tests fail (they are never silently skipped).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokenward::{
    client_auth, grant, AuthMethod, Client, ClientConfig, Clock, Error, LoginOptions, PendingLogin,
    Provider, TokenKind, Transport, UreqTransport,
};

struct Kc {
    url: String,
    vars: HashMap<String, String>,
}

impl Kc {
    fn get() -> Kc {
        let path = std::env::var("TW_KC_ENV").expect(
            "TW_KC_ENV must name the env file written by tests/keycloak/start (run `make test`)",
        );
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let vars: HashMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Kc {
            url: vars["KC_URL"].clone(),
            vars,
        }
    }

    fn secret(&self, var: &str) -> String {
        self.vars
            .get(var)
            .unwrap_or_else(|| panic!("{var} missing from the Keycloak env file"))
            .clone()
    }

    fn realm(&self, realm: &str) -> Provider {
        Provider::keycloak(&self.url, realm).unwrap()
    }
}

/// Keycloak computes `expires_in` as `exp - now` in whole seconds: one less when a second ticks
/// between issuing and answering.
fn assert_lifespan(t: &tokenward::Token, seconds: u64) {
    let e = t.expires_in().unwrap();
    assert!(
        e == seconds || e + 1 == seconds,
        "expires_in {e}, lifespan {seconds}"
    );
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn ecoinvent_client_credentials_from_a_bare_token_url() {
    let kc = Kc::get();
    let url = format!("{}/realms/ecoinvent/protocol/openid-connect/token", kc.url);
    let config =
        ClientConfig::new("ecoinvent-client").secret(kc.secret("TW_ECOINVENT_CLIENT_SECRET"));
    let c = Client::new(Provider::from_token_url(&url).unwrap(), config).unwrap();
    let t = c.token().unwrap();
    assert_lifespan(&t, 3600);
    assert_eq!(t.token_type(), "Bearer");
    assert_eq!(
        t.not_before_policy(),
        Some(0),
        "Keycloak's extra field is kept"
    );
    assert!(
        t.refresh_token().is_none(),
        "no refresh token for client credentials"
    );
    assert_eq!(t.refresh_expires_in(), Some(0));
    assert_eq!(
        t.lifetime(),
        Some(Duration::from_secs(3599)),
        "exp - iat minus truncation"
    );
    assert!(
        Arc::ptr_eq(&t, &c.token().unwrap()),
        "the second call is a cache hit"
    );
    assert!(t.authorization_header().expose().starts_with("Bearer ey"));
}

#[test]
fn wrong_secret_is_invalid_client_with_keycloaks_description() {
    let kc = Kc::get();
    let c = Client::new(
        kc.realm("ecoinvent"),
        ClientConfig::new("ecoinvent-client").secret("not-the-secret"),
    )
    .unwrap();
    let e = c.token().unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e:?}");
    assert_eq!(
        e.oauth_description(),
        Some("Invalid client or Invalid client credentials")
    );
    assert!(matches!(
        e,
        Error::OAuth {
            status: Some(401),
            ..
        }
    ));
    assert!(!format!("{e} {e:?}").contains("not-the-secret"));
}

#[test]
fn iopole_roles_scopes_and_both_auth_methods() {
    let kc = Kc::get();
    for (id, var, role, other) in [
        ("iopole-admin", "TW_IOPOLE_ADMIN_SECRET", "admin", "user"),
        ("iopole-user", "TW_IOPOLE_USER_SECRET", "user", "admin"),
    ] {
        for method in [AuthMethod::ClientSecretPost, AuthMethod::ClientSecretBasic] {
            let config = ClientConfig::new(id)
                .secret(kc.secret(var))
                .auth_method(method)
                .scope("invoicing directory");
            let c = Client::new(kc.realm("iopole"), config).unwrap();
            let t = c.token().unwrap();
            assert_lifespan(&t, 600);
            let claims = t.claims().expect("Keycloak access tokens are JWTs");
            assert!(
                claims.has_realm_role(role) && !claims.has_realm_role(other),
                "{id}: {:?}",
                claims.realm_roles()
            );
            let granted = t.scope().unwrap();
            assert!(
                granted.contains("invoicing") && granted.contains("directory"),
                "{granted}"
            );
        }
    }
}

#[test]
fn unknown_scope_is_invalid_scope() {
    let kc = Kc::get();
    let config = ClientConfig::new("iopole-user")
        .secret(kc.secret("TW_IOPOLE_USER_SECRET"))
        .scope("no-such-scope");
    let e = Client::new(kc.realm("iopole"), config)
        .unwrap()
        .token()
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_scope"), "{e:?}");
}

#[test]
fn docbyte_template_tenant_claim_and_no_refresh_token() {
    let kc = Kc::get();
    let port = kc.url.rsplit(':').next().unwrap().to_string();
    let template = "http://127.0.0.1:{port}/realms/{tenant}";
    let provider =
        Provider::from_template(template, &[("port", &port), ("tenant", "acme")]).unwrap();
    let config = ClientConfig::new("vault-service")
        .secret(kc.secret("TW_VAULT_SERVICE_SECRET"))
        .scope("openid")
        .require_claim("tenant");
    let c = Client::new(provider.clone(), config).unwrap();
    let t = c.token().unwrap();
    assert_lifespan(&t, 300);
    assert!(
        t.refresh_token().is_none(),
        "Docbyte issues no refresh token"
    );
    assert_eq!(t.claims().unwrap().str("tenant"), Some("acme"));

    let config = ClientConfig::new("vault-notenant")
        .secret(kc.secret("TW_VAULT_NOTENANT_SECRET"))
        .scope("openid")
        .require_claim("tenant");
    let e = Client::new(provider, config).unwrap().token().unwrap_err();
    assert_eq!(e, Error::MissingClaim("tenant".into()));
}

#[test]
fn vion_discovery_introspection_and_revocation() {
    let kc = Kc::get();
    let issuer = format!("{}/realms/vion", kc.url);
    let config = ClientConfig::new("vion-service").secret(kc.secret("TW_VION_SERVICE_SECRET"));
    let c = Client::discover(&issuer, config).build().unwrap();
    assert_eq!(c.provider().issuer.as_deref(), Some(issuer.as_str()));
    assert!(
        c.provider().callback_iss_required,
        "Keycloak advertises RFC 9207"
    );
    let t = c.token().unwrap();
    assert_lifespan(&t, 300);
    // Keycloak 26.7 answers "inactive" when the caller is not in the token's audience.
    assert!(
        !c.introspect(t.access_token(), TokenKind::AccessToken)
            .unwrap()
            .active
    );
    c.revoke(t.access_token(), TokenKind::AccessToken).unwrap();
    assert!(
        c.token_source().peek().is_none(),
        "revoking the cached token clears the cache"
    );
    assert!(
        !Arc::ptr_eq(&t, &c.token().unwrap()),
        "a new token after revocation"
    );
    // Discovery with a mistyped issuer fails with a typed error, not a panic.
    let e = Client::discover(
        &format!("{}/realms/nope", kc.url),
        ClientConfig::new("x").secret("y"),
    )
    .build()
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::OAuth {
                status: Some(404),
                ..
            } | Error::Http { status: 404, .. }
        ),
        "{e:?}"
    );
}

/// Drives Keycloak's real login form over HTTP with a hand-kept cookie header (its cookies are
/// `Secure` even on http loopback) and returns the callback URL Keycloak redirects to.
fn log_in(auth_url: &str, username: &str, password: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let mut page = agent.get(auth_url).call().unwrap();
    assert_eq!(page.status(), 200, "the login page");
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let html = page.body_mut().read_to_string().unwrap();
    let action = html
        .split("id=\"kc-form-login\"")
        .nth(1)
        .and_then(|s| s.split("action=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("Keycloak's login form")
        .replace("&amp;", "&");
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .append_pair("password", password)
        .append_pair("credentialId", "")
        .finish();
    let resp = agent
        .post(&action)
        .header("Cookie", cookies.join("; "))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    assert_eq!(resp.status(), 302, "Keycloak redirects back after login");
    resp.headers()["location"].to_str().unwrap().to_string()
}

/// The public PKCE client the login tests sign in with (`openid user_impersonation`, the
/// loopback callback), so they all ask Keycloak for the same thing.
fn vion_spa_login_client(kc: &Kc) -> Client {
    let config = ClientConfig::new("vion-spa")
        .scope("openid user_impersonation")
        .redirect_uri("http://127.0.0.1:8765/callback");
    Client::new(kc.realm("vion"), config).unwrap()
}

#[test]
fn vion_pkce_login_refresh_logout_and_revoke() {
    let kc = Kc::get();
    let c = vion_spa_login_client(&kc);
    assert!(
        matches!(c.token(), Err(Error::LoginRequired(_))),
        "nothing cached before login"
    );
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );
    assert!(
        callback.starts_with("http://127.0.0.1:8765/callback?"),
        "{callback}"
    );
    assert!(callback.contains("iss="), "Keycloak sends iss (RFC 9207)");

    // A tampered state is refused before the code is used, and it spends the login (taken by
    // value): the real callback needs a new login.
    let tampered = callback.replace(login.pending.state.expose(), "forged");
    assert_eq!(
        c.exchange_code(login.pending, &tampered).unwrap_err(),
        Error::StateMismatch
    );
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );

    let t = c.exchange_code(login.pending, &callback).unwrap();
    let scope = t.scope().unwrap();
    assert!(
        scope.contains("openid") && scope.contains("user_impersonation"),
        "{scope}"
    );
    assert!(t.id_token().is_some() && t.refresh_token().is_some());
    assert_eq!(
        t.claims().unwrap().str("preferred_username"),
        Some("vion-user")
    );
    assert!(
        Arc::ptr_eq(&t, &c.token().unwrap()),
        "the login's token is cached"
    );

    // Refresh rotates the refresh token and keeps the session.
    let r = c.refresh().unwrap();
    assert_ne!(r.access_token(), t.access_token());
    assert_ne!(r.refresh_token(), t.refresh_token(), "rotated");
    assert_eq!(
        r.claims().unwrap().str("sid"),
        t.claims().unwrap().str("sid")
    );

    let logout = c.logout_url(Some("http://127.0.0.1:8765/bye")).unwrap();
    assert!(
        logout.starts_with(&format!(
            "{}/realms/vion/protocol/openid-connect/logout?client_id=vion-spa&id_token_hint=ey",
            kc.url
        )),
        "{logout}"
    );

    // Revoking the refresh token ends the session: the public client must log in again.
    c.revoke(r.refresh_token().unwrap(), TokenKind::RefreshToken)
        .unwrap();
    let e = c
        .refresh_token_grant(r.refresh_token().unwrap())
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_grant"), "{e:?}");
    assert!(matches!(c.refresh(), Err(Error::LoginRequired(_))));

    // A replayed code is refused, and Keycloak revokes what that code issued (OAuth BCP).
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );
    // (The replay finishes a copy restored from JSON, as a web app that kept it would.)
    let replay = PendingLogin::from_json(login.pending.to_json().expose()).unwrap();
    let t = c.exchange_code(login.pending, &callback).unwrap();
    let e = c.exchange_code(replay, &callback).unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_grant"), "{e:?}");
    let e = c
        .refresh_token_grant(t.refresh_token().unwrap())
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_grant"), "{e:?}");
}

#[test]
fn vion_login_error_callback_is_typed() {
    let kc = Kc::get();
    let config = ClientConfig::new("vion-spa").redirect_uri("http://127.0.0.1:8765/callback");
    let c = Client::new(kc.realm("vion"), config).unwrap();
    // PKCE is required on vion-spa: drop the challenge and Keycloak answers on the callback.
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let without_pkce: String = login
        .url()
        .split('&')
        .filter(|p| !p.starts_with("code_challenge"))
        .collect::<Vec<_>>()
        .join("&");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent.get(&without_pkce).call().unwrap();
    assert_eq!(resp.status(), 302);
    let callback = resp.headers()["location"].to_str().unwrap().to_string();
    let e = c.exchange_code(login.pending, &callback).unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_request"), "{e:?}");
    assert!(
        e.oauth_description()
            .unwrap()
            .contains("code_challenge_method"),
        "{e:?}"
    );
}

/// A password-grant token for `vion-short-service` (2 s access tokens with a refresh token),
/// built from the crate's own form builder.
fn short_session(kc: &Kc, c: &Client) -> tokenward::Token {
    let req = client_auth::form_post(
        &c.provider().token_endpoint,
        c.config(),
        &[
            ("grant_type", "password"),
            ("username", "vion-user"),
            ("password", &kc.secret("TW_VION_USER_PASSWORD")),
            ("scope", "openid"),
        ],
    )
    .unwrap();
    let transport = UreqTransport::new(Default::default()).unwrap();
    let sent = tokenward::SentAt {
        monotonic: tokenward::SystemClock.now(),
        unix: unix_now(),
    };
    tokenward::token::parse_token_response(&transport.send(&req).unwrap(), sent).unwrap()
}

/// A client whose `on_token` hook counts the tokens the cache takes in, so a test can tell how
/// many token requests it made.
fn counting_client(provider: Provider, config: ClientConfig) -> (Client, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let c = Client::builder(provider, config)
        .on_token(move |_| {
            counter.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap();
    (c, count)
}

#[test]
fn short_tokens_renew_by_refresh_token_and_a_refused_one_needs_a_new_login() {
    let kc = Kc::get();
    let config =
        ClientConfig::new("vion-short-service").secret(kc.secret("TW_VION_SHORT_SERVICE_SECRET"));
    let (c, seen) = counting_client(kc.realm("vion"), config);
    let first = c.token_source().set(short_session(&kc, &c));
    assert_lifespan(&first, 2);
    thread::sleep(Duration::from_millis(2200));
    let renewed = c.token().unwrap();
    assert_ne!(renewed.access_token(), first.access_token());
    assert_eq!(
        renewed.claims().unwrap().str("sid"),
        first.claims().unwrap().str("sid"),
        "renewed by refresh, same session"
    );
    assert_eq!(seen.load(SeqCst), 1);

    // Keycloak 26.7 answers introspection only for tokens whose `aud` names the caller;
    // vion-short-service has an audience mapper for itself.
    let info = c
        .introspect(renewed.access_token(), TokenKind::AccessToken)
        .unwrap();
    assert!(info.active, "a user session's token is active");
    assert_eq!(info.claims.str("username"), Some("vion-user"));

    // Kill the session behind the cache's back (another client instance revokes it); the next
    // renewal's refresh gets invalid_grant and drops the refresh token. The session was a
    // user's (a password grant), so it never falls through to client credentials (this
    // confidential client would then have been answered `unauthorized_client`): a new login.
    let other = Client::new(kc.realm("vion"), c.config().clone()).unwrap();
    other
        .revoke(renewed.refresh_token().unwrap(), TokenKind::RefreshToken)
        .unwrap();
    thread::sleep(Duration::from_millis(2200));
    let e = c.token().unwrap_err();
    assert!(
        matches!(e, Error::LoginRequired(_)),
        "a user's session needs a new login, not client credentials: {e:?}"
    );
    assert!(
        c.token_source().peek().unwrap().refresh_token().is_none(),
        "the refused refresh token was dropped"
    );
}

#[test]
fn sixteen_threads_through_expiry_never_get_an_expired_token() {
    let kc = Kc::get();
    let config =
        ClientConfig::new("ecoinvent-short").secret(kc.secret("TW_ECOINVENT_SHORT_SECRET"));
    let (c, requests) = counting_client(kc.realm("ecoinvent"), config);
    let c = Arc::new(c);
    let late = Arc::new(Mutex::new(Vec::new()));
    let span = Duration::from_secs(5);
    let start = Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (c, late) = (c.clone(), late.clone());
            thread::spawn(move || {
                while start.elapsed() < span {
                    let t = c.token().unwrap();
                    let exp = t.claims().unwrap().exp().unwrap();
                    // Whole seconds: a token is expired once the wall clock reaches exp.
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs_f64();
                    if now >= exp as f64 {
                        late.lock().unwrap().push((now, exp));
                    }
                    thread::sleep(Duration::from_millis(5));
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert!(
        late.lock().unwrap().is_empty(),
        "expired tokens handed out: {:?}",
        late.lock().unwrap()
    );
    // 2 s tokens are usable for 1 s (exp - iat minus truncation) and renew 0.1 s early:
    // about one request per 0.9 s over 5 s, never one per caller.
    let n = requests.load(SeqCst);
    assert!(
        (5..=9).contains(&n),
        "{n} token requests for 16 threads over 5 s"
    );
}

/// The secret audit (issue 7), Rust side: a real login and a confidential client produce every
/// kind of secret; none of them may appear in any `Debug` output or error message the library
/// produces along the way, including the errors of a refused code, refresh token and secret.
/// (`state` and `nonce` are not secrets: they travel in the authorization URL by design.)
#[test]
fn secrets_appear_in_no_debug_output_or_error_message() {
    let kc = Kc::get();
    let client_secret = kc.secret("TW_VION_SERVICE_SECRET");
    let service = Client::new(
        kc.realm("vion"),
        ClientConfig::new("vion-service").secret(client_secret.clone()),
    )
    .unwrap();
    let cc_token = service.token().unwrap();

    let spa = Client::new(
        kc.realm("vion"),
        ClientConfig::new("vion-spa")
            .scope("openid")
            .redirect_uri("http://127.0.0.1:8765/callback"),
    )
    .unwrap();
    let login = spa.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );
    let code = callback
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_string();
    let verifier = login.pending.pkce.verifier().expose().to_string();
    let login_shown = [format!("{login:?}"), format!("{:?}", login.pending)];
    let replay = PendingLogin::from_json(login.pending.to_json().expose()).unwrap();
    let t = spa.exchange_code(login.pending, &callback).unwrap();
    let secrets = [
        ("client secret", client_secret.clone()),
        ("access token", t.access_token().expose().to_string()),
        (
            "refresh token",
            t.refresh_token().unwrap().expose().to_string(),
        ),
        ("ID token", t.id_token().unwrap().expose().to_string()),
        ("PKCE verifier", verifier),
        ("code", code),
        (
            "service token",
            cc_token.access_token().expose().to_string(),
        ),
    ];

    // Everything a user might print or log.
    let refresh_body = grant::refresh_token(
        &kc.realm("vion"),
        &ClientConfig::new("vion-spa"),
        t.refresh_token().unwrap(),
        None,
    )
    .unwrap();
    let mut shown = vec![
        format!("{t:?}"),
        format!("{cc_token:?}"),
        login_shown[0].clone(),
        login_shown[1].clone(),
        format!("{spa:?}"),
        format!("{service:?}"),
        format!("{refresh_body:?}"),
        format!("{:?}", spa.token_source()),
    ];
    // The errors of a replayed code (Keycloak then revokes the session), a refused refresh
    // token and a wrong secret.
    for e in [
        spa.exchange_code(replay, &callback).unwrap_err(),
        spa.refresh().unwrap_err(),
        Client::new(
            kc.realm("vion"),
            ClientConfig::new("vion-service").secret(format!("{client_secret}x")),
        )
        .unwrap()
        .token()
        .unwrap_err(),
    ] {
        shown.push(format!("{e} {e:?}"));
    }
    for text in &shown {
        for (what, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {what} appears in: {}",
                text.chars().take(200).collect::<String>()
            );
        }
    }
}

// --- OpenID Connect verification: ID tokens and access tokens against Keycloak's keys ---

#[test]
fn a_login_verifies_the_id_token_and_userinfo_is_the_same_user() {
    let kc = Kc::get();
    let c = vion_spa_login_client(&kc);
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );
    let t = c.exchange_code(login.pending, &callback).unwrap();
    let id = t
        .id_token_claims()
        .expect("the ID token is verified and kept");
    assert_eq!(
        id.issuer(),
        Some(format!("{}/realms/vion", kc.url).as_str())
    );
    assert_eq!(id.audience(), ["vion-spa"]);
    assert_eq!(id.str("preferred_username"), Some("vion-user"));
    assert_eq!(c.key_set_fetches(), 1, "Keycloak's certs, fetched once");

    // A refresh that returns an ID token verifies it too, with the cached keys.
    let r = c.refresh().unwrap();
    assert_eq!(r.id_token_claims().and_then(|c| c.subject()), id.subject());
    assert_eq!(c.key_set_fetches(), 1);

    let info = c.userinfo().unwrap();
    assert_eq!(info.subject(), id.subject());
    assert_eq!(info.str("preferred_username"), Some("vion-user"));

    // The same client, as a resource server: the access token verifies, the ID token is not
    // an access token, and an audience it was not issued for is refused.
    let claims = c
        .verify_access_token(r.access_token().expose(), &Default::default())
        .unwrap();
    assert_eq!(claims.subject(), id.subject());
    let e = c
        .verify_access_token(r.id_token().unwrap().expose(), &Default::default())
        .unwrap_err();
    assert_eq!(e.token_check(), Some(tokenward::TokenCheck::Type), "{e}");
    let other = tokenward::AccessTokenRequirements {
        audience: Some("billing-api".into()),
        ..Default::default()
    };
    let e = c
        .verify_access_token(r.access_token().expose(), &other)
        .unwrap_err();
    assert_eq!(
        e.token_check(),
        Some(tokenward::TokenCheck::Audience),
        "{e}"
    );
    assert!(!e.to_string().contains(r.access_token().expose()));
}

/// Keycloak's admin API, with the bootstrap admin of the master realm.
struct Admin {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Admin {
    fn new(kc: &Kc) -> Admin {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("client_id", "admin-cli")
            .append_pair("username", &kc.secret("TW_KC_ADMIN_USER"))
            .append_pair("password", &kc.secret("TW_KC_ADMIN_PASSWORD"))
            .finish();
        let text = agent
            .post(&format!(
                "{}/realms/master/protocol/openid-connect/token",
                kc.url
            ))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(form.as_bytes())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        Admin {
            base: format!("{}/admin/realms", kc.url),
            token: body["access_token"]
                .as_str()
                .expect("an admin token")
                .to_string(),
            agent,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let mut resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            (m, b) => {
                let b = b.unwrap_or(serde_json::json!({})).to_string();
                let req = if m == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                req.header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .send(b.as_bytes())
            }
        }
        .unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// Replaces the representation at `path`, asserting Keycloak took it (204), so a test
    /// never goes on against a realm it did not manage to change.
    fn put(&self, path: &str, representation: serde_json::Value) {
        let (status, body) = self.call("PUT", path, Some(representation));
        assert_eq!(status, 204, "PUT {path}: {body}");
    }

    /// Adds a key provider (`rsa-generated`, `ecdsa-generated`) to `realm`; returns its id.
    fn add_key(
        &self,
        realm: &str,
        provider: &str,
        priority: u32,
        extra: serde_json::Value,
    ) -> String {
        let (_, realm_json) = self.call("GET", &format!("/{realm}"), None);
        let realm_id = serde_json::from_str::<serde_json::Value>(&realm_json).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut config = serde_json::json!({"priority": [priority.to_string()], "enabled": ["true"], "active": ["true"]});
        config
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let name = format!("tw-{provider}-{priority}");
        let (status, _) = self.call(
            "POST",
            &format!("/{realm}/components"),
            Some(serde_json::json!({"name": name, "providerId": provider,
                "providerType": "org.keycloak.keys.KeyProvider", "parentId": realm_id, "config": config})),
        );
        assert_eq!(status, 201, "adding the {provider} key");
        let (_, list) = self.call("GET", &format!("/{realm}/components?name={name}"), None);
        serde_json::from_str::<serde_json::Value>(&list).unwrap()[0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn key_rotation_refetches_once_for_sixteen_threads_and_a_disabled_key_fails() {
    let kc = Kc::get();
    let admin = Admin::new(&kc);
    // A realm of its own, so rotating its keys cannot disturb the other tests.
    let realm = format!("tw-rotation-{}", unix_now());
    let secret = "rotation-secret-0123456789";
    let (status, body) = admin.call(
        "POST",
        "",
        Some(
            serde_json::json!({"realm": realm, "enabled": true, "accessTokenLifespan": 300,
            "clients": [{"clientId": "rot-service", "secret": secret, "publicClient": false,
                "serviceAccountsEnabled": true, "standardFlowEnabled": false}]}),
        ),
    );
    assert_eq!(status, 201, "creating the realm: {body}");
    let client = || {
        Client::new(
            kc.realm(&realm),
            ClientConfig::new("rot-service").secret(secret),
        )
        .unwrap()
    };
    // The resource server's clock: the key set may be refetched for an unknown key at most
    // every 10 s, so the test moves it past that instead of sleeping.
    let clock = Arc::new(tokenward::ManualClock::new(unix_now()));
    let c = Arc::new(
        Client::builder(
            kc.realm(&realm),
            ClientConfig::new("rot-service").secret(secret),
        )
        .clock(clock.clone())
        .build()
        .unwrap(),
    );
    let before = c.token().unwrap();
    c.verify_access_token(before.access_token().expose(), &Default::default())
        .unwrap();
    assert_eq!(c.key_set_fetches(), 1);

    // Rotation: a new RSA key with a higher priority signs from now on.
    let old_keys = admin
        .call(
            "GET",
            &format!("/{realm}/components?type=org.keycloak.keys.KeyProvider"),
            None,
        )
        .1;
    let new_key = admin.add_key(
        &realm,
        "rsa-generated",
        200,
        serde_json::json!({"keySize": ["2048"]}),
    );
    let after = client().token().unwrap();
    clock.advance(Duration::from_secs(11));
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (c, barrier, token) = (
                c.clone(),
                barrier.clone(),
                after.access_token().expose().to_string(),
            );
            thread::spawn(move || {
                barrier.wait();
                c.verify_access_token(&token, &Default::default())
                    .map(|_| ())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert_eq!(
        c.key_set_fetches(),
        2,
        "16 threads met the rotated key: one refetch"
    );

    // An ES256 key (and a client that asks for it) verifies too.
    admin.add_key(
        &realm,
        "ecdsa-generated",
        300,
        serde_json::json!({"ecdsaEllipticCurveKey": ["P-256"]}),
    );
    let (_, clients) = admin.call(
        "GET",
        &format!("/{realm}/clients?clientId=rot-service"),
        None,
    );
    let mut rep = serde_json::from_str::<serde_json::Value>(&clients).unwrap()[0].clone();
    rep["attributes"]["access.token.signed.response.alg"] = "ES256".into();
    let id = rep["id"].as_str().unwrap().to_string();
    admin.put(&format!("/{realm}/clients/{id}"), rep);
    let es = client().token().unwrap();
    let header = es
        .access_token()
        .expose()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    assert!(String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap()
    )
    .unwrap()
    .contains("ES256"));
    client()
        .verify_access_token(es.access_token().expose(), &Default::default())
        .unwrap();

    // The original keys disabled: a token they signed no longer verifies, with a clear error.
    let old: Vec<serde_json::Value> = serde_json::from_str(&old_keys).unwrap();
    for k in old.iter().filter(|k| k["providerId"] == "rsa-generated") {
        let mut k = k.clone();
        k["config"]["enabled"] = serde_json::json!(["false"]);
        let id = k["id"].as_str().unwrap().to_string();
        admin.put(&format!("/{realm}/components/{id}"), k);
    }
    let fresh = client();
    let e = fresh
        .verify_access_token(before.access_token().expose(), &Default::default())
        .unwrap_err();
    assert_eq!(e.token_check(), Some(tokenward::TokenCheck::Key), "{e}");
    assert!(e.to_string().contains("no longer publishes"), "{e}");
    let _ = new_key;
    admin.call("DELETE", &format!("/{realm}"), None);
}

// ---- Issue 17: device authorization, signed-JWT client authentication, token exchange,
// offline tokens (realm clients vion-device, vion-jwt, vion-secret-jwt, vion-exchange).

/// A browser's cookie jar for Keycloak's loopback pages (its cookies are `Secure`, so a real
/// jar would not send them over http).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, resp: &ureq::http::Response<ureq::Body>) {
        for v in resp.headers().get_all("set-cookie") {
            let Some((name, value)) = v
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .and_then(|kv| kv.split_once('='))
            else {
                continue;
            };
            self.0.retain(|(n, _)| n != name);
            self.0.push((name.to_string(), value.to_string()));
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The `action` of the form with id `form_id` in `html`, absolute.
fn form_action(html: &str, form_id: &str, origin: &str) -> String {
    let action = html
        .split(&format!("id=\"{form_id}\""))
        .nth(1)
        .and_then(|s| s.split("action=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no form {form_id} in the page"))
        .replace("&amp;", "&");
    if action.starts_with('/') {
        format!("{origin}{action}")
    } else {
        action
    }
}

/// What a user does on another device: opens Keycloak's device page, types the user code,
/// logs in on Keycloak's login form, and grants the device access (`accept`) or refuses it.
/// Returns the last page's HTML.
fn approve_device(kc: &Kc, verification_uri: &str, user_code: &str, accept: bool) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let mut jar = Jar::default();
    let mut resp = agent.get(verification_uri).call().unwrap();
    assert_eq!(resp.status(), 200, "Keycloak's device page");
    jar.take(&resp);
    let html = resp.body_mut().read_to_string().unwrap();
    let action = form_action(&html, "kc-user-verify-device-user-code-form", &kc.url);
    let form = |pairs: &[(&str, &str)]| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.extend_pairs(pairs);
        s.finish()
    };
    let post = |url: &str, jar: &Jar, body: String| {
        agent
            .post(url)
            .header("Cookie", jar.header())
            // Keycloak tells the device page's form from a device request by this.
            .header("Accept", "text/html")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap()
    };
    let mut resp = post(&action, &jar, form(&[("device_user_code", user_code)]));
    let password = kc.secret("TW_VION_USER_PASSWORD");
    for _ in 0..8 {
        jar.take(&resp);
        if resp.status() == 302 || resp.status() == 303 {
            let location = resp.headers()["location"].to_str().unwrap().to_string();
            let url = if location.starts_with('/') {
                format!("{}{location}", kc.url)
            } else {
                location
            };
            resp = agent
                .get(&url)
                .header("Cookie", jar.header())
                .call()
                .unwrap();
            continue;
        }
        let html = resp.body_mut().read_to_string().unwrap();
        if html.contains("/login-actions/consent") {
            // Keycloak asks the user to grant every device access.
            let action = html
                .split("action=\"")
                .find(|s| s.contains("/login-actions/consent"))
                .and_then(|s| s.split('"').next())
                .unwrap()
                .replace("&amp;", "&");
            let code = html
                .split("name=\"code\" value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("the consent form's code");
            let button = if accept { "accept" } else { "cancel" };
            resp = post(
                &format!("{}{action}", kc.url),
                &jar,
                form(&[("code", code), (button, "")]),
            );
            continue;
        }
        if html.contains("id=\"kc-form-login\"") {
            let action = form_action(&html, "kc-form-login", &kc.url);
            let body = form(&[
                ("username", "vion-user"),
                ("password", &password),
                ("credentialId", ""),
            ]);
            resp = post(&action, &jar, body);
            continue;
        }
        return html;
    }
    panic!("the device approval did not settle");
}

fn device_client(kc: &Kc, scope: &str) -> Client {
    Client::new(
        kc.realm("vion"),
        ClientConfig::new("vion-device").scope(scope),
    )
    .unwrap()
}

/// A device login on `c`, approved through Keycloak's pages by another thread.
fn device_login(kc: &Kc, c: &Client, pkce: bool) -> Arc<tokenward::Token> {
    let options = tokenward::DeviceOptions {
        pkce,
        ..Default::default()
    };
    let started = c.device_authorization(&options).unwrap();
    assert!(started.verification_uri.ends_with("/realms/vion/device"));
    assert!(started.interval >= Duration::from_secs(1));
    let (uri, code) = (started.verification_uri.clone(), started.user_code.clone());
    let kc2 = Kc::get();
    // A failed approval cancels the wait instead of leaving it to poll for ten minutes.
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cancel2 = cancel.clone();
    let approver = thread::spawn(move || {
        let page = std::panic::catch_unwind(|| approve_device(&kc2, &uri, &code, true));
        if page.is_err() {
            cancel2.store(true, std::sync::atomic::Ordering::Release);
        }
        page
    });
    let begun = Instant::now();
    let waited = c.device_wait(&started, &cancel);
    let page = approver
        .join()
        .unwrap()
        .expect("the approval on Keycloak's pages");
    let token = waited.unwrap();
    assert!(
        begun.elapsed() >= started.interval,
        "the first poll waits for the interval"
    );
    assert!(
        !page.contains("kc-form-login"),
        "the approval ended on the login form"
    );
    let _ = kc;
    token
}

#[test]
fn device_login_through_keycloaks_device_page_is_cached_and_refreshed() {
    let kc = Kc::get();
    let c = device_client(&kc, "openid");
    assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
    let token = device_login(&kc, &c, true);
    assert!(
        token.refresh_token().is_some(),
        "a user session renews by refresh token"
    );
    assert!(
        token.id_token_claims().is_some(),
        "the ID token was verified like a login's"
    );
    assert!(
        Arc::ptr_eq(&c.token().unwrap(), &token),
        "the login is cached"
    );
    let renewed = c.refresh().unwrap();
    assert_ne!(renewed.access_token(), token.access_token());
    assert!(Arc::ptr_eq(&c.token().unwrap(), &renewed));

    // The device code is spent: a second wait on it is refused, not approved again.
    let started = c
        .device_authorization(&tokenward::DeviceOptions::default())
        .unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut waits = Vec::new();
    let e = c
        .device_wait_with(&started, |d| {
            waits.push(d);
            waits.len() < 2
        })
        .unwrap_err();
    assert!(matches!(e, Error::LoginRequired(_)), "cancelled: {e:?}");
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert!(waits.iter().all(|w| *w >= started.interval), "{waits:?}");
    cancel.store(true, std::sync::atomic::Ordering::Release);
    let e = c.device_wait(&started, &cancel).unwrap_err();
    assert!(matches!(e, Error::LoginRequired(_)), "{e:?}");
}

#[test]
fn a_client_without_the_device_grant_is_refused_with_keycloaks_error() {
    let kc = Kc::get();
    let c = Client::new(kc.realm("vion"), ClientConfig::new("vion-spa")).unwrap();
    let e = c
        .device_authorization(&tokenward::DeviceOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), tokenward::ErrorCode::OAuth, "{e:?}");
    assert_eq!(e.oauth_error(), Some("unauthorized_client"), "{e:?}");
}

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/keycloak/keys/");

fn jwt_client(kc: &Kc, file: &str, kid: &str) -> Client {
    let key = tokenward::PrivateKey::from_pem_file(format!("{KEYS}{file}"), Some(kid)).unwrap();
    let config = ClientConfig::new("vion-jwt").signer(key.into_signer());
    assert_eq!(config.effective_auth_method(), AuthMethod::PrivateKeyJwt);
    Client::new(kc.realm("vion"), config).unwrap()
}

#[test]
fn private_key_jwt_with_rsa_and_ec_keys_and_client_secret_jwt() {
    let kc = Kc::get();
    for (file, kid) in [
        ("vion-jwt-rsa.pem", "vion-jwt-rsa"),
        ("vion-jwt-ec.pem", "vion-jwt-ec"),
    ] {
        let c = jwt_client(&kc, file, kid);
        let t = c.token().unwrap();
        let claims = t.claims().unwrap();
        assert_eq!(claims.str("azp"), Some("vion-jwt"), "{kid}");
        // Every request that authenticates the client signs a fresh assertion (unique jti).
        let again = c.client_credentials().unwrap();
        // Introspection authenticates the client the same way (Keycloak 26.7 then reports a
        // token not addressed to the client as inactive; a failed authentication is a 401).
        c.introspect(again.access_token(), TokenKind::AccessToken)
            .unwrap_or_else(|e| panic!("{kid}: introspection authenticated by {file}: {e}"));
        c.revoke(again.access_token(), TokenKind::AccessToken)
            .unwrap();
    }

    // A key Keycloak does not know for this client: invalid_client, and no key in the message.
    let stranger = jwt_client(&kc, "vion-jwt-ec.pem", "vion-jwt-rsa");
    let e = stranger.client_credentials().unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_client"), "{e:?}");
    assert!(!format!("{e} {e:?} {stranger:?}").contains("PRIVATE"));

    let secret = kc.secret("TW_VION_SECRET_JWT_SECRET");
    let config = ClientConfig::new("vion-secret-jwt")
        .secret(secret.clone())
        .auth_method(AuthMethod::ClientSecretJwt);
    let c = Client::new(kc.realm("vion"), config).unwrap();
    let t = c.token().unwrap();
    assert_eq!(t.claims().unwrap().str("azp"), Some("vion-secret-jwt"));
    assert!(!format!("{c:?}").contains(&secret));
    let wrong = ClientConfig::new("vion-secret-jwt")
        .secret("not-the-secret")
        .auth_method(AuthMethod::ClientSecretJwt);
    let e = Client::new(kc.realm("vion"), wrong)
        .unwrap()
        .client_credentials()
        .unwrap_err();
    // Keycloak 26.7 answers a bad HMAC with 400 unauthorized_client.
    assert!(
        matches!(
            e.oauth_error(),
            Some("invalid_client" | "unauthorized_client")
        ),
        "{e:?}"
    );
}

#[test]
fn token_exchange_for_another_audience_is_cached_per_subject_audience_and_scope() {
    let kc = Kc::get();
    let user = device_client(&kc, "openid");
    let subject = device_login(&kc, &user, false);
    let aud = subject.claims().unwrap().get("aud").cloned().unwrap();
    assert!(aud.to_string().contains("vion-exchange"), "{aud}");

    let service = Client::new(
        kc.realm("vion"),
        ClientConfig::new("vion-exchange").secret(kc.secret("TW_VION_EXCHANGE_SECRET")),
    )
    .unwrap();
    // The user's token exchanged by the service for an access token for `audience`: only the
    // audience changes between the calls below, and the cache is keyed on it.
    let exchange_for = |audience: &str| {
        service.exchange_token(
            subject.access_token(),
            Some(audience),
            None,
            tokenward::TokenType::AccessToken,
        )
    };
    let exchanged = exchange_for("vion-service").unwrap();
    let claims = exchanged.claims().unwrap();
    assert!(
        claims
            .get("aud")
            .unwrap()
            .to_string()
            .contains("vion-service"),
        "{:?}",
        claims.get("aud")
    );
    assert_eq!(claims.str("azp"), Some("vion-exchange"));
    assert_eq!(
        claims.str("sub"),
        subject.claims().unwrap().str("sub"),
        "the same user"
    );
    let cached = exchange_for("vion-service").unwrap();
    assert!(
        Arc::ptr_eq(&exchanged, &cached),
        "cached per (subject, audience, scope)"
    );

    // An audience the requester may not reach: Keycloak's refusal, typed.
    let e = exchange_for("vion-web").unwrap_err();
    assert_eq!(e.code(), tokenward::ErrorCode::OAuth, "{e:?}");
}

#[test]
fn an_offline_session_survives_the_users_sso_session_ending() {
    let kc = Kc::get();
    // vion-web, which no other test uses: Keycloak's revocation of a refresh token revokes
    // all of the user's offline tokens for that client, so a parallel test that revokes on
    // vion-spa would end this session too.
    let config = ClientConfig::new("vion-web")
        .secret(kc.secret("TW_VION_WEB_SECRET"))
        .scope("openid offline_access")
        .redirect_uri("http://127.0.0.1:8765/callback");
    let c = Client::new(kc.realm("vion"), config).unwrap();
    let login = c.authorization_request(&LoginOptions::default()).unwrap();
    let callback = log_in(
        &login.url(),
        "vion-user",
        &kc.secret("TW_VION_USER_PASSWORD"),
    );
    // The code is exchanged by the bare grant, then handed to the cache as a stored refresh
    // token would be (`resume`): what this test is about is the offline session.
    let code = callback
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap();
    let req = grant::authorization_code(
        c.provider(),
        c.config(),
        code,
        "http://127.0.0.1:8765/callback",
        login.pending.pkce.verifier(),
    )
    .unwrap();
    let transport = UreqTransport::new(Default::default()).unwrap();
    let sent = tokenward::SentAt {
        monotonic: tokenward::SystemClock.now(),
        unix: unix_now(),
    };
    let t = tokenward::token::parse_token_response(&transport.send(&req).unwrap(), sent).unwrap();
    assert!(t.scope().unwrap().contains("offline_access"));
    assert_eq!(
        t.refresh_expires_in(),
        Some(0),
        "an offline token has no refresh deadline"
    );
    assert_eq!(t.refresh_expires_at(), None);
    let offline = t.refresh_token().unwrap().clone();
    let t = c.resume(&offline).unwrap();

    // This login's SSO session (the one its tokens name, `sid`) ends. Keycloak 26.7 ends it
    // itself once an offline token is issued from a session that no other client uses; where
    // it is still there, the admin ends it. Not by `POST /users/{id}/logout`: that also sets the
    // user's not-before to the current second, which refuses every token issued earlier,
    // offline ones included, as "Stale token" (the test passed or failed by whether a second
    // boundary fell between login and logout), and would end the sessions of tests beside this.
    let sid = t.claims().unwrap().str("sid").unwrap().to_string();
    let admin = Admin::new(&kc);
    let lookup = |path: &str| {
        let (status, body) = admin.call("GET", path, None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let user = lookup("/vion/users?username=vion-user&exact=true")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let client = lookup("/vion/clients?clientId=vion-web")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let has_sid = |path: &str| {
        lookup(path)
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"].as_str() == Some(sid.as_str()))
    };
    let sso_sessions = format!("/vion/users/{user}/sessions");
    if has_sid(&sso_sessions) {
        let (status, body) = admin.call("DELETE", &format!("/vion/sessions/{sid}"), None);
        assert_eq!(status, 204, "{body}");
    }
    assert!(
        !has_sid(&sso_sessions),
        "the SSO session {sid} was not ended"
    );
    assert!(
        has_sid(&format!("/vion/users/{user}/offline-sessions/{client}")),
        "the offline session {sid} is not listed"
    );

    // The offline session outlives it: the cache renews, and the newest refresh token still
    // refreshes.
    let renewed = c.refresh().unwrap();
    assert_ne!(renewed.access_token(), t.access_token());
    let resumed = c
        .refresh_token_grant(renewed.refresh_token().unwrap())
        .unwrap();
    assert!(resumed.refresh_token().is_some());

    // Revoking the offline token ends the offline session for good.
    c.revoke(resumed.refresh_token().unwrap(), TokenKind::RefreshToken)
        .unwrap();
    let e = c.refresh_token_grant(&offline).unwrap_err();
    assert_eq!(e.oauth_error(), Some("invalid_grant"), "{e:?}");
}

#[test]
fn a_device_login_the_user_refuses_is_access_denied() {
    let kc = Kc::get();
    let c = device_client(&kc, "openid");
    let started = c
        .device_authorization(&tokenward::DeviceOptions::default())
        .unwrap();
    let (uri, code) = (started.verification_uri.clone(), started.user_code.clone());
    let approver = thread::spawn(move || approve_device(&Kc::get(), &uri, &code, false));
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let mut waited = None;
    let e = c
        .device_wait_with(&started, |d| {
            // Poll only once the user has answered (and never sooner than asked).
            if waited.is_none() {
                waited = Some(approver_done(&approver));
            }
            std::thread::sleep(d);
            !cancel.load(std::sync::atomic::Ordering::Acquire)
        })
        .unwrap_err();
    assert_eq!(e.oauth_error(), Some("access_denied"), "{e:?}");
    assert!(matches!(c.token(), Err(Error::LoginRequired(_))));
}

/// Waits for the approving thread to finish its pages.
fn approver_done(approver: &thread::JoinHandle<String>) -> bool {
    while !approver.is_finished() {
        thread::sleep(Duration::from_millis(50));
    }
    true
}
