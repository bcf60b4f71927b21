//! Settings from three layers, highest first: command-line flags, `TOKENWARD_*` environment
//! variables, then the named profile. Each layer is a [`Layer`]; [`resolve`] merges them.
//!
//! Merging is per setting, with two groups decided as a whole:
//! - the provider kind (`issuer`, `keycloak`, `template` or `token_url`) comes from the highest
//!   layer that names one; `realm` and the template values may still come from lower layers
//!   (e.g. `TOKENWARD_KEYCLOAK` in the environment and `--realm` on the command line);
//! - the client secret comes whole from the highest layer that names a source for it.

use std::path::PathBuf;
use std::time::Duration;

use tokenward::{AuthMethod, Secret};

use crate::exit::{CliError, CliResult};
use crate::profile::ProfileFile;

/// Where a secret is read from. Only `Inline` holds the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The named environment variable.
    Env(String),
    /// A file (`-` is standard input).
    File(PathBuf),
    Stdin,
    /// Given directly: `--client-secret`, `TOKENWARD_CLIENT_SECRET` or a private profile.
    Inline(Secret),
}

/// A secret source and where it was configured (for messages; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    pub source: SecretSource,
    pub origin: String,
}

/// The settings one layer gives; `None` / empty means "not set here".
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// "the command line", "the environment", "profile `vion-test`".
    pub origin: String,
    pub issuer: Option<String>,
    pub keycloak: Option<String>,
    pub realm: Option<String>,
    pub template: Option<String>,
    pub set: Vec<(String, String)>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub secret: Option<SecretSpec>,
    pub scope: Option<String>,
    pub auth_method: Option<String>,
    pub require_claims: Vec<String>,
    /// HTTP timeout in seconds.
    pub timeout: Option<u64>,
    pub ca_file: Option<PathBuf>,
    pub port: Option<u16>,
    pub redirect_path: Option<String>,
}

/// How the provider's endpoints are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSpec {
    /// OIDC discovery at the issuer URL.
    Issuer(String),
    Keycloak {
        base: String,
        realm: String,
    },
    Template {
        url: String,
        values: Vec<(String, String)>,
    },
    TokenUrl(String),
}

/// The merged settings a command runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub provider: ProviderSpec,
    pub client_id: String,
    pub secret: Option<SecretSpec>,
    pub scope: Option<String>,
    pub auth_method: Option<AuthMethod>,
    pub require_claims: Vec<String>,
    pub timeout: Option<Duration>,
    pub ca_file: Option<PathBuf>,
    pub port: Option<u16>,
    pub redirect_path: Option<String>,
    /// Things the user should know, printed as `tokenward: warning: ...`.
    pub warnings: Vec<String>,
}

const PROVIDER_HELP: &str = "name the provider with --issuer URL, --keycloak BASE --realm NAME, \
     --template URL --set key=value, --token-url URL, a TOKENWARD_* variable or --profile NAME";

/// Merges the layers, highest precedence first.
pub fn resolve(layers: &[Layer], mut warnings: Vec<String>) -> CliResult<Settings> {
    let first = |f: &dyn Fn(&Layer) -> Option<String>| layers.iter().find_map(f);

    // The provider kind: the highest layer naming one, which must name only one.
    let mut kind = None;
    for layer in layers {
        let named: Vec<&str> = [
            ("--issuer", layer.issuer.is_some()),
            ("--keycloak", layer.keycloak.is_some()),
            ("--template", layer.template.is_some()),
            ("--token-url", layer.token_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect();
        match named.len() {
            0 => continue,
            1 => {
                kind = Some((named[0], layer));
                break;
            }
            _ => {
                return Err(CliError::usage(format!(
                    "{} names the provider {} ways ({}); keep one",
                    layer.origin,
                    named.len(),
                    named.join(", ")
                )))
            }
        }
    }
    let Some((kind, from)) = kind else {
        return Err(CliError::usage(format!(
            "no identity provider given; {PROVIDER_HELP}"
        )));
    };
    let realm = first(&|l| l.realm.clone());
    // Template values: a higher layer overrides a lower one key by key.
    let mut values: Vec<(String, String)> = Vec::new();
    for layer in layers {
        for (k, v) in &layer.set {
            if !values.iter().any(|(have, _)| have == k) {
                values.push((k.clone(), v.clone()));
            }
        }
    }
    // What was typed on the command line must be used, not silently dropped.
    if let Some(cmd) = layers.iter().find(|l| l.origin == CMDLINE) {
        if cmd.realm.is_some() && kind != "--keycloak" {
            return Err(CliError::usage(format!(
                "--realm goes with --keycloak BASE, but the provider is given by {kind} ({})",
                from.origin
            )));
        }
        if !cmd.set.is_empty() && kind != "--template" {
            return Err(CliError::usage(format!(
                "--set fills a --template URL, but the provider is given by {kind} ({})",
                from.origin
            )));
        }
    }
    let provider = match kind {
        "--issuer" => ProviderSpec::Issuer(from.issuer.clone().unwrap_or_default()),
        "--keycloak" => ProviderSpec::Keycloak {
            base: from.keycloak.clone().unwrap_or_default(),
            realm: realm.ok_or_else(|| {
                CliError::usage("--keycloak BASE needs --realm NAME (or TOKENWARD_REALM)")
            })?,
        },
        "--template" => ProviderSpec::Template {
            url: from.template.clone().unwrap_or_default(),
            values,
        },
        _ => ProviderSpec::TokenUrl(from.token_url.clone().unwrap_or_default()),
    };

    let client_id = first(&|l| l.client_id.clone()).ok_or_else(|| {
        CliError::usage("no client id; pass --client-id ID (or set TOKENWARD_CLIENT_ID)")
    })?;
    let auth_method = match first(&|l| l.auth_method.clone()) {
        Some(m) => Some(AuthMethod::parse(&m).map_err(CliError::from)?),
        None => None,
    };
    let secret = layers.iter().find_map(|l| l.secret.clone());
    if matches!(
        &secret,
        Some(SecretSpec {
            source: SecretSource::Inline(_),
            origin,
        }) if origin == "--client-secret"
    ) {
        warnings.push(
            "--client-secret puts the secret in the command line, which other users of this \
             machine can read (ps, /proc); prefer --client-secret-env VAR, \
             --client-secret-file PATH or --client-secret-stdin"
                .into(),
        );
    }
    Ok(Settings {
        provider,
        client_id,
        secret,
        scope: first(&|l| l.scope.clone()),
        auth_method,
        require_claims: layers
            .iter()
            .map(|l| l.require_claims.clone())
            .find(|c| !c.is_empty())
            .unwrap_or_default(),
        timeout: layers
            .iter()
            .find_map(|l| l.timeout)
            .map(Duration::from_secs),
        ca_file: layers.iter().find_map(|l| l.ca_file.clone()),
        port: layers.iter().find_map(|l| l.port),
        redirect_path: first(&|l| l.redirect_path.clone()),
        warnings,
    })
}

pub const CMDLINE: &str = "the command line";
const ENVIRONMENT: &str = "the environment";

/// Every `TOKENWARD_*` variable read; the tests check the help names each one.
#[cfg(test)]
pub const ENV_VARS: [&str; 16] = [
    "TOKENWARD_PROFILE",
    "TOKENWARD_CONFIG",
    "TOKENWARD_ISSUER",
    "TOKENWARD_KEYCLOAK",
    "TOKENWARD_REALM",
    "TOKENWARD_TEMPLATE",
    "TOKENWARD_SET",
    "TOKENWARD_TOKEN_URL",
    "TOKENWARD_CLIENT_ID",
    "TOKENWARD_CLIENT_SECRET",
    "TOKENWARD_CLIENT_SECRET_FILE",
    "TOKENWARD_SCOPE",
    "TOKENWARD_AUTH_METHOD",
    "TOKENWARD_REQUIRE_CLAIM",
    "TOKENWARD_TIMEOUT",
    "TOKENWARD_CA_FILE",
];

/// The environment layer. `env` looks a variable up (empty counts as unset).
pub fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> CliResult<Layer> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let secret =
        match (
            get("TOKENWARD_CLIENT_SECRET"),
            get("TOKENWARD_CLIENT_SECRET_FILE"),
        ) {
            (Some(_), Some(_)) => return Err(CliError::usage(
                "both TOKENWARD_CLIENT_SECRET and TOKENWARD_CLIENT_SECRET_FILE are set; unset one",
            )),
            (Some(s), None) => Some(SecretSpec {
                source: SecretSource::Inline(Secret::new(s)),
                origin: "TOKENWARD_CLIENT_SECRET".into(),
            }),
            (None, Some(p)) => Some(SecretSpec {
                source: SecretSource::File(p.into()),
                origin: "TOKENWARD_CLIENT_SECRET_FILE".into(),
            }),
            (None, None) => None,
        };
    let set = match get("TOKENWARD_SET") {
        Some(s) => s
            .split_whitespace()
            .map(|kv| parse_set(kv).map_err(|e| CliError::usage(format!("TOKENWARD_SET: {e}"))))
            .collect::<CliResult<_>>()?,
        None => Vec::new(),
    };
    Ok(Layer {
        origin: ENVIRONMENT.into(),
        issuer: get("TOKENWARD_ISSUER"),
        keycloak: get("TOKENWARD_KEYCLOAK"),
        realm: get("TOKENWARD_REALM"),
        template: get("TOKENWARD_TEMPLATE"),
        set,
        token_url: get("TOKENWARD_TOKEN_URL"),
        client_id: get("TOKENWARD_CLIENT_ID"),
        secret,
        scope: get("TOKENWARD_SCOPE"),
        auth_method: get("TOKENWARD_AUTH_METHOD"),
        require_claims: get("TOKENWARD_REQUIRE_CLAIM")
            .map(|c| split_list(&c))
            .unwrap_or_default(),
        timeout: get("TOKENWARD_TIMEOUT")
            .map(|t| {
                parse_seconds(&t).map_err(|e| CliError::usage(format!("TOKENWARD_TIMEOUT: {e}")))
            })
            .transpose()?,
        ca_file: get("TOKENWARD_CA_FILE").map(PathBuf::from),
        port: None,
        redirect_path: None,
    })
}

/// The keys a profile may hold.
const PROFILE_KEYS: &str = "issuer, keycloak, realm, template, set.NAME, token_url, client_id, \
     client_secret_env, client_secret_file, client_secret (file mode 0600 only), scope, \
     auth_method, require_claim, timeout, ca_file, port, redirect_path";

/// The layer of profile `name` from `file`. Warnings go to `warnings`.
pub fn profile_layer(
    file: &ProfileFile,
    name: &str,
    home: Option<&str>,
    warnings: &mut Vec<String>,
) -> CliResult<Layer> {
    let entries = file.profiles.get(name).ok_or_else(|| {
        let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        CliError::usage(format!(
            "no profile `{name}` in `{}` (profiles there: {})",
            file.path.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    })?;
    let mut layer = Layer {
        origin: format!("profile `{name}`"),
        ..Layer::default()
    };
    let at = |line: usize| format!("{}:{line}", file.path.display());
    for e in entries {
        let v = e.value.clone();
        let mut set_secret = |source: SecretSource| -> CliResult<()> {
            if layer.secret.is_some() {
                return Err(CliError::usage(format!(
                    "{}: profile `{name}` names its client secret twice; keep one of \
                     client_secret_env, client_secret_file, client_secret",
                    at(e.line)
                )));
            }
            layer.secret = Some(SecretSpec {
                source,
                origin: format!("profile `{name}` ({})", e.key),
            });
            Ok(())
        };
        match e.key.as_str() {
            "client_secret_env" => set_secret(SecretSource::Env(v))?,
            "client_secret_file" => set_secret(SecretSource::File(expand_home(&v, home)))?,
            "client_secret" if file.private => set_secret(SecretSource::Inline(Secret::new(v)))?,
            "client_secret" => warnings.push(format!(
                "ignoring client_secret in profile `{name}`: `{}` can be read by other users; \
                 run `chmod 600 {}` or use client_secret_env / client_secret_file",
                file.path.display(),
                file.path.display()
            )),
            "issuer" => layer.issuer = Some(v),
            "keycloak" => layer.keycloak = Some(v),
            "realm" => layer.realm = Some(v),
            "template" => layer.template = Some(v),
            "token_url" => layer.token_url = Some(v),
            "client_id" => layer.client_id = Some(v),
            "scope" => layer.scope = Some(v),
            "auth_method" => layer.auth_method = Some(v),
            "require_claim" => layer.require_claims = split_list(&v),
            "timeout" => {
                layer.timeout = Some(
                    parse_seconds(&v)
                        .map_err(|m| CliError::usage(format!("{}: timeout: {m}", at(e.line))))?,
                )
            }
            "ca_file" => layer.ca_file = Some(expand_home(&v, home)),
            "port" => {
                layer.port = Some(v.parse().map_err(|_| {
                    CliError::usage(format!("{}: port `{v}` is not a port number", at(e.line)))
                })?)
            }
            "redirect_path" => layer.redirect_path = Some(v),
            k => match k.strip_prefix("set.") {
                Some(name) => layer.set.push((name.to_string(), v)),
                None => {
                    return Err(CliError::usage(format!(
                        "{}: unknown key `{k}` in profile `{name}`; known keys: {PROFILE_KEYS}",
                        at(e.line)
                    )))
                }
            },
        }
    }
    Ok(layer)
}

/// A profile's `~/...` path, relative to `home` (no shell expands it for us).
fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => std::path::Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `key=value` for `--set` and `TOKENWARD_SET`.
pub fn parse_set(kv: &str) -> Result<(String, String), String> {
    match kv.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{kv}` is not key=value (e.g. --set tenant=acme)")),
    }
}

/// Seconds, more than zero.
pub fn parse_seconds(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of seconds above zero")),
    }
}

/// A list separated by commas or spaces.
fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;

    fn cmdline() -> Layer {
        Layer {
            origin: CMDLINE.into(),
            ..Layer::default()
        }
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const PROFILES: &str = r#"
[profile.vion-test]
keycloak = "https://auth.test.ecocoa.ch"
realm = "vion"
client_id = "vion-service"
client_secret_env = "VION_SECRET"
scope = "openid user_impersonation"
timeout = 10

[profile.docbyte-acme]
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
        let mut f = profile::parse(PROFILES).unwrap();
        f.path = "/home/u/.config/tokenward/config.toml".into();
        f.private = private;
        f
    }

    #[test]
    fn a_profile_alone_is_enough() {
        let mut w = Vec::new();
        let p = profile_layer(&file(false), "vion-test", None, &mut w).unwrap();
        let s = resolve(&[cmdline(), p], w).unwrap();
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
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn flags_beat_environment_beat_profile() {
        let env = env_of(&[
            ("TOKENWARD_CLIENT_ID", "from-env"),
            ("TOKENWARD_SCOPE", "email"),
            ("TOKENWARD_REALM", "env-realm"),
            ("TOKENWARD_CLIENT_SECRET", "env-secret"),
        ]);
        let mut w = Vec::new();
        let p = profile_layer(&file(false), "vion-test", None, &mut w).unwrap();
        let mut cmd = cmdline();
        cmd.scope = Some("profile".into());
        let s = resolve(&[cmd, env_layer(&env).unwrap(), p], w).unwrap();
        assert_eq!(s.client_id, "from-env");
        assert_eq!(s.scope.as_deref(), Some("profile"));
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
        let mut w = Vec::new();
        let p = profile_layer(&file(false), "vion-test", None, &mut w).unwrap();
        let s = resolve(&[cmdline(), env_layer(&env).unwrap(), p.clone()], w).unwrap();
        assert_eq!(
            s.provider,
            ProviderSpec::Issuer("https://idp.example/realms/x".into())
        );
        let mut cmd = cmdline();
        cmd.token_url = Some("https://t.example/token".into());
        let s = resolve(&[cmd, p], Vec::new()).unwrap();
        assert_eq!(
            s.provider,
            ProviderSpec::TokenUrl("https://t.example/token".into())
        );
    }

    #[test]
    fn template_values_merge_key_by_key() {
        let mut w = Vec::new();
        let p = profile_layer(&file(true), "docbyte-acme", None, &mut w).unwrap();
        let mut cmd = cmdline();
        cmd.set = vec![("tenant".into(), "globex".into())];
        let s = resolve(&[cmd, p], w).unwrap();
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
        let mut w = Vec::new();
        let p = profile_layer(&file(true), "docbyte-acme", None, &mut w).unwrap();
        assert!(w.is_empty());
        assert_eq!(
            p.secret.unwrap().source,
            SecretSource::Inline(Secret::new("inline-secret"))
        );
        let p = profile_layer(&file(false), "docbyte-acme", None, &mut w).unwrap();
        assert!(p.secret.is_none());
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("chmod 600"), "{}", w[0]);
        assert!(!w[0].contains("inline-secret"));
    }

    #[test]
    fn argv_secret_warns() {
        let mut cmd = cmdline();
        cmd.token_url = Some("https://t.example/token".into());
        cmd.client_id = Some("c".into());
        cmd.secret = Some(SecretSpec {
            source: SecretSource::Inline(Secret::new("s3cr3t")),
            origin: "--client-secret".into(),
        });
        let s = resolve(&[cmd], Vec::new()).unwrap();
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].contains("other users"));
        assert!(!s.warnings[0].contains("s3cr3t"));
    }

    #[test]
    fn usage_errors_say_what_to_pass() {
        let e = resolve(&[cmdline()], Vec::new()).unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert!(e.message.contains("--token-url"), "{e}");

        let mut cmd = cmdline();
        cmd.keycloak = Some("https://k".into());
        cmd.client_id = Some("c".into());
        assert!(resolve(&[cmd.clone()], Vec::new())
            .unwrap_err()
            .message
            .contains("needs --realm"));

        cmd.issuer = Some("https://i".into());
        assert!(resolve(&[cmd], Vec::new())
            .unwrap_err()
            .message
            .contains("2 ways"));

        let mut cmd = cmdline();
        cmd.token_url = Some("https://t/token".into());
        cmd.realm = Some("r".into());
        cmd.client_id = Some("c".into());
        assert!(resolve(&[cmd.clone()], Vec::new())
            .unwrap_err()
            .message
            .contains("--realm goes with --keycloak"));
        cmd.realm = None;
        assert!(resolve(&[cmd], Vec::new()).is_ok());

        let mut cmd = cmdline();
        cmd.token_url = Some("https://t/token".into());
        assert!(resolve(&[cmd.clone()], Vec::new())
            .unwrap_err()
            .message
            .contains("--client-id"));
        cmd.client_id = Some("c".into());
        cmd.auth_method = Some("digest".into());
        let e = resolve(&[cmd], Vec::new()).unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert!(e.message.contains("post, basic or none"), "{e}");
    }

    #[test]
    fn environment_layer_reads_every_variable() {
        let env = env_of(&[
            ("TOKENWARD_TEMPLATE", "https://k.{a}.example/realms/{b}"),
            ("TOKENWARD_SET", "a=1 b=2"),
            ("TOKENWARD_CLIENT_ID", "c"),
            ("TOKENWARD_CLIENT_SECRET_FILE", "/run/secret"),
            ("TOKENWARD_AUTH_METHOD", "basic"),
            ("TOKENWARD_REQUIRE_CLAIM", "tenant,org"),
            ("TOKENWARD_TIMEOUT", "7"),
            ("TOKENWARD_CA_FILE", "/etc/ca.pem"),
            ("TOKENWARD_ISSUER", " "),
        ]);
        let l = env_layer(&env).unwrap();
        assert_eq!(l.issuer, None, "blank counts as unset");
        assert_eq!(l.set, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(
            l.secret.unwrap().source,
            SecretSource::File("/run/secret".into())
        );
        assert_eq!(l.require_claims, ["tenant", "org"]);
        assert_eq!(l.timeout, Some(7));
        let s = resolve(&[env_layer(&env).unwrap()], Vec::new()).unwrap();
        assert_eq!(s.auth_method, Some(AuthMethod::ClientSecretBasic));
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca.pem")));

        let both = env_of(&[
            ("TOKENWARD_CLIENT_SECRET", "x"),
            ("TOKENWARD_CLIENT_SECRET_FILE", "/f"),
        ]);
        assert!(env_layer(&both).is_err());
        assert!(env_layer(&env_of(&[("TOKENWARD_TIMEOUT", "0")])).is_err());
        assert!(env_layer(&env_of(&[("TOKENWARD_SET", "novalue")])).is_err());
    }

    #[test]
    fn profile_mistakes_are_usage_errors() {
        let mut w = Vec::new();
        let e = profile_layer(&file(false), "nope", None, &mut w).unwrap_err();
        assert!(e.message.contains("docbyte-acme, vion-test"), "{e}");
        let mut f = profile::parse("[profile.p]\nrelam = \"x\"\n").unwrap();
        f.path = "cfg.toml".into();
        let e = profile_layer(&f, "p", None, &mut w).unwrap_err();
        assert!(
            e.message.starts_with("cfg.toml:2: unknown key `relam`"),
            "{e}"
        );
        let f =
            profile::parse("[profile.p]\nclient_secret_env = \"A\"\nclient_secret_file = \"/b\"\n")
                .unwrap();
        assert!(profile_layer(&f, "p", None, &mut w).is_err());
        let f = profile::parse("[profile.p]\nport = \"99999\"\n").unwrap();
        assert!(profile_layer(&f, "p", None, &mut w).is_err());
    }

    #[test]
    fn profile_paths_may_start_at_home() {
        let f = profile::parse(
            "[profile.p]\nclient_secret_file = \"~/.s/x\"\nca_file = \"/etc/ca.pem\"\n",
        )
        .unwrap();
        let l = profile_layer(&f, "p", Some("/home/u"), &mut Vec::new()).unwrap();
        assert_eq!(
            l.secret.unwrap().source,
            SecretSource::File("/home/u/.s/x".into())
        );
        assert_eq!(l.ca_file, Some(PathBuf::from("/etc/ca.pem")));
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
}
