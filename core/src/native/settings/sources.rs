//! Where settings come from: the environment ([`Env`]), each layer's settings ([`Layer`],
//! with the [`Origin`] that spells them in messages) and the sources of a secret.

use super::*;

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
    pub(super) fn value(&self, name: &str) -> Option<String> {
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
    pub(super) fn provider_kinds(&self) -> Vec<&'static str> {
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
pub(super) fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}
