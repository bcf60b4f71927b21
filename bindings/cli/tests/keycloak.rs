//! `tokenward` end to end against the real Keycloak of tests/keycloak (realms vion, ecoinvent,
//! iopole, acme). Needs `TW_KC_ENV` = the env file `tests/keycloak/start STATE_DIR` wrote;
//! fails without it. Run: `tests/cli/run` (starts or reuses Keycloak), or
//! `TW_KC_ENV=... cargo test -p tokenward-cli --features keycloak-tests --test keycloak`.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use common::{
    args, closed_port, keycloak_client, mode, register_secret, stdout_only, token_url_client, Run,
    Tw,
};
use serde_json::Value;

struct Kc {
    url: String,
    vars: HashMap<String, String>,
}

impl Kc {
    fn var(&self, k: &str) -> &str {
        self.vars
            .get(k)
            .unwrap_or_else(|| panic!("{k} missing from $TW_KC_ENV"))
    }

    fn token_url(&self, realm: &str) -> String {
        format!("{}/realms/{realm}/protocol/openid-connect/token", self.url)
    }
}

/// The running Keycloak, from `$TW_KC_ENV`. Every secret in it is registered for the leak check.
fn kc() -> &'static Kc {
    static KC: OnceLock<Kc> = OnceLock::new();
    KC.get_or_init(|| {
        let path = std::env::var("TW_KC_ENV").expect(
            "TW_KC_ENV is not set: start Keycloak with tests/keycloak/start STATE_DIR and set \
             TW_KC_ENV=STATE_DIR/env (tests/cli/run does both)",
        );
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read TW_KC_ENV={path}: {e}"));
        let vars: HashMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        for (k, v) in &vars {
            if k.ends_with("_SECRET") || k.ends_with("_PASSWORD") {
                register_secret(v);
            }
        }
        let url = vars.get("KC_URL").expect("KC_URL in $TW_KC_ENV").clone();
        Kc { url, vars }
    })
}

/// A scratch environment holding every client secret as `S_<NAME>` variables.
fn tw(name: &str) -> Tw {
    let kc = kc();
    let mut tw = Tw::new(name);
    for (k, v) in &kc.vars {
        if let Some(n) = k.strip_prefix("TW_").filter(|_| k.ends_with("_SECRET")) {
            tw = tw.env(&format!("S_{n}"), v);
        }
    }
    tw
}

fn claims(jwt: &str) -> Value {
    let r = Tw::new("decode-helper").run_with(&["decode", "--json"], Some(jwt));
    r.ok();
    r.json()
}

/// `token` printed exactly one JWT and nothing else; returns it (registered as a secret).
#[track_caller]
fn printed_token(r: &Run) -> String {
    r.ok();
    let t = r.stdout.strip_suffix('\n').expect("one line");
    assert!(!t.contains(['\n', ' ']), "{r:#?}");
    assert!(t.starts_with("eyJ") && t.split('.').count() == 3, "{r:#?}");
    register_secret(t);
    stdout_only(r, &[t]);
    t.to_string()
}

/// Keycloak computes `expires_in` from `exp`, so a 3600 s token may say 3599.
#[track_caller]
fn lifetime_is(j: &Value, secs: u64) {
    let e = j["expires_in"].as_u64().unwrap_or_else(|| panic!("{j}"));
    assert!(
        e == secs || e + 1 == secs,
        "expires_in {e}, expected {secs}: {j}"
    );
}

#[test]
fn token_for_each_seed_realm() {
    let kc = kc();
    let tw = tw("seeds");
    let token_url = kc.token_url("ecoinvent");

    // VION: Keycloak base URL + realm.
    let t = printed_token(&tw.run(&args(
        "token",
        &keycloak_client(&kc.url, "vion", "vion-service"),
        &["--client-secret-env", "S_VION_SERVICE_SECRET"],
    )));
    let c = claims(&t);
    assert_eq!(c["azp"], "vion-service");
    assert_eq!(c["iss"], format!("{}/realms/vion", kc.url));

    // ecoinvent: the bare token URL, 3600 s tokens with Keycloak's extras, no refresh token.
    let r = tw.run(&args(
        "token",
        &token_url_client(&token_url, "ecoinvent-client", "S_ECOINVENT_CLIENT_SECRET"),
        &["--json"],
    ));
    r.ok();
    let j = r.json();
    assert_eq!(j["token_type"], "Bearer");
    lifetime_is(&j, 3600);
    assert!(j.get("not-before-policy").is_some(), "{j}");
    assert!(j.get("refresh_token").is_none(), "{j}");
    let at = j["access_token"].as_str().unwrap();
    register_secret(at);
    stdout_only(&r, &[at]);

    // Iopole: optional scopes; roles decide what a client may do.
    for (client, role, other) in [
        ("iopole-admin", "admin", "user"),
        ("iopole-user", "user", "admin"),
    ] {
        let secret_var = format!("S_{}_SECRET", client.to_uppercase().replace('-', "_"));
        let r = tw.run(&args(
            "token",
            &token_url_client(&kc.token_url("iopole"), client, &secret_var),
            &["--scope", "invoicing directory", "--json"],
        ));
        r.ok();
        let j = r.json();
        lifetime_is(&j, 600);
        let scope = j["scope"].as_str().unwrap();
        assert!(
            scope.contains("invoicing") && scope.contains("directory"),
            "{scope}"
        );
        let c = claims(j["access_token"].as_str().unwrap());
        let roles: Vec<&str> = c["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            roles.contains(&role) && !roles.contains(&other),
            "{client}: {roles:?}"
        );
    }

    // Docbyte: a URL template filled by --set, scope openid, a tenant claim required.
    let template = kc.url.replace(
        &kc.url[kc.url.rfind(':').unwrap()..],
        ":{port}/realms/{tenant}",
    );
    let port = &kc.url[kc.url.rfind(':').unwrap() + 1..];
    let r = tw.run(&[
        "token",
        "--template",
        &template,
        "--set",
        &format!("port={port}"),
        "--set",
        "tenant=acme",
        "--client-id",
        "vault-service",
        "--client-secret-env",
        "S_VAULT_SERVICE_SECRET",
        "--scope",
        "openid",
        "--require-claim",
        "tenant",
        "--json",
    ]);
    r.ok();
    let j = r.json();
    lifetime_is(&j, 300);
    assert!(
        j.get("refresh_token").is_none(),
        "Docbyte issues no refresh token: {j}"
    );
    assert!(j["scope"].as_str().unwrap().contains("openid"));
    assert!(claims(j["access_token"].as_str().unwrap())["tenant"].is_string());
}

#[test]
fn both_client_auth_methods_and_every_output_format() {
    let kc = kc();
    let tw = tw("auth-methods");
    let base = args(
        "token",
        &keycloak_client(&kc.url, "ecoinvent", "ecoinvent-client"),
        &["--client-secret-env", "S_ECOINVENT_CLIENT_SECRET"],
    );
    for method in ["post", "basic", "client_secret_basic"] {
        printed_token(&tw.run(&[&base[..], &["--auth-method", method]].concat()));
    }
    let r = tw.run(&[&base[..], &["--header"]].concat());
    r.ok();
    let t = r
        .stdout
        .strip_prefix("Authorization: Bearer ")
        .and_then(|s| s.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{r:#?}"));
    assert!(t.starts_with("eyJ") && !t.contains(char::is_whitespace));
    register_secret(t);
    // Discovery gives the same endpoints.
    let issuer = format!("{}/realms/ecoinvent", kc.url);
    let mut by_issuer = base.clone();
    by_issuer.splice(1..5, ["--issuer", &issuer]);
    printed_token(&tw.run(&by_issuer));
}

#[test]
fn secrets_from_file_stdin_and_argv() {
    let kc = kc();
    let tw = tw("secret-sources");
    let secret = kc.var("TW_VION_SERVICE_SECRET");
    let file = tw.file("vion.secret", &format!("{secret}\n"));
    let vion_service = keycloak_client(&kc.url, "vion", "vion-service");
    let file = file.to_str().unwrap();
    printed_token(&tw.run(&args(
        "token",
        &vion_service,
        &["--client-secret-file", file],
    )));
    printed_token(&tw.run_with(
        &args("token", &vion_service, &["--client-secret-stdin"]),
        Some(&format!("{secret}\n")),
    ));
    let r = tw.run(&args(
        "token",
        &vion_service,
        &["--client-secret", secret, "--verbose"],
    ));
    printed_token(&r);
    assert!(
        r.stderr.contains("tokenward: warning: --client-secret"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("token endpoint: "), "{r:#?}");
}

#[test]
fn refusals_exit_3_with_the_servers_words() {
    let kc = kc();
    let tw = tw("refusals").env("WRONG", "definitely-not-the-secret");
    register_secret("definitely-not-the-secret");
    let token_url = kc.token_url("ecoinvent");
    let wrong_secret = token_url_client(&token_url, "ecoinvent-client", "WRONG");
    let r = tw.run(&args("token", &wrong_secret, &["--verbose"]));
    // Keycloak 26 answers a wrong secret with 401 `unauthorized_client`; the core reports it as
    // `invalid_client` (RFC 6749 5.2, older Keycloaks, the ecoinvent page), with its hint.
    r.fails(
        3,
        &[
            "invalid_client",
            "Invalid client or Invalid client credentials",
            "check the client id and secret",
        ],
    );
    assert!(r.stderr.starts_with("tokenward: "), "{r:#?}");
    // The same with --json: one object a script can read, with the server's own words.
    let e = tw
        .run(&args("token", &wrong_secret, &["--json"]))
        .json_error(3);
    assert_eq!(e["code"], "oauth", "{e}");
    assert_eq!(e["oauth_error"], "invalid_client", "{e}");
    assert_eq!(
        e["description"], "Invalid client or Invalid client credentials",
        "{e}"
    );
    assert_eq!(e["status"], 401, "{e}");
    tw.run(&args(
        "token",
        &token_url_client(&token_url, "no-such-client", "S_ECOINVENT_CLIENT_SECRET"),
        &[],
    ))
    .fails(
        3,
        &[
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ],
    );

    tw.run(&args(
        "token",
        &token_url_client(
            &kc.token_url("iopole"),
            "iopole-user",
            "S_IOPOLE_USER_SECRET",
        ),
        &["--scope", "no-such-scope"],
    ))
    .fails(3, &["invalid_scope", "Invalid scopes"]);

    // Docbyte rejects tokens without a tenant claim: so does --require-claim.
    tw.run(&args(
        "token",
        &keycloak_client(&kc.url, "acme", "vault-notenant"),
        &[
            "--client-secret-env",
            "S_VAULT_NOTENANT_SECRET",
            "--scope",
            "openid",
            "--require-claim",
            "tenant",
        ],
    ))
    .fails(3, &["no `tenant` claim"]);
}

#[test]
fn network_trouble_exits_4_and_bad_input_exits_2() {
    let kc = kc();
    let tw = tw("exit-codes");
    let dead = format!("http://127.0.0.1:{}", closed_port());
    tw.run(&args(
        "token",
        &keycloak_client(&dead, "vion", "vion-service"),
        &[
            "--client-secret-env",
            "S_VION_SERVICE_SECRET",
            "--timeout",
            "5",
        ],
    ))
    .fails(4, &["could not reach the server"]);
    tw.run(&[
        "token",
        "--template",
        &format!("{}/realms/{{tenant}}", kc.url),
        "--client-id",
        "vault-service",
        "--client-secret-env",
        "S_VAULT_SERVICE_SECRET",
    ])
    .fails(2, &["`{tenant}` has no value"]);
    tw.run(&["token", "--realm", "vion", "--no-such-flag"])
        .fails(2, &["unexpected argument"]);
}

#[test]
fn environment_variables_and_profiles_configure_it() {
    let kc = kc();
    let secret = kc.var("TW_VION_SERVICE_SECRET");
    // Everything from TOKENWARD_*.
    let env_only = tw("env")
        .env("TOKENWARD_KEYCLOAK", &kc.url)
        .env("TOKENWARD_REALM", "vion")
        .env("TOKENWARD_CLIENT_ID", "vion-service")
        .env("TOKENWARD_CLIENT_SECRET", secret)
        .env("TOKENWARD_AUTH_METHOD", "basic");
    let t = printed_token(&env_only.run(&["token"]));
    assert_eq!(claims(&t)["azp"], "vion-service");
    // Flags win: the environment's client and secret are replaced by the command line's.
    let r = env_only.run(&[
        "token",
        "--realm",
        "ecoinvent",
        "--client-id",
        "ecoinvent-client",
        "--client-secret-env",
        "S_ECOINVENT_CLIENT_SECRET",
    ]);
    assert_eq!(claims(&printed_token(&r))["azp"], "ecoinvent-client");

    // Profiles: vion-test reads its secret from an environment variable it names;
    // docbyte-acme fills the template and requires the tenant claim.
    let port = &kc.url[kc.url.rfind(':').unwrap() + 1..];
    let profiles = format!(
        r#"# tokenward profiles for the test Keycloak
[profile.vion-test]
keycloak = "{url}"
realm = "vion"
client_id = "vion-service"
client_secret_env = "S_VION_SERVICE_SECRET"

[profile.docbyte-acme]
template = "http://127.0.0.1:{{port}}/realms/{{tenant}}"
set.port = "{port}"
set.tenant = "acme"
client_id = "vault-service"
client_secret_env = "S_VAULT_SERVICE_SECRET"
scope = "openid"
require_claim = "tenant"

[profile.inline]
keycloak = "{url}"
realm = "vion"
client_id = "vion-service"
client_secret = "{secret}"
"#,
        url = kc.url
    );
    let with_file = tw("profiles");
    let cfg = with_file.file("config.toml", &profiles);
    mode(&cfg, 0o644);
    let with_file = with_file.env("TOKENWARD_CONFIG", cfg.to_str().unwrap());
    let t = printed_token(&with_file.run(&["token", "--profile", "vion-test"]));
    assert_eq!(claims(&t)["azp"], "vion-service");
    let t = printed_token(&with_file.run(&["token", "-p", "docbyte-acme"]));
    assert!(claims(&t)["tenant"].is_string());
    // TOKENWARD_PROFILE picks the profile; a flag still wins over it.
    let by_env = tw("profiles-env")
        .env("TOKENWARD_CONFIG", cfg.to_str().unwrap())
        .env("TOKENWARD_PROFILE", "docbyte-acme");
    let r = by_env.run(&[
        "token",
        "--client-id",
        "vault-notenant",
        "--client-secret-env",
        "S_VAULT_NOTENANT_SECRET",
    ]);
    r.fails(3, &["no `tenant` claim"]);
    // An inline secret counts only in a file nobody else can read: in any other it is an error
    // naming the file, the line, the key and the fix (core's settings reader decides).
    let r = with_file.run(&["token", "--profile", "inline"]);
    r.fails(
        2,
        &[
            "key `client_secret` in profile `inline`",
            "can be read by other users",
            "chmod 600",
        ],
    );
    mode(&cfg, 0o600);
    printed_token(&with_file.run(&["token", "--profile", "inline"]));
}

/// An HTTP client that plays a browser one step at a time: redirects and error statuses are
/// answers for the test to look at, not something to follow or fail on.
fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Drives Keycloak's login form like a browser: follows `url`, posts the credentials, and
/// returns where Keycloak redirects (the loopback callback).
fn browser_login(url: &str, user: &str, password: &str) -> String {
    let agent = browser();
    let mut page = agent.get(url).call().expect("the login page loads");
    assert_eq!(page.status().as_u16(), 200, "login page");
    // Keycloak marks its cookies Secure even on http loopback: send them by hand.
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|c| !c.ends_with('='))
        .map(str::to_string)
        .collect();
    let html = page.body_mut().read_to_string().unwrap();
    let at = html
        .find("id=\"kc-form-login\"")
        .expect("Keycloak's login form");
    let form_start = html[..at].rfind("<form").unwrap();
    let tag = &html[form_start..form_start + html[form_start..].find('>').unwrap()];
    let action = tag
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("form action")
        .replace("&amp;", "&");
    let resp = agent
        .post(&action)
        .header("Cookie", &cookies.join("; "))
        .send_form([
            ("username", user),
            ("password", password),
            ("credentialId", ""),
        ])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302, "login POST should redirect");
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location")
        .to_string()
}

#[test]
fn login_refresh_revoke_refresh() {
    let kc = kc();
    let tw = tw("login");
    let vion_spa = keycloak_client(&kc.url, "vion", "vion-spa");
    let signed_in = sign_in(
        &tw,
        &args(
            "login",
            &vion_spa,
            &[
                "--scope",
                "openid user_impersonation",
                "--json",
                "--timeout",
                "90",
            ],
        ),
    );
    assert!(
        signed_in.url.contains("code_challenge_method=S256"),
        "{}",
        signed_in.url
    );
    assert!(
        signed_in.callback.starts_with("http://127.0.0.1:") && signed_in.callback.contains("code="),
        "{}",
        signed_in.callback
    );
    assert!(
        signed_in.page.contains("You can close this tab"),
        "{}",
        signed_in.page
    );
    let run = signed_in.run;
    run.ok();
    let login = run.json();
    let rt = login["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    let at = login["access_token"].as_str().unwrap().to_string();
    assert!(login["id_token"].is_string(), "{login}");
    assert!(login["scope"]
        .as_str()
        .unwrap()
        .contains("user_impersonation"));
    register_secret(&rt);
    register_secret(&at);
    stdout_only(&run, &[&rt, &at, login["id_token"].as_str().unwrap()]);

    // decode: the user, the scope, the expiry in human time.
    let d = tw.run_with(&["decode"], Some(&at));
    d.ok();
    assert!(
        d.stdout.contains("vion-user") && d.stdout.contains("user_impersonation"),
        "{d:#?}"
    );
    assert!(
        d.stdout.contains("expires:") && d.stdout.contains(" UTC)"),
        "{d:#?}"
    );

    // refresh with the refresh token from an environment variable.
    let tw = tw.env("RT", &rt);
    let r = tw.run(&args(
        "refresh",
        &vion_spa,
        &["--refresh-token-env", "RT", "--json"],
    ));
    r.ok();
    let new = r.json();
    let new_at = new["access_token"].as_str().unwrap();
    let new_rt = new["refresh_token"].as_str().unwrap();
    register_secret(new_at);
    register_secret(new_rt);
    assert_ne!(new_at, at);
    stdout_only(
        &r,
        &[new_at, new_rt, new["id_token"].as_str().unwrap_or("")],
    );

    // revoke it (from stdin), then the session is gone: refresh is refused.
    let r = tw.run_with(
        &args("revoke", &vion_spa, &["--kind", "refresh"]),
        Some(&format!("{rt}\n")),
    );
    r.ok();
    assert!(r.stdout.is_empty(), "{r:#?}");
    let r = tw.run_with(&args("refresh", &vion_spa, &[]), Some(&rt));
    r.fails(3, &["invalid_grant"]);
}

#[test]
fn verify_and_userinfo() {
    let kc = kc();
    let tw = tw("verify");
    let vion_service = keycloak_client(&kc.url, "vion", "vion-service");
    let at = printed_token(&tw.run(&args(
        "token",
        &vion_service,
        &[
            "--client-secret-env",
            "S_VION_SERVICE_SECRET",
            "--scope",
            "openid",
        ],
    )));
    let verify = |extra: &[&str], env: Option<(&str, &str)>| {
        let t = match env {
            Some((k, v)) => Tw::new("verify-env").env(k, v),
            None => Tw::new("verify-plain"),
        };
        t.run_with(&args("verify", &vion_service, extra), Some(&at))
    };

    // From standard input: exit 0 with the verified claims.
    let r = verify(&[], None);
    r.ok();
    let c = r.json();
    assert_eq!(c["iss"], format!("{}/realms/vion", kc.url));
    assert_eq!(c["azp"], "vion-service");
    // As an argument, with a leeway and a claim that is there.
    tw.run(&args(
        "verify",
        &vion_service,
        &["--leeway", "0", "--require-claim", "azp", &at],
    ))
    .ok();

    // Each rule that fails is exit 3 with the rule's words, never the token.
    verify(&["--audience", "billing-api"], None).fails(3, &["`aud`", "billing-api"]);
    let e = verify(&["--audience", "billing-api", "--json"], None).json_error(3);
    assert_eq!(e["code"], "invalid_token", "{e}");
    verify(&["--require-role", "no-such-role"], None).fails(3, &["no-such-role"]);
    verify(&["--require-claim", "tenant"], None).fails(3, &["tenant"]);
    verify(
        &[],
        Some((
            "TOKENWARD_EXPECTED_ISSUER",
            "https://sso.example.com/realms/vion",
        )),
    )
    .fails(3, &["https://sso.example.com/realms/vion"]);
    verify(
        &["--expected-issuer", "https://sso.example.com/realms/vion"],
        None,
    )
    .fails(3, &["https://sso.example.com/realms/vion"]);
    // The public issuer the tokens carry, set explicitly: still verifies.
    let iss = format!("{}/realms/vion", kc.url);
    verify(&["--expected-issuer", &iss], None).ok();
    tw.run(&args("verify", &vion_service, &["--leeway", "soon", &at]))
        .fails(2, &["not a whole number of seconds"]);
    tw.run(&args("verify", &vion_service, &["not-a-jwt"]))
        .fails(3, &["JWT"]);

    // userinfo: the service account's claims for that token, from standard input.
    let r = tw.run_with(&args("userinfo", &vion_service, &[]), Some(&at));
    r.ok();
    assert!(r.json()["sub"].is_string(), "{r:#?}");
    assert_eq!(r.json()["sub"], c["sub"]);

    // decode says that it did not verify.
    let d = tw.run_with(&["decode"], Some(&at));
    d.ok();
    assert!(d.stdout.starts_with("NOT VERIFIED"), "{d:#?}");
}

// ---- Issue 17: device, exchange, introspect, logout, signed-JWT client authentication ----

/// Plays the user on another device: Keycloak's device page (the code typed into its form),
/// its login form, its consent page. Keycloak's cookies are `Secure` even on http: sent by hand.
fn approve_device(user_code: &str) {
    let kc = kc();
    let agent = browser();
    let mut jar: Vec<(String, String)> = Vec::new();
    let keep = |resp: &ureq::http::Response<ureq::Body>, jar: &mut Vec<(String, String)>| {
        for v in resp.headers().get_all("set-cookie") {
            if let Some((n, val)) = v
                .to_str()
                .ok()
                .and_then(|v| v.split(';').next())
                .and_then(|c| c.split_once('='))
            {
                jar.retain(|(k, _)| k != n);
                jar.push((n.to_string(), val.to_string()));
            }
        }
    };
    let cookie = |jar: &Vec<(String, String)>| {
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let absolute = |u: &str| {
        let u = u.replace("&amp;", "&");
        if u.starts_with('/') {
            format!("{}{u}", kc.url)
        } else {
            u
        }
    };
    let mut resp = agent
        .post(&format!("{}/realms/vion/device", kc.url))
        // Keycloak tells its device page's form from a device request by this.
        .header("Accept", "text/html")
        .send_form([("device_user_code", user_code)])
        .unwrap();
    let password = kc.var("TW_VION_USER_PASSWORD").to_string();
    for _ in 0..8 {
        keep(&resp, &mut jar);
        if resp.status().is_redirection() {
            let to = absolute(resp.headers()["location"].to_str().unwrap());
            resp = agent
                .get(&to)
                .header("Cookie", &cookie(&jar))
                .header("Accept", "text/html")
                .call()
                .unwrap();
            continue;
        }
        let html = resp.body_mut().read_to_string().unwrap();
        let action_of = |marker: &str| {
            html.split("action=\"")
                .skip(1)
                .find(|s| s.contains(marker))
                .and_then(|s| s.split('"').next())
                .map(absolute)
        };
        if let Some(action) = action_of("/login-actions/consent") {
            let code = html
                .split("name=\"code\" value=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_string();
            resp = agent
                .post(&action)
                .header("Cookie", &cookie(&jar))
                .header("Accept", "text/html")
                .send_form([("code", code.as_str()), ("accept", "")])
                .unwrap();
        } else if html.contains("kc-form-login") {
            let action = action_of("/login-actions/authenticate").unwrap();
            resp = agent
                .post(&action)
                .header("Cookie", &cookie(&jar))
                .header("Accept", "text/html")
                .send_form([
                    ("username", "vion-user"),
                    ("password", password.as_str()),
                    ("credentialId", ""),
                ])
                .unwrap();
        } else {
            assert!(!html.contains("kc-feedback-text") || html.contains("Success"));
            return;
        }
    }
    panic!("the device approval did not settle");
}

#[test]
fn device_then_exchange_introspect_and_logout() {
    let kc = kc();
    let tw = tw("device");
    // The device client, as `device` signs in with it and `token` finds its session after.
    let device_settings = [
        &keycloak_client(&kc.url, "vion", "vion-device")[..],
        &["--scope", "openid offline_access"],
    ]
    .concat();
    let mut device = tw.spawn(&args(
        "device",
        &device_settings,
        &["--pkce", "--qr", "always", "--json"],
    ));
    let code = device.read_until("no code shown", |t| {
        (t.len() == 9 && t.as_bytes()[4] == b'-').then(|| t.to_string())
    });
    let shown = device.shown.clone();
    assert!(shown.contains("/realms/vion/device"), "{shown}");
    approve_device(&code);
    let (run, rest) = device.finish();
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        !common::has_jwt(&shown) && !common::has_jwt(&rest),
        "stderr shows no token"
    );
    let login = run.json();
    assert_eq!(
        login["refresh_expires_in"], 0,
        "offline_access: no refresh deadline"
    );
    let access = login["access_token"].as_str().unwrap().to_string();
    let refresh = login["refresh_token"].as_str().unwrap().to_string();
    common::register_secret(&access);
    common::register_secret(&refresh);
    assert!(rest.contains("the session is kept in file://"), "{rest}");
    // The QR code a phone scans opens the device page with the code filled in.
    let complete = format!("{}/realms/vion/device?user_code={code}", kc.url);
    assert!(rest.contains(&complete), "{rest}");
    assert_eq!(read_qr(&rest).as_deref(), Some(complete.as_str()), "{rest}");

    // Kept in the store like a browser login: `token` with the same settings prints its access
    // token, with no secret and no token on the command line.
    let stored = printed_token(&tw.run(&args("token", &device_settings, &[])));
    assert_eq!(stored, access, "the device login's token, from the store");

    let tw = tw.env("USER_TOKEN", &access).env("RT", &refresh);
    let exchange = args(
        "exchange",
        &keycloak_client(&kc.url, "vion", "vion-exchange"),
        &[
            "--client-secret-env",
            "S_VION_EXCHANGE_SECRET",
            "--subject-token-env",
            "USER_TOKEN",
            "--audience",
            "vion-service",
        ],
    );
    let exchanged = printed_token(&tw.run(&exchange));
    let c = claims(&exchanged);
    assert_eq!(c["aud"], "vion-service");
    assert_eq!(c["azp"], "vion-exchange");
    let file = tw.file("exchanged.txt", &exchanged);
    let r = tw.run(&args(
        "introspect",
        &keycloak_client(&kc.url, "vion", "vion-service"),
        &[
            "--client-secret-env",
            "S_VION_SERVICE_SECRET",
            "--token-file",
            file.to_str().unwrap(),
        ],
    ));
    r.ok();
    assert_eq!(r.json()["active"], true);

    // An audience the requester may not reach: the server's refusal, exit 3.
    let mut refused = exchange.clone();
    *refused.last_mut().unwrap() = "vion-web";
    tw.run(&refused).fails(3, &["invalid_"]);

    let vion_device = keycloak_client(&kc.url, "vion", "vion-device");
    let from_rt = ["--refresh-token-env", "RT"];
    tw.run(&args("logout", &vion_device, &from_rt)).ok();
    tw.run(&args("refresh", &vion_device, &from_rt))
        .fails(3, &["invalid_grant"]);
}

/// Decodes the QR code drawn in `text` (Unicode half blocks, drawn light on dark: a drawn half
/// is a light module) the way a phone's camera would, from a picture of it.
fn read_qr(text: &str) -> Option<String> {
    let rows: Vec<Vec<char>> = text
        .lines()
        .filter(|l| l.chars().count() > 20 && l.chars().all(|c| " ▀▄█".contains(c)))
        .map(|l| l.chars().collect())
        .collect();
    let width = rows.first()?.len();
    const SCALE: usize = 4; // pixels per module
    let light =
        |x: usize, y: usize| matches!((rows[y / 2][x], y % 2), ('█', _) | ('▀', 0) | ('▄', 1));
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(
        width * SCALE,
        rows.len() * 2 * SCALE,
        |x, y| {
            if light(x / SCALE, y / SCALE) {
                255
            } else {
                0
            }
        },
    );
    let grids = image.detect_grids();
    let (_, content) = grids.first()?.decode().ok()?;
    Some(content)
}

#[test]
fn private_key_jwt_and_client_secret_jwt() {
    let kc = kc();
    let tw = tw("signed-jwt");
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/keycloak/keys/");
    let vion_jwt = keycloak_client(&kc.url, "vion", "vion-jwt");
    for (file, kid) in [
        ("vion-jwt-rsa.pem", "vion-jwt-rsa"),
        ("vion-jwt-ec.pem", "vion-jwt-ec"),
    ] {
        let path = format!("{keys}{file}");
        let r = tw.run(&args(
            "token",
            &vion_jwt,
            &["--private-key-file", &path, "--key-id", kid],
        ));
        let t = printed_token(&r);
        assert_eq!(claims(&t)["azp"], "vion-jwt");
    }
    // The key file from the environment, like every setting.
    let tw2 = self::tw("signed-jwt-env")
        .env(
            "TOKENWARD_PRIVATE_KEY_FILE",
            &format!("{keys}vion-jwt-rsa.pem"),
        )
        .env("TOKENWARD_KEY_ID", "vion-jwt-rsa");
    printed_token(&tw2.run(&args("token", &vion_jwt, &[])));
    // A key the client does not have: refused, and no key material in the message. (A fresh
    // home: the store would otherwise answer with the token the right key got above.)
    let tw = self::tw("signed-jwt-wrong");
    let r = tw.run(&args(
        "token",
        &vion_jwt,
        &[
            "--private-key-file",
            &format!("{keys}vion-jwt-ec.pem"),
            "--key-id",
            "vion-jwt-rsa",
        ],
    ));
    r.fails(3, &["invalid_client"]);
    assert!(!r.stderr.contains("PRIVATE KEY"));
    let r = tw.run(&args(
        "token",
        &vion_jwt,
        &["--private-key-file", "/nonexistent/key.pem"],
    ));
    r.fails(2, &["cannot read the private key file"]);
    let t = printed_token(&tw.run(&args(
        "token",
        &keycloak_client(&kc.url, "vion", "vion-secret-jwt"),
        &[
            "--client-secret-env",
            "S_VION_SECRET_JWT_SECRET",
            "--auth-method",
            "client_secret_jwt",
        ],
    )));
    assert_eq!(claims(&t)["azp"], "vion-secret-jwt");
}

// ---- Issue 18: the store (the file store by default): tokens and logins kept between runs ----

/// The file store of a scratch environment: the CLI's default, `$HOME/.local/state/tokenward`.
fn store_dir(tw: &Tw) -> std::path::PathBuf {
    tw.dir.join(".local/state/tokenward")
}

/// The store's record files (`tw1-<hash>.json`).
fn records(tw: &Tw) -> Vec<std::path::PathBuf> {
    let Ok(dir) = std::fs::read_dir(store_dir(tw)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn client_credentials_are_reused_across_runs_through_the_file_store() {
    use std::os::unix::fs::PermissionsExt;
    let kc = kc();
    let tw = tw("reuse");
    let token_url = kc.token_url("ecoinvent");
    let ecoinvent = token_url_client(&token_url, "ecoinvent-client", "S_ECOINVENT_CLIENT_SECRET");
    let token = args("token", &ecoinvent, &[]);
    // 500 runs within the token's 3600 s: every one prints the same token, so the first run's
    // request is the only one (a new request always gets a new token: its jti differs).
    let started = std::time::Instant::now();
    let first = printed_token(&tw.run(&token));
    let mut same = 1;
    for _ in 1..500 {
        let r = tw.run(&token);
        r.ok();
        assert_eq!(r.stdout.trim_end(), first, "a run made a new request");
        same += 1;
    }
    eprintln!(
        "store reuse: {same} runs of `tokenward token`, 1 token request ({:.1} ms per run)",
        started.elapsed().as_secs_f64() * 1000.0 / 500.0
    );
    // The default store: 0700 directory, one 0600 record, no secret or token in its name.
    let dir = store_dir(&tw);
    let m = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(m & 0o777, 0o700, "{dir:?}");
    let files = records(&tw);
    assert_eq!(files.len(), 1, "{files:?}");
    let m = std::fs::metadata(&files[0]).unwrap().permissions().mode();
    assert_eq!(m & 0o777, 0o600);
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("tw1-") && !name.contains("ecoinvent"),
        "{name}"
    );

    // --json of a kept token counts expires_in from now.
    let r = tw.run(&args("token", &ecoinvent, &["--json"]));
    r.ok();
    assert_eq!(r.json()["access_token"], first.as_str());
    assert!(r.json()["expires_in"].as_u64().unwrap() <= 3600);

    // --store memory (and TOKENWARD_STORE=memory) keep nothing: each run asks anew.
    let a = printed_token(&tw.run(&args("token", &ecoinvent, &["--store", "memory"])));
    assert_ne!(a, first);
    let b = printed_token(&tw.run_env(&token, "TOKENWARD_STORE", "memory"));
    assert_ne!(b, first);
    assert_ne!(b, a);
    // Another store: its own cache.
    let elsewhere = format!("file://{}", tw.dir.join("other").display());
    let c = printed_token(&tw.run(&args("token", &ecoinvent, &["--store", &elsewhere])));
    assert_ne!(c, first);
    let d = printed_token(&tw.run(&args("token", &ecoinvent, &["--store", &elsewhere])));
    assert_eq!(c, d);
}

/// A `tokenward login` run, signed in as vion-user on Keycloak's page.
struct SignIn {
    /// The authorization URL the CLI printed.
    url: String,
    /// Where Keycloak sent the browser back (the CLI's loopback listener).
    callback: String,
    /// What the loopback listener showed the browser.
    page: String,
    run: Run,
}

/// Runs `tokenward login ARGS` and plays the user's browser: Keycloak's login form as
/// vion-user, then the redirect to the CLI's loopback listener.
fn sign_in(tw: &Tw, args: &[&str]) -> SignIn {
    let kc = kc();
    let mut login = tw.spawn(args);
    let url = login.printed_url();
    let callback = browser_login(&url, "vion-user", kc.var("TW_VION_USER_PASSWORD"));
    let page = ureq::get(&callback)
        .call()
        .expect("the loopback page answers")
        .body_mut()
        .read_to_string()
        .unwrap();
    let (run, _) = login.finish();
    SignIn {
        url,
        callback,
        page,
        run,
    }
}

#[test]
fn login_once_then_token_and_logout_through_the_store() {
    let kc = kc();
    let tw = tw("login-once");
    let cfg = tw.file(
        "config.toml",
        &format!(
            "[profile.vion-user]\nkeycloak = \"{}\"\nrealm = \"vion\"\nclient_id = \"vion-spa\"\n\
             scope = \"openid user_impersonation\"\n",
            kc.url
        ),
    );
    let tw = tw.env("TOKENWARD_CONFIG", cfg.to_str().unwrap());
    let profile = ["--profile", "vion-user"];

    // Nothing kept yet, and a public client has no client credentials: say how to sign in.
    tw.run(&args("token", &profile, &[]))
        .fails(2, &["tokenward login", "no session of this client is kept"]);

    let login = sign_in(&tw, &args("login", &profile, &["--timeout", "90"])).run;
    let at = printed_token(&login);
    assert!(
        login.stderr.contains("the session is kept in file://"),
        "{login:#?}"
    );
    let files = records(&tw);
    assert_eq!(files.len(), 1, "{files:?}");

    // `token` prints the session's access token, no token on the command line.
    let t = printed_token(&tw.run(&args("token", &profile, &[])));
    assert_eq!(t, at);
    assert_eq!(claims(&t)["preferred_username"], "vion-user");

    // Make the kept token due and expired (as if its 5 minutes had passed): the next run
    // refreshes it with the stored refresh token and keeps the new one.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let mut record: Value = serde_json::from_str(&text).unwrap();
    let rt = record["token"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    register_secret(&rt);
    let past = record["sent_unix_ms"].as_u64().unwrap();
    record["refresh_unix_ms"] = past.into();
    record["expires_unix_ms"] = past.into();
    std::fs::write(&files[0], record.to_string()).unwrap();
    let renewed = printed_token(&tw.run(&args("token", &profile, &[])));
    assert_ne!(renewed, at, "the expired token was printed");
    assert_eq!(claims(&renewed)["preferred_username"], "vion-user");
    let again = printed_token(&tw.run(&args("token", &profile, &[])));
    assert_eq!(again, renewed, "the refreshed token was not kept");

    // `refresh` without a refresh token renews the kept session now, and keeps the result.
    let forced = printed_token(&tw.run(&args("refresh", &profile, &[])));
    assert_ne!(forced, again, "refresh printed the kept token");
    assert_eq!(claims(&forced)["preferred_username"], "vion-user");
    let kept = printed_token(&tw.run(&args("token", &profile, &[])));
    assert_eq!(kept, forced, "the refreshed session was not kept");

    // logout: ends the session, revokes its refresh token, deletes the record.
    let r = tw.run(&args("logout", &profile, &[]));
    r.ok();
    assert!(r.stdout.is_empty(), "{r:#?}");
    assert!(records(&tw).is_empty(), "{:?}", records(&tw));
    tw.run(&args("token", &profile, &[]))
        .fails(2, &["tokenward login"]);
    let r = tw.run_env(
        &args("refresh", &profile, &["--refresh-token-env", "RT"]),
        "RT",
        &rt,
    );
    r.fails(3, &["invalid_grant"]);
}
