//! Settings read once for every binding: command-line flags (or a caller's options), the
//! `TOKENWARD_*` environment variables, then a named profile from the profiles file.
//!
//! The CLI passes its flags as the top [`Layer`]; Python's `Client.from_env()` and C's
//! `tw_client_from_env` call [`Settings::from_env`]. Each layer is a [`Layer`];
//! [`Settings::resolve`] merges them, highest first, per setting, with two groups decided as a
//! whole:
//! - the provider kind (`issuer`, `keycloak`, `template` or `token_url`) comes from the highest
//!   layer that names one; `realm` and the template values may still come from lower layers
//!   (e.g. `TOKENWARD_KEYCLOAK` in the environment and `--realm` on the command line);
//! - the client secret comes whole from the highest layer that names a source for it.
//!
//! The profiles file is TOML, `$TOKENWARD_CONFIG`, else `$XDG_CONFIG_HOME/tokenward/config.toml`,
//! else `~/.config/tokenward/config.toml`:
//!
//! ```toml
//! [profile.vion-test]
//! keycloak = "https://auth.test.ecocoa.ch"
//! realm = "vion"
//! client_id = "my-service"
//! client_secret_env = "VION_CLIENT_SECRET"
//!
//! [profile.docbyte-acme]
//! template = "https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}"
//! set.account = "acme"
//! set.environment = "prod"
//! set.tenant = "acme"
//! scope = "openid"
//! require_claim = "tenant"
//! ```
//!
//! An unknown key, a value of the wrong type or a TOML syntax error is an error naming the
//! file, the line and the key. A profile may hold the secret itself (`client_secret`) only in a
//! file only its owner can read (mode 0600 or 0400).
//!
//! Native only (it reads files and the process environment).

use std::collections::BTreeMap;
use std::fmt;
use std::format;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::Duration;
use std::vec::Vec;

use serde::Deserialize;

use crate::{
    AuthMethod, Client, ClientBuilder, ClientConfig, Error, HttpOptions, Provider, Result, Secret,
    Trust,
};

/// Every `TOKENWARD_*` variable read (the CLI's help names each one).
pub const ENV_VARS: [&str; 24] = [
    "TOKENWARD_PROFILE",
    "TOKENWARD_CONFIG",
    "TOKENWARD_ISSUER",
    "TOKENWARD_KEYCLOAK",
    "TOKENWARD_REALM",
    "TOKENWARD_TEMPLATE",
    "TOKENWARD_SET",
    "TOKENWARD_SET_<NAME>",
    "TOKENWARD_TOKEN_URL",
    "TOKENWARD_CLIENT_ID",
    "TOKENWARD_CLIENT_SECRET",
    "TOKENWARD_CLIENT_SECRET_FILE",
    "TOKENWARD_SCOPE",
    "TOKENWARD_AUTH_METHOD",
    "TOKENWARD_REQUIRE_CLAIM",
    "TOKENWARD_TIMEOUT",
    "TOKENWARD_CA_FILE",
    "TOKENWARD_REDIRECT_URI",
    "TOKENWARD_EXPECTED_ISSUER",
    "TOKENWARD_LEEWAY",
    "TOKENWARD_STORE",
    "TOKENWARD_PRIVATE_KEY_FILE",
    "TOKENWARD_KEY_ID",
    "TOKENWARD_AUDIENCE",
];

/// The keys a profile may hold.
pub const PROFILE_KEYS: &str = "issuer, keycloak, realm, template, set.NAME, token_url, \
     client_id, client_secret_env, client_secret_file, client_secret (file mode 0600 only), \
     scope, auth_method, require_claim, timeout, ca_file, port, redirect_path, redirect_uri, \
     expected_issuer, leeway, store, private_key_file, key_id, audience";

fn config(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

/// A private key file named beside another auth method.
fn config_error_key(method: Option<AuthMethod>) -> Error {
    config(format!(
        "a private key file is set, and the auth method is {}; drop one (a key file means private_key_jwt)",
        method.map_or("unset", AuthMethod::as_str)
    ))
}

// --- where settings come from ----------------------------------------------------------------

/// An environment: variable names and values (only valid UTF-8 ones). `Debug` shows the names
/// only, since values may be secrets.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process's environment.
    pub fn process() -> Env {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    /// The variable as set (maybe empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The variable, blank counting as unset.
    fn value(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Env {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

/// Which layer a setting came from; it decides how a setting is spelled in messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// Command-line flags (`--client-id`).
    Flags,
    /// Options given in code (Python keywords, a C `tw_options`).
    #[default]
    Options,
    /// `TOKENWARD_*` variables.
    Environment,
    /// The named profile of the profiles file.
    Profile(String),
}

impl Origin {
    /// `key` (a profile key such as `client_id`) as this layer spells it.
    pub fn spell(&self, key: &str) -> String {
        match self {
            Origin::Flags => format!("--{}", key.replace('_', "-")),
            Origin::Environment => format!("TOKENWARD_{}", key.to_ascii_uppercase()),
            Origin::Options | Origin::Profile(_) => key.to_string(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flags => f.write_str("the command line"),
            Origin::Options => f.write_str("the caller's options"),
            Origin::Environment => f.write_str("the environment"),
            Origin::Profile(name) => write!(f, "profile `{name}`"),
        }
    }
}

/// Where a secret is read from. Only `Inline` holds the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The named environment variable.
    Env(String),
    /// A file (`-` is standard input).
    File(PathBuf),
    /// Standard input (only the CLI reads it).
    Stdin,
    /// Given directly: `--client-secret`, `TOKENWARD_CLIENT_SECRET`, a private profile, an option.
    Inline(Secret),
}

/// A secret source and where it was configured (for messages; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    pub source: SecretSource,
    pub origin: String,
}

impl SecretSpec {
    /// Whether reading it needs standard input.
    pub fn is_stdin(&self) -> bool {
        match &self.source {
            SecretSource::Stdin => true,
            SecretSource::File(p) => p.as_os_str() == "-",
            _ => false,
        }
    }

    /// Reads the secret `what` ("client secret", "refresh token"); `env` resolves
    /// [`SecretSource::Env`]. Standard input is the caller's to read ([`SecretSpec::is_stdin`]);
    /// what it read goes through [`clean_secret`].
    pub fn read(&self, what: &str, env: &Env) -> Result<Secret> {
        let value = match &self.source {
            _ if self.is_stdin() => {
                return Err(config(format!(
                    "the {what} from {} is on standard input, which only the command line reads; \
                     name an environment variable or a file instead",
                    self.origin
                )))
            }
            SecretSource::Inline(s) => s.clone(),
            SecretSource::Env(var) => match env.get(var) {
                Some(v) => Secret::new(v),
                None => {
                    return Err(config(format!(
                        "environment variable `{var}` (the {what}, named by {}) is not set",
                        self.origin
                    )))
                }
            },
            SecretSource::File(p) => std::fs::read_to_string(p).map(Secret::new).map_err(|e| {
                config(format!(
                    "cannot read the {what} from `{}`: {e}",
                    p.display()
                ))
            })?,
            SecretSource::Stdin => unreachable!("handled above"),
        };
        clean_secret(value, what, &self.origin)
    }
}

/// A secret as read from a file, a variable or standard input: without its final line break,
/// and not empty.
pub fn clean_secret(value: Secret, what: &str, origin: &str) -> Result<Secret> {
    let trimmed = value.expose().trim_end_matches(['\r', '\n']);
    if trimmed.trim().is_empty() {
        return Err(config(format!("the {what} from {origin} is empty")));
    }
    Ok(if trimmed.len() == value.expose().len() {
        value
    } else {
        Secret::new(trimmed)
    })
}

/// The settings one layer gives; `None` / empty means "not set here".
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub origin: Origin,
    pub issuer: Option<String>,
    pub keycloak: Option<String>,
    pub realm: Option<String>,
    pub template: Option<String>,
    /// Template values, `(placeholder, value)`.
    pub set: Vec<(String, String)>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub secret: Option<SecretSpec>,
    pub scope: Option<String>,
    /// `post`, `basic`, `none` or an RFC name; [`AuthMethod::parse`] decides.
    pub auth_method: Option<String>,
    pub require_claims: Vec<String>,
    /// The HTTP timeout.
    pub timeout: Option<Duration>,
    pub ca_file: Option<PathBuf>,
    /// The CLI's loopback login: port and path.
    pub port: Option<u16>,
    pub redirect_path: Option<String>,
    /// A library's login: the registered redirect URI.
    pub redirect_uri: Option<String>,
    /// The issuer tokens carry when it differs from the URL the provider is reached by
    /// (Keycloak's `hostname` behind an internal URL).
    pub expected_issuer: Option<String>,
    /// How far clocks may disagree when a token's `exp` / `iat` are checked.
    pub leeway: Option<Duration>,
    /// The shared token store's URL (`memory`, `file:///dir`, `redis://...`).
    pub store: Option<String>,
    /// `private_key_jwt`: the client's private key (PEM, RSA or EC) and its `kid`.
    pub private_key_file: Option<PathBuf>,
    pub key_id: Option<String>,
    /// The audience a client-credentials token is asked for.
    pub audience: Option<String>,
}

impl Layer {
    /// An empty layer.
    pub fn new(origin: Origin) -> Layer {
        Layer {
            origin,
            ..Layer::default()
        }
    }

    /// The provider kinds this layer names, as profile keys.
    fn provider_kinds(&self) -> Vec<&'static str> {
        [
            ("issuer", self.issuer.is_some()),
            ("keycloak", self.keycloak.is_some()),
            ("template", self.template.is_some()),
            ("token_url", self.token_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect()
    }

    /// The environment layer: every `TOKENWARD_*` variable (blank counts as unset).
    pub fn from_env(env: &Env) -> Result<Layer> {
        let get = |k: &str| env.value(k);
        let secret = match (
            get("TOKENWARD_CLIENT_SECRET"),
            get("TOKENWARD_CLIENT_SECRET_FILE"),
        ) {
            (Some(_), Some(_)) => {
                return Err(config(
                    "both TOKENWARD_CLIENT_SECRET and TOKENWARD_CLIENT_SECRET_FILE are set; \
                     unset one",
                ))
            }
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
        // TOKENWARD_SET='k=v k=v', then TOKENWARD_SET_<NAME>=v (NAME lower-cased).
        let mut set: Vec<(String, String)> = Vec::new();
        let mut from: Vec<String> = Vec::new();
        if let Some(packed) = get("TOKENWARD_SET") {
            for kv in packed.split_whitespace() {
                let (k, v) = parse_set(kv).map_err(|e| config(format!("TOKENWARD_SET: {e}")))?;
                set.push((k, v));
                from.push("TOKENWARD_SET".into());
            }
        }
        for (var, _) in env.vars.iter() {
            let Some(name) = var.strip_prefix("TOKENWARD_SET_").filter(|n| !n.is_empty()) else {
                continue;
            };
            let Some(value) = get(var) else { continue };
            let name = name.to_ascii_lowercase();
            if let Some(i) = set.iter().position(|(k, _)| *k == name) {
                return Err(config(format!(
                    "template value `{name}` is set by both {} and {var}; keep one",
                    from[i]
                )));
            }
            set.push((name, value));
            from.push(var.clone());
        }
        let leeway = match get("TOKENWARD_LEEWAY") {
            Some(t) => Some(Duration::from_secs(
                parse_leeway(&t).map_err(|e| config(format!("TOKENWARD_LEEWAY: {e}")))?,
            )),
            None => None,
        };
        let timeout = match get("TOKENWARD_TIMEOUT") {
            Some(t) => Some(Duration::from_secs(
                parse_seconds(&t).map_err(|e| config(format!("TOKENWARD_TIMEOUT: {e}")))?,
            )),
            None => None,
        };
        Ok(Layer {
            origin: Origin::Environment,
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
            timeout,
            ca_file: get("TOKENWARD_CA_FILE").map(PathBuf::from),
            port: None,
            redirect_path: None,
            redirect_uri: get("TOKENWARD_REDIRECT_URI"),
            expected_issuer: get("TOKENWARD_EXPECTED_ISSUER"),
            leeway,
            store: get("TOKENWARD_STORE"),
            private_key_file: get("TOKENWARD_PRIVATE_KEY_FILE").map(PathBuf::from),
            key_id: get("TOKENWARD_KEY_ID"),
            audience: get("TOKENWARD_AUDIENCE"),
        })
    }
}

/// `key=value` for `--set` and `TOKENWARD_SET`.
pub fn parse_set(kv: &str) -> core::result::Result<(String, String), String> {
    match kv.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{kv}` is not key=value (e.g. tenant=acme)")),
    }
}

/// Whole seconds, more than zero.
pub fn parse_seconds(s: &str) -> core::result::Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of seconds above zero")),
    }
}

/// A leeway in whole seconds; 0 (no tolerance at all) is allowed.
pub fn parse_leeway(s: &str) -> core::result::Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("`{s}` is not a whole number of seconds (e.g. 30)"))
}

/// A list separated by commas or spaces.
fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

// --- the profiles file -------------------------------------------------------------------------

/// Where the profiles file is: `$TOKENWARD_CONFIG`, else `$XDG_CONFIG_HOME/tokenward/config.toml`,
/// else `~/.config/tokenward/config.toml`.
pub fn profiles_path(env: &Env) -> Option<PathBuf> {
    if let Some(p) = env.value("TOKENWARD_CONFIG") {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = env.value("XDG_CONFIG_HOME") {
        return Some(Path::new(&x).join("tokenward").join("config.toml"));
    }
    env.value("HOME").map(|h| {
        Path::new(&h)
            .join(".config")
            .join("tokenward")
            .join("config.toml")
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    profile: BTreeMap<String, ProfileToml>,
}

type Str = Option<toml::Spanned<String>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    issuer: Str,
    keycloak: Str,
    realm: Str,
    template: Str,
    #[serde(default)]
    set: BTreeMap<String, String>,
    token_url: Str,
    client_id: Str,
    client_secret: Str,
    client_secret_env: Str,
    client_secret_file: Str,
    scope: Str,
    auth_method: Str,
    /// `"a,b"`, `"a b"` or `["a", "b"]`.
    require_claim: Option<toml::Spanned<toml::Value>>,
    /// Seconds: `10` or `"10"`.
    timeout: Option<toml::Spanned<toml::Value>>,
    ca_file: Str,
    /// `8400` or `"8400"`.
    port: Option<toml::Spanned<toml::Value>>,
    redirect_path: Str,
    redirect_uri: Str,
    expected_issuer: Str,
    /// Seconds: `30` or `"30"`; 0 allowed.
    leeway: Option<toml::Spanned<toml::Value>>,
    store: Str,
    private_key_file: Str,
    key_id: Str,
    audience: Str,
}

/// A parsed profiles file.
pub struct ProfileFile {
    pub path: PathBuf,
    text: String,
    profiles: BTreeMap<String, ProfileToml>,
    /// Only the owner can read it (mode 0600 or 0400): the one case an inline secret is allowed.
    pub private: bool,
}

impl fmt::Debug for ProfileFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileFile")
            .field("path", &self.path)
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .field("private", &self.private)
            .finish()
    }
}

impl ProfileFile {
    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<ProfileFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            config(format!(
                "cannot read the profiles file `{}`: {e}",
                path.display()
            ))
        })?;
        let mut file = ProfileFile::parse(path, text)?;
        file.private = is_private(path);
        Ok(file)
    }

    /// Parses `text` as the profiles file at `path` (which errors name).
    pub fn parse(path: &Path, text: String) -> Result<ProfileFile> {
        let parsed: FileToml = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        Ok(ProfileFile {
            path: path.to_path_buf(),
            profiles: parsed.profile,
            text,
            private: false,
        })
    }

    /// The profile names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    fn at(&self, span: core::ops::Range<usize>) -> String {
        format!(
            "{}:{}",
            self.path.display(),
            line_of(&self.text, span.start)
        )
    }

    /// The layer of profile `name`; `home` expands `~/` in paths.
    pub fn layer(&self, name: &str, home: Option<&str>) -> Result<Layer> {
        let p = self.profiles.get(name).ok_or_else(|| {
            let known = self.names();
            config(format!(
                "no profile `{name}` in `{}` (profiles there: {})",
                self.path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let s = |v: &Str| v.as_ref().map(|v| v.get_ref().clone());
        let mut layer = Layer::new(Origin::Profile(name.to_string()));
        layer.issuer = s(&p.issuer);
        layer.keycloak = s(&p.keycloak);
        layer.realm = s(&p.realm);
        layer.template = s(&p.template);
        layer.set = p.set.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        layer.token_url = s(&p.token_url);
        layer.client_id = s(&p.client_id);
        layer.scope = s(&p.scope);
        layer.auth_method = s(&p.auth_method);
        layer.ca_file = s(&p.ca_file).map(|v| expand_home(&v, home));
        layer.redirect_path = s(&p.redirect_path);
        layer.redirect_uri = s(&p.redirect_uri);
        layer.expected_issuer = s(&p.expected_issuer);
        layer.store = s(&p.store);
        layer.private_key_file = s(&p.private_key_file).map(|v| expand_home(&v, home));
        layer.key_id = s(&p.key_id);
        layer.audience = s(&p.audience);

        // The secret: at most one source.
        let sources = [
            ("client_secret_env", &p.client_secret_env),
            ("client_secret_file", &p.client_secret_file),
            ("client_secret", &p.client_secret),
        ];
        let mut named = sources.iter().filter_map(|(k, v)| Some((*k, v.as_ref()?)));
        if let Some((key, v)) = named.next() {
            if let Some((_, second)) = named.next() {
                return Err(config(format!(
                    "{}: profile `{name}` names its client secret twice; keep one of \
                     client_secret_env, client_secret_file, client_secret",
                    self.at(second.span())
                )));
            }
            let value = v.get_ref().clone();
            let source = match key {
                "client_secret_env" => SecretSource::Env(value),
                "client_secret_file" => SecretSource::File(expand_home(&value, home)),
                _ if self.private => SecretSource::Inline(Secret::new(value)),
                _ => {
                    return Err(config(format!(
                        "{}: key `client_secret` in profile `{name}`: `{}` can be read by other \
                         users; run `chmod 600 {}` or use client_secret_env / client_secret_file",
                        self.at(v.span()),
                        self.path.display(),
                        self.path.display()
                    )))
                }
            };
            layer.secret = Some(SecretSpec {
                source,
                origin: format!("profile `{name}` ({key})"),
            });
        }

        if let Some(v) = &p.require_claim {
            layer.require_claims = match v.get_ref() {
                toml::Value::String(s) => split_list(s),
                toml::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| self.wrong_type(v, "require_claim", "a list of claim names"))?,
                _ => return Err(self.wrong_type(v, "require_claim", "a claim name or a list")),
            };
        }
        if let Some(v) = &p.timeout {
            let text = self.number_text(v, "timeout", "a whole number of seconds")?;
            let secs = parse_seconds(&text)
                .map_err(|m| config(format!("{}: key `timeout`: {m}", self.at(v.span()))))?;
            layer.timeout = Some(Duration::from_secs(secs));
        }
        if let Some(v) = &p.leeway {
            let text = self.number_text(v, "leeway", "a whole number of seconds")?;
            let secs = parse_leeway(&text)
                .map_err(|m| config(format!("{}: key `leeway`: {m}", self.at(v.span()))))?;
            layer.leeway = Some(Duration::from_secs(secs));
        }
        if let Some(v) = &p.port {
            let text = self.number_text(v, "port", "a port number")?;
            layer.port = Some(text.trim().parse().map_err(|_| {
                config(format!(
                    "{}: key `port`: `{text}` is not a port number",
                    self.at(v.span())
                ))
            })?);
        }
        Ok(layer)
    }

    fn wrong_type(&self, v: &toml::Spanned<toml::Value>, key: &str, want: &str) -> Error {
        config(format!(
            "{}: key `{key}` must be {want}, not a {}",
            self.at(v.span()),
            v.get_ref().type_str()
        ))
    }

    /// An integer or a string holding one, as text.
    fn number_text(&self, v: &toml::Spanned<toml::Value>, key: &str, want: &str) -> Result<String> {
        match v.get_ref() {
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(v, key, want)),
        }
    }
}

/// The 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A TOML error as `FILE:LINE: ...`, naming the key on that line (and its profile).
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim();
    let Some(span) = e.span() else {
        return config(format!("{}: {msg}", path.display()));
    };
    let line = line_of(text, span.start);
    let line_text = text.lines().nth(line - 1).unwrap_or("").trim();
    let profile = text
        .lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix("[profile."))
        .filter_map(|l| l.split_once(']'))
        .map(|(name, _)| name.trim().trim_matches('"'))
        .last();
    let in_profile = profile
        .map(|p| format!(" in profile `{p}`"))
        .unwrap_or_default();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        let known = if profile.is_some() && !line_text.starts_with('[') {
            PROFILE_KEYS.to_string()
        } else {
            "[profile.NAME] tables only".to_string()
        };
        return config(format!(
            "{}:{line}: unknown key `{key}`{in_profile}; known keys: {known}",
            path.display()
        ));
    }
    let key = line_text
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    match key {
        Some(key) => config(format!(
            "{}:{line}: key `{key}`{in_profile}: {msg}",
            path.display()
        )),
        None => config(format!("{}:{line}: {msg}", path.display())),
    }
}

#[cfg(unix)]
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> bool {
    false
}

/// A profile's `~/...` path, relative to `home` (no shell expands it for us).
fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}

// --- merged settings ---------------------------------------------------------------------------

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

impl ProviderSpec {
    /// A client builder for `config` (discovery happens at `build()` for an issuer).
    pub fn builder(&self, config: ClientConfig) -> Result<ClientBuilder> {
        Ok(match self {
            ProviderSpec::Issuer(issuer) => Client::discover(issuer, config),
            ProviderSpec::Keycloak { base, realm } => {
                Client::builder(Provider::keycloak(base, realm)?, config)
            }
            ProviderSpec::Template { url, values } => {
                let values: Vec<(&str, &str)> = values
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                Client::builder(Provider::from_template(url, &values)?, config)
            }
            ProviderSpec::TokenUrl(url) => Client::builder(Provider::from_token_url(url)?, config),
        })
    }
}

/// Which binding reads the settings: it decides the shared token store used when none is
/// configured (`--store`, `TOKENWARD_STORE`, the profile's `store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Binding {
    /// A library in a long-lived process (Rust, C, Python): the process's own in-memory cache
    /// unless a store is configured, so nothing lands on disk that the application did not ask
    /// for.
    #[default]
    Library,
    /// The command line: every run is a new process, so an in-memory cache would never be
    /// reused. Its default is the file store in the user's state directory,
    /// `$XDG_STATE_HOME/tokenward`, else `~/.local/state/tokenward` (created with mode 0700):
    /// logins are kept, and client-credentials tokens are reused across runs.
    Cli,
}

impl Binding {
    /// The store URL used when no layer names one (`None`: this process only).
    pub fn default_store(self, env: &Env) -> Option<String> {
        match self {
            Binding::Library => None,
            Binding::Cli => crate::native::store::default_dir_from(|k| env.value(k))
                .and_then(|dir| crate::native::store::file_url(&dir)),
        }
    }
}

/// The merged settings.
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
    pub redirect_uri: Option<String>,
    /// The issuer tokens carry, when not the provider's URL ([`ClientBuilder::expected_issuer`]).
    pub expected_issuer: Option<String>,
    /// The clock leeway for `exp` / `iat` ([`ClientBuilder::leeway`]; default 30 s).
    pub leeway: Option<Duration>,
    /// The shared token store ([`ClientBuilder::store`]; `None`: this process only).
    pub store: Option<String>,
    /// `private_key_jwt`'s key file and key id ([`crate::native::assertion::PrivateKey`]).
    pub private_key_file: Option<PathBuf>,
    pub key_id: Option<String>,
    /// [`ClientConfig::audience`].
    pub audience: Option<String>,
    /// The profile read, and its file.
    pub profile: Option<(String, PathBuf)>,
}

const FLAGS_PROVIDER_HELP: &str = "name the provider with --issuer URL, --keycloak BASE --realm \
     NAME, --template URL --set key=value, --token-url URL, a TOKENWARD_* variable or \
     --profile NAME";
const ENV_PROVIDER_HELP: &str = "name the provider with TOKENWARD_ISSUER=URL, \
     TOKENWARD_KEYCLOAK=BASE and TOKENWARD_REALM=NAME, TOKENWARD_TEMPLATE=URL with \
     TOKENWARD_SET='key=value ...', TOKENWARD_TOKEN_URL=URL, or a profile (TOKENWARD_PROFILE=NAME)";

impl Settings {
    /// The settings from the process environment and the profile `profile` (else the one
    /// `TOKENWARD_PROFILE` names, if any).
    pub fn from_env(profile: Option<&str>) -> Result<Settings> {
        Settings::load(Vec::new(), profile, &Env::process())
    }

    /// The settings from `top` (highest first: flags, a caller's options), the environment
    /// `env`, then the profile `profile` (else the one `TOKENWARD_PROFILE` names, if any) from
    /// the profiles file `env` points at.
    pub fn load(top: Vec<Layer>, profile: Option<&str>, env: &Env) -> Result<Settings> {
        Settings::load_for(Binding::Library, top, profile, env)
    }

    /// [`Settings::load`] for `binding`: a store not named by any layer is the binding's
    /// [default](Binding::default_store) (`memory` names none).
    pub fn load_for(
        binding: Binding,
        mut top: Vec<Layer>,
        profile: Option<&str>,
        env: &Env,
    ) -> Result<Settings> {
        top.push(Layer::from_env(env)?);
        let name = profile
            .map(str::to_string)
            .or_else(|| env.value("TOKENWARD_PROFILE"));
        let mut read = None;
        if let Some(name) = name {
            let path = profiles_path(env)
                .ok_or_else(|| config("no profiles file: set TOKENWARD_CONFIG or HOME"))?;
            let file = ProfileFile::load(&path)?;
            top.push(file.layer(&name, env.value("HOME").as_deref())?);
            read = Some((name, path));
        }
        let mut settings = Settings::resolve(&top)?;
        settings.profile = read;
        if settings.store.is_none() {
            settings.store = binding.default_store(env);
        }
        Ok(settings)
    }

    /// Merges the layers, highest precedence first.
    pub fn resolve(layers: &[Layer]) -> Result<Settings> {
        fn first<T: Clone>(layers: &[Layer], f: impl Fn(&Layer) -> Option<&T>) -> Option<T> {
            layers.iter().find_map(|l| f(l).cloned())
        }
        let flags = layers.iter().any(|l| l.origin == Origin::Flags);

        // The provider kind: the highest layer naming one, which must name only one.
        let mut kind = None;
        for (i, layer) in layers.iter().enumerate() {
            let named = layer.provider_kinds();
            match named.len() {
                0 => continue,
                1 => {
                    kind = Some((named[0], i));
                    break;
                }
                _ => {
                    let spelled: Vec<String> =
                        named.iter().map(|k| layer.origin.spell(k)).collect();
                    return Err(config(format!(
                        "{} names the provider {} ways ({}); keep one",
                        layer.origin,
                        named.len(),
                        spelled.join(", ")
                    )));
                }
            }
        }
        let Some((kind, at)) = kind else {
            return Err(config(format!(
                "no identity provider given; {}",
                if flags {
                    FLAGS_PROVIDER_HELP
                } else {
                    ENV_PROVIDER_HELP
                }
            )));
        };
        let from = &layers[at];
        let given_by = format!("{} ({})", from.origin.spell(kind), from.origin);
        // A realm or template value given as high as the provider must fit it; lower ones are
        // replaced along with the lower provider.
        for layer in &layers[..=at] {
            if layer.realm.is_some() && kind != "keycloak" {
                return Err(config(format!(
                    "{} goes with {}, but the provider is given by {given_by}",
                    layer.origin.spell("realm"),
                    layer.origin.spell("keycloak"),
                )));
            }
            if !layer.set.is_empty() && kind != "template" {
                return Err(config(format!(
                    "{} fills a {} URL, but the provider is given by {given_by}",
                    layer.origin.spell("set"),
                    layer.origin.spell("template"),
                )));
            }
        }
        let provider = match kind {
            "issuer" => ProviderSpec::Issuer(from.issuer.clone().unwrap_or_default()),
            "keycloak" => ProviderSpec::Keycloak {
                base: from.keycloak.clone().unwrap_or_default(),
                realm: first(layers, |l| l.realm.as_ref()).ok_or_else(|| {
                    config(match &from.origin {
                        Origin::Flags => {
                            "--keycloak BASE needs --realm NAME (or TOKENWARD_REALM)".to_string()
                        }
                        Origin::Environment => {
                            "TOKENWARD_KEYCLOAK=BASE needs TOKENWARD_REALM=NAME".to_string()
                        }
                        o => format!("keycloak in {o} needs a realm; add realm = \"NAME\""),
                    })
                })?,
            },
            "template" => {
                // Template values: a higher layer overrides a lower one key by key.
                let mut values: Vec<(String, String)> = Vec::new();
                for layer in layers {
                    for (k, v) in &layer.set {
                        if !values.iter().any(|(have, _)| have == k) {
                            values.push((k.clone(), v.clone()));
                        }
                    }
                }
                ProviderSpec::Template {
                    url: from.template.clone().unwrap_or_default(),
                    values,
                }
            }
            _ => ProviderSpec::TokenUrl(from.token_url.clone().unwrap_or_default()),
        };

        let client_id = first(layers, |l| l.client_id.as_ref()).ok_or_else(|| {
            config(if flags {
                "no client id; pass --client-id ID (or set TOKENWARD_CLIENT_ID)"
            } else {
                "no client id; set TOKENWARD_CLIENT_ID (or client_id in the profile)"
            })
        })?;
        let auth_method = first(layers, |l| l.auth_method.as_ref())
            .map(|m| AuthMethod::parse(&m))
            .transpose()?;
        Ok(Settings {
            provider,
            client_id,
            secret: first(layers, |l| l.secret.as_ref()),
            scope: first(layers, |l| l.scope.as_ref()),
            auth_method,
            require_claims: layers
                .iter()
                .map(|l| l.require_claims.clone())
                .find(|c| !c.is_empty())
                .unwrap_or_default(),
            timeout: first(layers, |l| l.timeout.as_ref()),
            ca_file: first(layers, |l| l.ca_file.as_ref()),
            port: first(layers, |l| l.port.as_ref()),
            redirect_path: first(layers, |l| l.redirect_path.as_ref()),
            redirect_uri: first(layers, |l| l.redirect_uri.as_ref()),
            expected_issuer: first(layers, |l| l.expected_issuer.as_ref()),
            leeway: first(layers, |l| l.leeway.as_ref()),
            store: first(layers, |l| l.store.as_ref()),
            private_key_file: first(layers, |l| l.private_key_file.as_ref()),
            key_id: first(layers, |l| l.key_id.as_ref()),
            audience: first(layers, |l| l.audience.as_ref()),
            profile: None,
        })
    }

    /// The client's configuration with `secret` (read by [`SecretSpec::read`]).
    pub fn client_config(&self, secret: Option<Secret>) -> ClientConfig {
        let mut config = ClientConfig::new(self.client_id.as_str());
        config.client_secret = secret;
        config.auth_method = self.auth_method;
        if let Some(scope) = &self.scope {
            config = config.scope(scope);
        }
        config.required_claims = self.require_claims.clone();
        config.redirect_uri = self.redirect_uri.clone();
        config.audience = self.audience.clone();
        config
    }

    /// `config` with the signer of `private_key_jwt` when a key file is set (read here, so a
    /// missing or unusable key is a configuration error naming the file).
    pub fn with_private_key(&self, mut config: ClientConfig) -> Result<ClientConfig> {
        if let Some(path) = &self.private_key_file {
            let key =
                crate::native::assertion::PrivateKey::from_pem_file(path, self.key_id.as_deref())?;
            let method = config.auth_method;
            config = config.signer(key.into_signer());
            if method.is_some() && method != Some(AuthMethod::PrivateKeyJwt) {
                return Err(config_error_key(method));
            }
        }
        Ok(config)
    }

    /// The HTTP options: the timeout and the CA file, else the defaults.
    pub fn http_options(&self) -> HttpOptions {
        let mut http = HttpOptions::default();
        if let Some(t) = self.timeout {
            http.timeout = t;
        }
        if let Some(ca) = &self.ca_file {
            http.trust = Trust::CaFile(ca.clone());
        }
        http
    }

    /// A client builder for `config` with the provider and the verification settings (the
    /// expected issuer, the leeway); discovery happens at `build()` for an issuer.
    pub fn builder(&self, config: ClientConfig) -> Result<ClientBuilder> {
        let config = self.with_private_key(config)?;
        let mut builder = self.provider.builder(config)?;
        if let Some(issuer) = &self.expected_issuer {
            builder = builder.expected_issuer(issuer.as_str());
        }
        if let Some(leeway) = self.leeway {
            builder = builder.leeway(leeway);
        }
        if let Some(store) = &self.store {
            builder = builder.store(store.as_str());
        }
        Ok(builder)
    }

    /// The client: the secret read from where the settings say (not standard input), then
    /// the provider (discovered for an issuer).
    pub fn client(&self, env: &Env) -> Result<Client> {
        let secret = self
            .secret
            .as_ref()
            .map(|s| s.read("client secret", env))
            .transpose()?;
        self.builder(self.client_config(secret))?
            .http_options(self.http_options())
            .build()
    }
}

/// A client configured by the process environment and a profile: [`Settings::from_env`],
/// then [`Settings::client`].
pub fn client_from_env(profile: Option<&str>) -> Result<Client> {
    let env = Env::process();
    Settings::load(Vec::new(), profile, &env)?.client(&env)
}

#[cfg(test)]
mod tests {
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
        let src = include_str!("settings.rs");
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
}
