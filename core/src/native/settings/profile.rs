//! The profiles file: TOML read with the `toml` crate, unknown keys and wrong types refused
//! with the file, line and key, and inline secrets only in a file its owner alone can read.

use super::*;

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

    pub(super) fn at(&self, span: core::ops::Range<usize>) -> String {
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

    pub(super) fn wrong_type(
        &self,
        v: &toml::Spanned<toml::Value>,
        key: &str,
        want: &str,
    ) -> Error {
        config(format!(
            "{}: key `{key}` must be {want}, not a {}",
            self.at(v.span()),
            v.get_ref().type_str()
        ))
    }

    /// An integer or a string holding one, as text.
    pub(super) fn number_text(
        &self,
        v: &toml::Spanned<toml::Value>,
        key: &str,
        want: &str,
    ) -> Result<String> {
        match v.get_ref() {
            toml::Value::Integer(n) => Ok(n.to_string()),
            toml::Value::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(v, key, want)),
        }
    }
}

/// The 1-based line of byte `offset`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A TOML error as `FILE:LINE: ...`, naming the key on that line (and its profile).
pub(super) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
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
pub(super) fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
pub(super) fn is_private(_path: &Path) -> bool {
    false
}

/// A profile's `~/...` path, relative to `home` (no shell expands it for us).
pub(super) fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}
