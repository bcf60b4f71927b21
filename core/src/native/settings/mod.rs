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

mod profile;
mod sources;
#[cfg(test)]
mod tests;

pub use profile::*;
pub use sources::*;

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
