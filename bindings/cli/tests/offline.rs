//! The binary end to end where no identity provider is needed: help, completions, usage errors,
//! unreachable servers, decode, and the loopback half of `login`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{
    args, closed_port, fake_jwt, keycloak_client, register_secret, token_url_client, Running, Tw,
};

#[test]
fn help_shows_the_four_seed_systems() {
    let r = Tw::new("help").run(&["--help"]);
    r.ok();
    for needle in [
        "tokenward login --keycloak https://auth.test.ecocoa.ch --realm vion",
        "--scope 'openid user_impersonation'",
        "--token-url https://sso.ecoinvent.org/realms/ecoinvent/protocol/openid-connect/token",
        "--token-url https://auth.ppd.iopole.fr/realms/iopole/protocol/openid-connect/token",
        "--template 'https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}'",
        "--scope openid --require-claim tenant",
        "[profile.vion-test]",
        "Exit codes",
    ] {
        assert!(r.stdout.contains(needle), "--help lacks {needle:?}");
    }
}

#[test]
fn the_leak_check_spots_jwts_only() {
    let jwt = fake_jwt(r#"{"sub":"x"}"#);
    assert!(common::has_jwt(&format!("error: {jwt} leaked")));
    assert!(!common::has_jwt("state=abceyJ0123456789xyz&nonce=eyJabc"));
    assert!(!common::has_jwt("no token here"));
}

#[test]
fn completions_for_each_shell() {
    let tw = Tw::new("completions");
    for shell in ["bash", "zsh", "fish"] {
        let r = tw.run(&["completions", shell]);
        r.ok();
        assert!(
            r.stdout.contains("tokenward") && r.stdout.contains("client-secret-env"),
            "{shell}"
        );
    }
    tw.run(&["completions", "tcsh"])
        .fails(2, &["invalid value"]);
}

#[test]
fn usage_mistakes_exit_2() {
    let tw = Tw::new("usage");
    tw.run(&["token", "--bogus"])
        .fails(2, &["unexpected argument '--bogus'"]);
    tw.run(&["token", "--client-id", "x"])
        .fails(2, &["no identity provider given"]);
    // A template value missing, and the other refused templates: tests/vectors/templates.json,
    // run by tests/vectors.rs.
    tw.run(&["token", "--set", "novalue"])
        .fails(2, &["not key=value"]);
    let sso = "https://sso.example.org/token";
    tw.run(&args(
        "token",
        &token_url_client("http://sso.example.org/token", "x", "PATH"),
        &[],
    ))
    .fails(2, &["refusing plain http"]);
    tw.run(&["token", "--token-url", sso, "--client-id", "x"])
        .fails(2, &["need a client secret"]);
    tw.run(&args(
        "token",
        &token_url_client(sso, "x", "TW_NOT_SET_ANYWHERE"),
        &[],
    ))
    .fails(2, &["`TW_NOT_SET_ANYWHERE`", "is not set"]);
    tw.run(&[
        "token",
        "--keycloak",
        "https://k.example",
        "--client-id",
        "x",
    ])
    .fails(2, &["needs --realm"]);
    tw.run(&["token", "--profile", "nope", "--client-id", "x"])
        .fails(2, &["cannot read the profiles file"]);
    tw.run(&args(
        "token",
        &token_url_client(sso, "x", "PATH"),
        &["--ca-file", "/no/such/ca.pem"],
    ))
    .fails(2, &["cannot read CA file `/no/such/ca.pem`"]);
}

#[test]
fn unreachable_server_exits_4() {
    let tw = Tw::new("unreachable").env("TW_S", "not-a-real-secret-1");
    register_secret("not-a-real-secret-1");
    let url = format!(
        "http://127.0.0.1:{}/realms/x/protocol/openid-connect/token",
        closed_port()
    );
    let client = token_url_client(&url, "x", "TW_S");
    tw.run(&args("token", &client, &["--verbose"]))
        .fails(4, &["could not reach the server"]);
    let e = tw.run(&args("token", &client, &["--json"])).json_error(4);
    assert_eq!(e["code"], "transport", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("could not reach the server"),
        "{e}"
    );
    assert!(
        e.get("status").is_none() && e.get("oauth_error").is_none(),
        "{e}"
    );
    let issuer = format!("http://127.0.0.1:{}/realms/x", closed_port());
    tw.run(&[
        "token",
        "--issuer",
        &issuer,
        "--client-id",
        "x",
        "--client-secret-env",
        "TW_S",
    ])
    .fails(4, &["could not reach the server"]);
}

#[test]
fn argv_secret_warns_and_is_never_echoed() {
    let secret = "argv-secret-value-1234";
    register_secret(secret);
    let url = format!("http://127.0.0.1:{}/token", closed_port());
    let r = Tw::new("argv").run(&[
        "-v",
        "token",
        "--token-url",
        &url,
        "--client-id",
        "x",
        "--client-secret",
        secret,
    ]);
    r.fails(4, &["tokenward: warning: --client-secret", "other users"]);
    assert!(r.stderr.contains("secret from --client-secret"), "{r:#?}");
}

#[test]
fn stdin_serves_one_secret_only() {
    let r = Tw::new("stdin").run_with(
        &[
            "refresh",
            "--token-url",
            "https://sso.example.org/token",
            "--client-id",
            "x",
            "--client-secret-stdin",
        ],
        Some("stdin-secret-value\n"),
    );
    r.fails(2, &["standard input already holds the client secret"]);
}

#[test]
fn decode_shows_claims_and_human_expiry() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jwt = fake_jwt(&format!(
        r#"{{"exp":{},"iat":{now},"iss":"https://auth.test.ecocoa.ch/realms/vion","azp":"vault-service",
            "realm_access":{{"roles":["admin","user"]}},"scope":"openid profile","tenant":"acme"}}"#,
        now + 299
    ));
    let tw = Tw::new("decode");
    let r = tw.run(&["decode", &jwt]);
    r.ok();
    let words = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "expires: in 4m 5",
        " UTC) issued: ",
        "realm roles: admin, user",
        "scope: openid profile",
        "tenant: acme",
        "\"azp\": \"vault-service\"",
        "without verifying the signature",
    ] {
        assert!(words.contains(needle), "lacks {needle:?}: {r:#?}");
    }
    // From standard input, as `--header` prints it, and as bare JSON.
    let r = tw.run_with(
        &["decode", "--json"],
        Some(&format!("Authorization: Bearer {jwt}\n")),
    );
    r.ok();
    assert_eq!(r.json()["tenant"], "acme");
    tw.run(&["decode", "not-a-jwt"]).fails(2, &["not a JWT"]);
    tw.run_with(&["decode"], Some(""))
        .fails(2, &["no token given"]);
}

/// Starts `tokenward login` against a Keycloak nobody runs and returns it with the URL it
/// printed: the loopback half of a login needs no provider until the code comes back.
fn start_login(tw: &Tw, extra: &[&str]) -> (Running, String) {
    let vion_spa = keycloak_client("http://127.0.0.1:9/", "vion", "vion-spa");
    let more = [&["--scope", "openid user_impersonation"][..], extra].concat();
    let mut login = tw.spawn(&args("login", &vion_spa, &more));
    let url = login.printed_url();
    (login, url)
}

fn query_param(url: &str, name: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .replace("%3A", ":")
        .replace("%2F", "/")
}

#[test]
fn login_url_is_pkce_s256_on_a_loopback_redirect() {
    let tw = Tw::new("login-url");
    let (login, url) = start_login(&tw, &["--timeout", "1"]);
    assert!(url.starts_with("http://127.0.0.1:9/realms/vion/protocol/openid-connect/auth?"));
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("scope=openid+user_impersonation"), "{url}");
    let redirect = query_param(&url, "redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
    let (run, rest) = login.finish();
    assert_eq!(run.code, 4, "{rest}");
    assert!(rest.contains("did not come back"), "{rest}");
}

#[test]
fn forged_callback_is_refused_with_exit_3() {
    let tw = Tw::new("login-forged");
    let (login, url) = start_login(&tw, &["--timeout", "30", "--redirect-path", "/cb"]);
    let redirect = query_param(&url, "redirect_uri");
    let hostport = redirect
        .strip_prefix("http://")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(redirect.ends_with("/cb"), "{redirect}");
    let mut s = TcpStream::connect(&hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET /cb?state=forged&code=stolen HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 400"), "{page}");
    assert!(
        !page.contains("forged") && !page.contains("stolen"),
        "{page}"
    );
    let (run, rest) = login.finish();
    assert_eq!(run.code, 3, "{rest}");
    assert!(
        rest.contains("tokenward: error: ") && rest.contains("`state`"),
        "{rest}"
    );
    // A login is spent by its first callback, whatever the outcome: the real callback that
    // follows the forged one finds nobody listening.
    assert!(
        TcpStream::connect(&hostport).is_err(),
        "the loopback still listens after a forged callback"
    );
}

#[test]
fn profile_mistakes_name_the_file_and_line() {
    let tw = Tw::new("profile-bad");
    let cfg = tw.file("config.toml", "[profile.p]\nrelam = \"vion\"\n");
    let r = Tw::new("profile-bad2")
        .env("TOKENWARD_CONFIG", cfg.to_str().unwrap())
        .run(&["token", "--profile", "p"]);
    r.fails(2, &["config.toml:2: unknown key `relam`"]);
}

#[test]
fn verify_and_decode_say_what_was_checked() {
    let tw = Tw::new("verify-offline");
    let jwt = fake_jwt(r#"{"sub":"x","iss":"http://127.0.0.1:9/realms/r"}"#);
    // Decoding is not verifying, and the output says so.
    let r = tw.run(&["decode", &jwt]);
    r.ok();
    assert!(r.stdout.starts_with("NOT VERIFIED"), "{r:#?}");
    let r = tw.run(&["decode", "--json", &jwt]);
    r.ok();
    assert!(r.stderr.contains("NOT verified"), "{r:#?}");
    assert_eq!(r.json()["sub"], "x");
    // verify needs a provider; bad flags are usage errors.
    tw.run_with(&["verify"], Some(&jwt))
        .fails(2, &["no identity provider given"]);
    tw.run(&["verify", "--leeway=-1", &jwt])
        .fails(2, &["--leeway"]);
    // A token that is not even a JWT never reaches the network: exit 3, invalid_token.
    let port = closed_port().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let api = keycloak_client(&base, "r", "api");
    let e = tw
        .run(&args("verify", &api, &["--json", "not-a-jwt"]))
        .json_error(3);
    assert_eq!(e["code"], "invalid_token", "{e}");
    // A well-formed token whose keys cannot be fetched is the network's trouble (exit 4, not
    // a refusal of the token: an API answers 503 for it, not 401), and the message says where
    // the keys were looked for.
    tw.run(&args("verify", &api, &[&jwt])).fails(
        4,
        &["the provider's keys at", "/protocol/openid-connect/certs"],
    );
    // userinfo needs a token.
    tw.run_with(&args("userinfo", &api, &[]), Some(""))
        .fails(2, &[]);
}
