use super::*;
use std::vec;

trait ConfigMessage {
    fn config_message(self) -> String;
}

impl ConfigMessage for Error {
    /// The message of a configuration error, without `Display`'s prefix.
    fn config_message(self) -> String {
        match self {
            Error::Config(m) => m,
            e => panic!("not a configuration error: {e}"),
        }
    }
}

fn flags() -> Layer {
    Layer::new(Origin::Flags)
}

fn env_of(pairs: &[(&str, &str)]) -> Env {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}

const PROFILES: &str = r#"
# tokenward profiles
[profile.vion-test]
keycloak = "https://auth.test.ecocoa.ch"   # VION test
realm = 'vion'
client_id = "vion-service"
client_secret_env = "VION_SECRET"
scope = "openid user_impersonation"
timeout = 10

[profile."docbyte-acme"]
template = "https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}"
set.account = "acme"
set.environment = "prod"
set.tenant = "acme"
client_id = "vault-service"
client_secret = "inline-secret"
scope = "openid"
require_claim = "tenant"
"#;

fn file(private: bool) -> ProfileFile {
    let mut f = ProfileFile::parse(
        Path::new("/home/u/.config/tokenward/config.toml"),
        PROFILES.into(),
    )
    .unwrap();
    f.private = private;
    f
}

fn parse_err(text: &str) -> String {
    ProfileFile::parse(Path::new("cfg.toml"), text.into())
        .unwrap_err()
        .config_message()
}

fn layer_err(text: &str) -> String {
    ProfileFile::parse(Path::new("cfg.toml"), text.into())
        .unwrap()
        .layer("p", None)
        .unwrap_err()
        .config_message()
}

#[test]
fn expected_issuer_and_leeway_come_from_flags_env_or_profile() {
    let text = "[profile.p]\nkeycloak = \"http://kc:8080\"\nrealm = \"r\"\nclient_id = \"c\"\n\
                expected_issuer = \"https://sso.example/realms/r\"\nleeway = 0\n";
    let p = ProfileFile::parse(Path::new("cfg.toml"), text.into())
        .unwrap()
        .layer("p", None)
        .unwrap();
    let s = Settings::resolve(&[flags(), p.clone()]).unwrap();
    assert_eq!(
        s.expected_issuer.as_deref(),
        Some("https://sso.example/realms/r")
    );
    assert_eq!(s.leeway, Some(Duration::ZERO));
    let env = Layer::from_env(&env_of(&[
        ("TOKENWARD_EXPECTED_ISSUER", "https://env.example/realms/r"),
        ("TOKENWARD_LEEWAY", "5"),
    ]))
    .unwrap();
    let s = Settings::resolve(&[flags(), env, p]).unwrap();
    assert_eq!(
        s.expected_issuer.as_deref(),
        Some("https://env.example/realms/r")
    );
    assert_eq!(s.leeway, Some(Duration::from_secs(5)));
    let e = Layer::from_env(&env_of(&[("TOKENWARD_LEEWAY", "soon")]))
        .unwrap_err()
        .config_message();
    assert!(
        e.starts_with("TOKENWARD_LEEWAY: `soon` is not a whole number"),
        "{e}"
    );
    let e = layer_err("[profile.p]\nleeway = true\n");
    assert!(
        e.contains("key `leeway` must be a whole number of seconds"),
        "{e}"
    );
}

#[test]
fn a_profile_alone_is_enough() {
    let p = file(false).layer("vion-test", None).unwrap();
    let s = Settings::resolve(&[flags(), p]).unwrap();
    assert_eq!(
        s.provider,
        ProviderSpec::Keycloak {
            base: "https://auth.test.ecocoa.ch".into(),
            realm: "vion".into()
        }
    );
    assert_eq!(s.client_id, "vion-service");
    assert_eq!(
        s.secret.unwrap().source,
        SecretSource::Env("VION_SECRET".into())
    );
    assert_eq!(s.scope.as_deref(), Some("openid user_impersonation"));
    assert_eq!(s.timeout, Some(Duration::from_secs(10)));
}

#[test]
fn flags_beat_environment_beat_profile() {
    let env = env_of(&[
        ("TOKENWARD_CLIENT_ID", "from-env"),
        ("TOKENWARD_SCOPE", "email"),
        ("TOKENWARD_REALM", "env-realm"),
        ("TOKENWARD_CLIENT_SECRET", "env-secret"),
        ("TOKENWARD_TIMEOUT", "20"),
    ]);
    let p = file(false).layer("vion-test", None).unwrap();
    let mut cmd = flags();
    cmd.scope = Some("profile".into());
    let s = Settings::resolve(&[cmd, Layer::from_env(&env).unwrap(), p]).unwrap();
    assert_eq!(s.client_id, "from-env");
    assert_eq!(s.scope.as_deref(), Some("profile"));
    assert_eq!(s.timeout, Some(Duration::from_secs(20)));
    // The base URL still comes from the profile; the realm from the environment.
    assert_eq!(
        s.provider,
        ProviderSpec::Keycloak {
            base: "https://auth.test.ecocoa.ch".into(),
            realm: "env-realm".into()
        }
    );
    let secret = s.secret.unwrap();
    assert_eq!(secret.origin, "TOKENWARD_CLIENT_SECRET");
    assert_eq!(
        secret.source,
        SecretSource::Inline(Secret::new("env-secret"))
    );
}

#[test]
fn a_higher_layer_provider_kind_replaces_the_lower_one() {
    let env = env_of(&[("TOKENWARD_ISSUER", "https://idp.example/realms/x")]);
    let p = file(false).layer("vion-test", None).unwrap();
    let s = Settings::resolve(&[flags(), Layer::from_env(&env).unwrap(), p.clone()]).unwrap();
    assert_eq!(
        s.provider,
        ProviderSpec::Issuer("https://idp.example/realms/x".into())
    );
    let mut cmd = flags();
    cmd.token_url = Some("https://t.example/token".into());
    let s = Settings::resolve(&[cmd, p]).unwrap();
    assert_eq!(
        s.provider,
        ProviderSpec::TokenUrl("https://t.example/token".into())
    );
}

#[test]
fn template_values_merge_key_by_key() {
    let p = file(true).layer("docbyte-acme", None).unwrap();
    let mut cmd = flags();
    cmd.set = vec![("tenant".into(), "globex".into())];
    let s = Settings::resolve(&[cmd, p]).unwrap();
    let ProviderSpec::Template { url, values } = s.provider else {
        panic!("not a template")
    };
    assert!(url.contains("{account}"));
    assert_eq!(
        values,
        [
            ("tenant".to_string(), "globex".to_string()),
            ("account".into(), "acme".into()),
            ("environment".into(), "prod".into()),
        ]
    );
    assert_eq!(s.require_claims, ["tenant"]);
}

#[test]
fn inline_profile_secret_needs_a_private_file() {
    let p = file(true).layer("docbyte-acme", None).unwrap();
    assert_eq!(
        p.secret.unwrap().source,
        SecretSource::Inline(Secret::new("inline-secret"))
    );
    let e = file(false)
        .layer("docbyte-acme", None)
        .unwrap_err()
        .config_message();
    assert!(
        e.starts_with("/home/u/.config/tokenward/config.toml:17: key `client_secret`"),
        "{e}"
    );
    assert!(
        e.contains("chmod 600 /home/u/.config/tokenward/config.toml"),
        "{e}"
    );
    assert!(!e.contains("inline-secret"), "{e}");
}

#[cfg(unix)]
#[test]
fn only_owner_only_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tw-settings-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.toml");
    std::fs::write(&p, "[profile.p]\nclient_secret = \"s3cr3t\"\n").unwrap();
    for (mode, private) in [(0o644, false), (0o640, false), (0o600, true), (0o400, true)] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        let f = ProfileFile::load(&p).unwrap();
        assert_eq!(f.private, private, "{mode:o}");
        assert_eq!(f.layer("p", None).is_ok(), private, "{mode:o}");
    }
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let e = ProfileFile::load(&p).unwrap_err().to_string();
    assert!(e.contains("cannot read the profiles file"), "{e}");
}

#[test]
fn argv_layers_and_usage_errors_say_what_to_pass() {
    let e = Settings::resolve(&[flags()]).unwrap_err().to_string();
    assert!(
        e.contains("no identity provider given") && e.contains("--token-url"),
        "{e}"
    );
    let e = Settings::resolve(&[Layer::new(Origin::Environment)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("TOKENWARD_ISSUER"), "{e}");

    let mut cmd = flags();
    cmd.keycloak = Some("https://k".into());
    cmd.client_id = Some("c".into());
    let e = Settings::resolve(&[cmd.clone()]).unwrap_err().to_string();
    assert!(e.contains("needs --realm"), "{e}");

    cmd.issuer = Some("https://i".into());
    let e = Settings::resolve(&[cmd]).unwrap_err().to_string();
    assert!(e.contains("2 ways (--issuer, --keycloak)"), "{e}");

    let mut cmd = flags();
    cmd.token_url = Some("https://t/token".into());
    cmd.realm = Some("r".into());
    cmd.client_id = Some("c".into());
    let e = Settings::resolve(&[cmd.clone()]).unwrap_err().to_string();
    assert!(e.contains("--realm goes with --keycloak"), "{e}");
    cmd.realm = None;
    assert!(Settings::resolve(&[cmd.clone()]).is_ok());
    cmd.set = vec![("a".into(), "b".into())];
    let e = Settings::resolve(&[cmd]).unwrap_err().to_string();
    assert!(e.contains("--set fills a --template URL"), "{e}");

    // A realm below the layer naming the provider is replaced with it.
    let mut cmd = flags();
    cmd.token_url = Some("https://t/token".into());
    cmd.client_id = Some("c".into());
    let mut env = Layer::new(Origin::Environment);
    env.realm = Some("r".into());
    assert!(Settings::resolve(&[cmd.clone(), env]).is_ok());

    let mut cmd = flags();
    cmd.token_url = Some("https://t/token".into());
    let e = Settings::resolve(&[cmd.clone()]).unwrap_err().to_string();
    assert!(e.contains("--client-id"), "{e}");
    cmd.client_id = Some("c".into());
    cmd.auth_method = Some("digest".into());
    let e = Settings::resolve(&[cmd]).unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::Config);
    assert!(
        e.to_string()
            .contains("post, basic, none, private_key_jwt or client_secret_jwt"),
        "{e}"
    );
}

#[test]
fn environment_mistakes_name_the_variables() {
    for (pairs, words) in [
        (
            &[
                ("TOKENWARD_ISSUER", "https://a"),
                ("TOKENWARD_TOKEN_URL", "https://b"),
            ][..],
            "2 ways (TOKENWARD_ISSUER, TOKENWARD_TOKEN_URL)",
        ),
        (
            &[
                ("TOKENWARD_KEYCLOAK", "https://a"),
                ("TOKENWARD_CLIENT_ID", "c"),
            ],
            "TOKENWARD_KEYCLOAK=BASE needs TOKENWARD_REALM=NAME",
        ),
        (
            &[("TOKENWARD_TOKEN_URL", "https://a/token")],
            "TOKENWARD_CLIENT_ID",
        ),
        (
            &[
                ("TOKENWARD_TOKEN_URL", "https://a/token"),
                ("TOKENWARD_REALM", "r"),
            ],
            "TOKENWARD_REALM goes with TOKENWARD_KEYCLOAK, but the provider is given by \
             TOKENWARD_TOKEN_URL (the environment)",
        ),
    ] {
        let e = Settings::resolve(&[Layer::from_env(&env_of(pairs)).unwrap()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(words), "{pairs:?}: {e}");
    }
}

#[test]
fn environment_layer_reads_every_variable() {
    let env = env_of(&[
        ("TOKENWARD_TEMPLATE", "https://k.{a}.example/realms/{b}"),
        ("TOKENWARD_SET", "a=1 b=2"),
        ("TOKENWARD_SET_TENANT", "acme"),
        ("TOKENWARD_SET_", "ignored"),
        ("TOKENWARD_CLIENT_ID", "c"),
        ("TOKENWARD_CLIENT_SECRET_FILE", "/run/secret"),
        ("TOKENWARD_AUTH_METHOD", "basic"),
        ("TOKENWARD_REQUIRE_CLAIM", "tenant,org"),
        ("TOKENWARD_TIMEOUT", "7"),
        ("TOKENWARD_CA_FILE", "/etc/ca.pem"),
        ("TOKENWARD_REDIRECT_URI", "https://app.example/cb"),
        ("TOKENWARD_ISSUER", " "),
    ]);
    let l = Layer::from_env(&env).unwrap();
    assert_eq!(l.issuer, None, "blank counts as unset");
    assert_eq!(
        l.set,
        [
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("tenant".into(), "acme".into())
        ]
    );
    assert_eq!(
        l.secret.unwrap().source,
        SecretSource::File("/run/secret".into())
    );
    assert_eq!(l.require_claims, ["tenant", "org"]);
    assert_eq!(l.timeout, Some(Duration::from_secs(7)));
    let s = Settings::resolve(&[Layer::from_env(&env).unwrap()]).unwrap();
    assert_eq!(s.auth_method, Some(AuthMethod::ClientSecretBasic));
    assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(s.redirect_uri.as_deref(), Some("https://app.example/cb"));
    assert_eq!(s.client_config(None).redirect_uri, s.redirect_uri);

    for (pairs, words) in [
        (
            &[
                ("TOKENWARD_CLIENT_SECRET", "x"),
                ("TOKENWARD_CLIENT_SECRET_FILE", "/f"),
            ][..],
            "both",
        ),
        (&[("TOKENWARD_TIMEOUT", "0")], "TOKENWARD_TIMEOUT: `0`"),
        (&[("TOKENWARD_TIMEOUT", "soon")], "TOKENWARD_TIMEOUT"),
        (
            &[("TOKENWARD_SET", "novalue")],
            "TOKENWARD_SET: `novalue` is not key=value",
        ),
        (
            &[("TOKENWARD_SET", "t=a"), ("TOKENWARD_SET_T", "b")],
            "`t` is set by both TOKENWARD_SET and TOKENWARD_SET_T",
        ),
    ] {
        let e = Layer::from_env(&env_of(pairs)).unwrap_err().to_string();
        assert!(e.contains(words), "{pairs:?}: {e}");
    }
}

#[test]
fn profile_mistakes_name_the_file_line_and_key() {
    let e = file(false).layer("nope", None).unwrap_err().to_string();
    assert!(e.contains("docbyte-acme, vion-test"), "{e}");
    for (text, needle) in [
        (
            "[profile.p]\nrelam = \"x\"\n",
            "cfg.toml:2: unknown key `relam` in profile `p`; known keys: issuer,",
        ),
        (
            "[profile.p]\nrealm = 5\n",
            "cfg.toml:2: key `realm` in profile `p`: invalid type",
        ),
        (
            "\n[profile.p]\nrealm = vion\n",
            "cfg.toml:3: key `realm` in profile `p`:",
        ),
        ("[profile.p]\nrealm = \"vion\n", "cfg.toml:2:"),
        ("[profile.p]\nrealm = \"a\"\nrealm = \"b\"\n", "cfg.toml:3:"),
        (
            "[profiles.p]\nrealm = \"a\"\n",
            "cfg.toml:1: unknown key `profiles`",
        ),
        ("realm = \"a\"\n", "cfg.toml:1: unknown key `realm`"),
        (
            "[profile.p]\nset.a.b = \"x\"\n",
            "cfg.toml:2: key `set.a.b` in profile `p`",
        ),
    ] {
        let e = parse_err(text);
        assert!(e.starts_with(needle), "{text:?}: {e}");
    }
    for (text, needle) in [
        (
            "[profile.p]\nclient_secret_env = \"A\"\nclient_secret_file = \"/b\"\n",
            "cfg.toml:3: profile `p` names its client secret twice",
        ),
        (
            "[profile.p]\nport = \"99999\"\n",
            "cfg.toml:2: key `port`: `99999` is not a port",
        ),
        (
            "[profile.p]\nport = 1.5\n",
            "cfg.toml:2: key `port` must be a port number, not a float",
        ),
        (
            "[profile.p]\ntimeout = 0\n",
            "cfg.toml:2: key `timeout`: `0` is not a whole number",
        ),
        (
            "[profile.p]\n\ntimeout = true\n",
            "cfg.toml:3: key `timeout` must be a whole number",
        ),
        (
            "[profile.p]\nrequire_claim = [1]\n",
            "cfg.toml:2: key `require_claim` must be",
        ),
    ] {
        let e = layer_err(text);
        assert!(e.starts_with(needle), "{text:?}: {e}");
    }
}

#[test]
fn profile_values_keep_the_old_forms() {
    let f = ProfileFile::parse(
        Path::new("cfg.toml"),
        "[profile.p]\nclient_secret_file = \"~/.s/x\"\nca_file = \"/etc/ca.pem\"\n\
         timeout = \"30\"\nport = 8400\nrequire_claim = [\"tenant\", \"org\"]\n\
         redirect_path = \"/cb\"\n"
            .into(),
    )
    .unwrap();
    let l = f.layer("p", Some("/home/u")).unwrap();
    assert_eq!(
        l.secret.unwrap().source,
        SecretSource::File("/home/u/.s/x".into())
    );
    assert_eq!(l.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(l.timeout, Some(Duration::from_secs(30)));
    assert_eq!(l.port, Some(8400));
    assert_eq!(l.require_claims, ["tenant", "org"]);
    assert_eq!(l.redirect_path.as_deref(), Some("/cb"));
    assert_eq!(l.origin.to_string(), "profile `p`");
}

#[test]
fn load_reads_the_named_profile_from_the_configured_file() {
    let dir = std::env::temp_dir().join(format!("tw-settings-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.toml");
    std::fs::write(
        &p,
        PROFILES.replace("client_secret = \"inline-secret\"\n", ""),
    )
    .unwrap();
    let path = p.to_str().unwrap();
    let env = env_of(&[
        ("TOKENWARD_CONFIG", path),
        ("TOKENWARD_PROFILE", "vion-test"),
    ]);
    let s = Settings::load(Vec::new(), None, &env).unwrap();
    assert_eq!(s.client_id, "vion-service");
    assert_eq!(s.profile, Some(("vion-test".to_string(), p.clone())));
    // The argument beats TOKENWARD_PROFILE; the environment beats the profile.
    let env = env_of(&[
        ("TOKENWARD_CONFIG", path),
        ("TOKENWARD_PROFILE", "vion-test"),
        ("TOKENWARD_SCOPE", "email"),
    ]);
    let s = Settings::load(Vec::new(), Some("docbyte-acme"), &env).unwrap();
    assert_eq!(s.client_id, "vault-service");
    assert_eq!(s.scope.as_deref(), Some("email"));
    let s = Settings::load(
        Vec::new(),
        None,
        &env_of(&[
            ("TOKENWARD_TOKEN_URL", "https://t/token"),
            ("TOKENWARD_CLIENT_ID", "c"),
        ]),
    )
    .unwrap();
    assert_eq!(s.profile, None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn default_path_prefers_tokenward_config() {
    let env = env_of(&[("TOKENWARD_CONFIG", "/etc/tw.toml"), ("HOME", "/home/u")]);
    assert_eq!(profiles_path(&env), Some(PathBuf::from("/etc/tw.toml")));
    let env = env_of(&[("HOME", "/home/u")]);
    assert_eq!(
        profiles_path(&env),
        Some(PathBuf::from("/home/u/.config/tokenward/config.toml"))
    );
    let env = env_of(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")]);
    assert_eq!(
        profiles_path(&env),
        Some(PathBuf::from("/x/tokenward/config.toml"))
    );
}

#[test]
fn secrets_are_read_trimmed_and_never_shown() {
    let dir = std::env::temp_dir().join(format!("tw-settings-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("s");
    std::fs::write(&f, "from-file\r\n").unwrap();
    let env = env_of(&[("S", "from-env\n"), ("TOKENWARD_CLIENT_SECRET", "s3cr3t")]);
    let spec = |source| SecretSpec {
        source,
        origin: "--test".into(),
    };
    let read = |s: SecretSource| spec(s).read("client secret", &env);
    assert_eq!(
        read(SecretSource::Env("S".into())).unwrap().expose(),
        "from-env"
    );
    assert_eq!(
        read(SecretSource::File(f.clone())).unwrap().expose(),
        "from-file"
    );
    let e = read(SecretSource::Env("MISSING".into()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`MISSING`") && e.contains("--test"), "{e}");
    std::fs::write(&f, "\n").unwrap();
    let e = read(SecretSource::File(f.clone())).unwrap_err().to_string();
    assert!(e.contains("the client secret from --test is empty"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let e = read(SecretSource::File(f.clone())).unwrap_err().to_string();
    assert!(e.contains("cannot read the client secret from"), "{e}");
    assert!(read(SecretSource::Stdin).is_err());
    assert!(read(SecretSource::File("-".into())).is_err());
    assert!(!format!("{env:?}").contains("s3cr3t"));
}

#[test]
fn set_and_seconds_parsing() {
    assert_eq!(
        parse_set("tenant=acme").unwrap(),
        ("tenant".into(), "acme".into())
    );
    assert_eq!(parse_set("k=").unwrap(), ("k".into(), "".into()));
    assert!(parse_set("=v").is_err());
    assert!(parse_set("kv").is_err());
    assert_eq!(parse_seconds("30"), Ok(30));
    assert!(parse_seconds("0").is_err());
    assert!(parse_seconds("-1").is_err());
    assert!(parse_seconds("1.5").is_err());
}

#[test]
fn the_cli_defaults_to_the_file_store_and_libraries_to_none() {
    let mut top = flags();
    top.token_url = Some("https://t.example/token".into());
    top.client_id = Some("c".into());
    let env = env_of(&[("HOME", "/home/u")]);
    let lib = Settings::load(vec![top.clone()], None, &env).unwrap();
    assert_eq!(lib.store, None);
    let cli = Settings::load_for(Binding::Cli, vec![top.clone()], None, &env).unwrap();
    assert_eq!(
        cli.store.as_deref(),
        Some("file:///home/u/.local/state/tokenward")
    );
    let env = env_of(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/st ate")]);
    let cli = Settings::load_for(Binding::Cli, vec![top.clone()], None, &env).unwrap();
    assert_eq!(cli.store.as_deref(), Some("file:///st%20ate/tokenward"));
    // Any layer naming a store wins; `memory` turns the store off.
    let env = env_of(&[("HOME", "/home/u"), ("TOKENWARD_STORE", "redis://r")]);
    let cli = Settings::load_for(Binding::Cli, vec![top.clone()], None, &env).unwrap();
    assert_eq!(cli.store.as_deref(), Some("redis://r"));
    top.store = Some("memory".into());
    let cli = Settings::load_for(Binding::Cli, vec![top], None, &env).unwrap();
    assert_eq!(cli.store.as_deref(), Some("memory"));
    // No HOME and no XDG_STATE_HOME: no default store.
    assert_eq!(Binding::Cli.default_store(&Env::default()), None);
}

#[test]
fn every_environment_variable_is_listed() {
    let src = [
        include_str!("mod.rs"),
        include_str!("sources.rs"),
        include_str!("profile.rs"),
    ]
    .concat();
    for var in src.split("\"TOKENWARD_").skip(1) {
        let name: String = var
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let name = format!("TOKENWARD_{name}");
        if name == "TOKENWARD_" || name.starts_with("TOKENWARD_SET_") {
            continue;
        }
        assert!(
            ENV_VARS.contains(&name.as_str()),
            "{name} is not in ENV_VARS"
        );
    }
}
