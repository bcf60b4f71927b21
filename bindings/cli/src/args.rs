//! The command line: subcommands, flags and the help text.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::output::Format;
use tokenward::settings::{parse_set, SecretSource, SecretSpec};
use tokenward::TokenKind;

const EXAMPLES: &str = "\
Examples, one per system tokenward was built for:

  VION Cloud API (auth.<env>.ecocoa.ch, realm vion): sign in as a user (PKCE), then a service token
    tokenward login --keycloak https://auth.test.ecocoa.ch --realm vion \\
        --client-id my-app --scope 'openid user_impersonation' --open --json > vion-login.json
    tokenward token --keycloak https://auth.test.ecocoa.ch --realm vion \\
        --client-id my-service --client-secret-env VION_CLIENT_SECRET --header

  ecoinvent API (client credentials, 3600 s tokens)
    tokenward token \\
        --token-url https://sso.ecoinvent.org/realms/ecoinvent/protocol/openid-connect/token \\
        --client-id my-client --client-secret-file ~/.config/tokenward/ecoinvent.secret

  Iopole API (client credentials, optional space-separated scopes, roles admin / user)
    tokenward token \\
        --token-url https://auth.ppd.iopole.fr/realms/iopole/protocol/openid-connect/token \\
        --client-id my-client --client-secret-env IOPOLE_CLIENT_SECRET --scope '<scope> <scope>' \\
      | tokenward decode        # expiry, realm roles (admin / user) and scope

  Docbyte Vault (templated tenant URL; a token without a tenant claim is refused)
    tokenward token \\
        --template 'https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}' \\
        --set account=ACCOUNT --set environment=ENVIRONMENT --set tenant=TENANT \\
        --client-id my-client --client-secret-env DOCBYTE_CLIENT_SECRET \\
        --scope openid --require-claim tenant

  An API in front of Keycloak: verify a presented access token (exit 3 when it does not verify)
    tokenward verify --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-api \\
        --audience my-api --require-claim tenant < access-token.txt

  A headless or SSH session: sign in on another device (RFC 8628); code and URL on stderr
    tokenward device --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-cli \\
        --scope 'openid offline_access' --json > vion-login.json

  A service calling another on the user's behalf (token exchange, RFC 8693)
    tokenward exchange --keycloak https://auth.test.ecocoa.ch --realm vion \\
        --client-id my-service --client-secret-env VION_CLIENT_SECRET \\
        --subject-token-env USER_TOKEN --audience other-client

  Sign in once; later runs print the session's access token, refreshed from the store as needed
    tokenward login --profile vion-user --open
    curl -H \"Authorization: Bearer $(tokenward token --profile vion-user)\" https://api.example/me
    tokenward logout --profile vion-user

  No shared secret: the client signs a JWT with its key (private_key_jwt)
    tokenward token --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-service \\
        --private-key-file ~/.config/tokenward/my-service.pem --key-id my-key

Configuration (flags win over the environment, the environment over the profile):
  TOKENWARD_ISSUER  TOKENWARD_KEYCLOAK  TOKENWARD_REALM  TOKENWARD_TEMPLATE  TOKENWARD_SET ('k=v k=v')
  TOKENWARD_SET_<NAME> (one template value)  TOKENWARD_TOKEN_URL  TOKENWARD_CLIENT_ID
  TOKENWARD_CLIENT_SECRET  TOKENWARD_CLIENT_SECRET_FILE  TOKENWARD_SCOPE  TOKENWARD_AUTH_METHOD
  TOKENWARD_REQUIRE_CLAIM  TOKENWARD_TIMEOUT  TOKENWARD_CA_FILE
  TOKENWARD_EXPECTED_ISSUER (the issuer tokens carry)  TOKENWARD_LEEWAY (clock skew, seconds)
  TOKENWARD_REDIRECT_URI (for libraries; `login` uses its own 127.0.0.1 redirect)
  TOKENWARD_PRIVATE_KEY_FILE  TOKENWARD_KEY_ID (private_key_jwt)  TOKENWARD_AUDIENCE
  TOKENWARD_STORE (where tokens and logins are kept: file:///dir, redis://..., memory)
  TOKENWARD_PROFILE (a profile name)  TOKENWARD_CONFIG (the profiles file)
The library reads the same settings (Client.from_env() in Python, tw_client_from_env in C).

Profiles live in $TOKENWARD_CONFIG or ~/.config/tokenward/config.toml, a TOML file of
[profile.NAME] tables:
    [profile.vion-test]
    keycloak = \"https://auth.test.ecocoa.ch\"
    realm = \"vion\"
    client_id = \"my-service\"
    client_secret_env = \"VION_CLIENT_SECRET\"

    [profile.docbyte-acme]
    template = \"https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}\"
    set.account = \"acme\"
    set.environment = \"prod\"
    set.tenant = \"acme\"
    client_id = \"vault-client\"
    client_secret_file = \"~/.config/tokenward/docbyte.secret\"
    scope = \"openid\"
    require_claim = \"tenant\"
  Other keys: issuer, token_url, auth_method, timeout, ca_file, port, redirect_path,
  redirect_uri, expected_issuer, leeway, store, private_key_file, key_id, audience. A profile
  holds the secret itself (client_secret = \"...\") only if the file is mode 0600; an unknown
  key or a wrong type is an error naming the file and line.

The store: tokens are kept between runs, so `token` reuses a client-credentials token until it
is due (500 runs in its lifetime make one request), `login` keeps the user's session, `token`
then prints its access token (refreshed with the stored refresh token when due) and `logout`
ends it and deletes it. By default the file store in $XDG_STATE_HOME/tokenward, else
~/.local/state/tokenward (mode 0700, files 0600); --store URL / TOKENWARD_STORE / the profile's
`store` choose another (redis://... shares it between machines), --store memory keeps nothing.
It holds bearer tokens and refresh tokens: whoever can read it can use them.

Exit codes: 0 ok; 2 usage or configuration; 3 refused by the server (invalid_client,
invalid_grant, invalid_scope, a missing required claim, a forged callback) or a token that
does not verify (invalid_token); 4 network, timeout or server error (5xx); 1 local I/O
failure. Errors go to stderr as `tokenward: error: ...`
with the server's error and error_description; with --json, as one JSON object instead:
{\"error\": {\"code\": \"oauth\", \"message\": ..., \"exit\": 3, \"oauth_error\": \"invalid_client\",
\"description\": ..., \"status\": 401}}, `code` being the error table's name (oauth, transport,
timeout, http, login_required, ...). No secret or token ever appears in them.";

/// tokenward: OAuth 2.0 / OpenID Connect tokens from Keycloak for scripts and CI pipelines.
///
/// Prints an access token on standard output and nothing else, so it fits in
/// `curl -H "Authorization: Bearer $(tokenward token ...)"`. Secrets are read from the
/// environment, a file or standard input, never required on the command line.
#[derive(Debug, Parser)]
#[command(name = "tokenward", version, after_help = EXAMPLES, verbatim_doc_comment)]
pub struct Cli {
    /// Say on stderr which endpoint, client and settings are used (never secrets).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

impl Command {
    /// Whether the command was asked for JSON output (its errors then come as JSON too).
    pub fn json(&self) -> bool {
        match self {
            Command::Token(a) => a.output.json,
            Command::Login(a) => a.output.json,
            Command::Refresh(a) => a.output.json,
            Command::Decode(a) => a.json,
            Command::Verify(a) => a.json,
            Command::Userinfo(a) => a.json,
            Command::Device(a) => a.output.json,
            Command::Exchange(a) => a.output.json,
            Command::Introspect(a) => a.json,
            Command::Revoke(_) | Command::Logout(_) | Command::Completions { .. } => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print an access token: by client credentials (machine to machine), or the session `login` kept.
    #[command(
        after_help = "Example:\n  tokenward token --keycloak https://auth.test.ecocoa.ch --realm vion \\\n      --client-id my-service --client-secret-env VION_CLIENT_SECRET --header\n\nSee `tokenward --help` for all four seed systems and the configuration."
    )]
    Token(TokenArgs),
    /// Sign in as a user in the browser: authorization code + PKCE on a loopback redirect.
    #[command(
        after_help = "The browser comes back to http://127.0.0.1:PORT/callback (RFC 8252); \
register that redirect URI (Keycloak accepts any port for http://127.0.0.1/callback).\n\n\
Example:\n  tokenward login --keycloak https://auth.test.ecocoa.ch --realm vion \\\n      \
--client-id my-app --scope 'openid user_impersonation' --json > login.json"
    )]
    Login(LoginArgs),
    /// Trade a refresh token for a new token (by default the session `login` kept in the store).
    #[command(
        after_help = "Examples:\n  tokenward refresh --profile vion-user\n  RT=$(jq -r .refresh_token login.json) tokenward refresh \\\n      --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-app \\\n      --refresh-token-env RT --json"
    )]
    Refresh(RefreshArgs),
    /// Revoke a token (RFC 7009); revoking a refresh token ends the user's session.
    #[command(
        after_help = "Example:\n  jq -r .refresh_token login.json | tokenward revoke \\\n      --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-app --kind refresh"
    )]
    Revoke(RevokeArgs),
    /// Show the claims of a JWT: expiry in human time, roles, scope, tenant.
    ///
    /// The signature is not verified (the output says so): this is for reading your own token,
    /// not for trusting one. `tokenward verify` checks it.
    #[command(
        after_help = "Example:\n  tokenward token --profile docbyte-acme | tokenward decode"
    )]
    Decode(DecodeArgs),
    /// Verify an access token against the provider's keys and print its claims as JSON.
    ///
    /// Checks the signature (keys from the provider's jwks_uri), the issuer, exp / iat within
    /// the leeway, that it is an access token, and --audience, --require-claim, --require-role.
    /// Exit 0 with the claims; 3 when it does not verify, with the rule that failed.
    #[command(
        after_help = "Example:\n  tokenward token --profile vion-test | tokenward verify --profile vion-test \\\n      --require-role user"
    )]
    Verify(VerifyArgs),
    /// Ask the provider's userinfo endpoint who a user's access token belongs to.
    #[command(
        after_help = "Example:\n  jq -r .access_token login.json | tokenward userinfo \\\n      --keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-app"
    )]
    Userinfo(UserinfoArgs),
    /// Sign in on another device (RFC 8628): the code and URL go to stderr, the token to stdout.
    #[command(
        after_help = "Keycloak: enable \"OAuth 2.0 Device Authorization Grant\" on the client.\n\n\
Example:\n  tokenward device --keycloak https://auth.test.ecocoa.ch --realm vion \\\n      \
--client-id my-cli --scope 'openid offline_access' --json > login.json"
    )]
    Device(crate::grants::DeviceArgs),
    /// Exchange a user's token for one for another audience or scope (RFC 8693).
    #[command(
        after_help = "Keycloak 26.2+: enable \"Standard token exchange\" on the requesting client; the \
subject token must name it in its audience.\n\nExample:\n  tokenward exchange --keycloak \
https://auth.test.ecocoa.ch --realm vion \\\n      --client-id my-service --client-secret-env \
VION_CLIENT_SECRET \\\n      --subject-token-env USER_TOKEN --audience other-client"
    )]
    Exchange(crate::grants::ExchangeArgs),
    /// Ask the provider whether a token is active, and what it says about it (RFC 7662).
    #[command(
        after_help = "Exit 0 and the answer as JSON when the token is active, 3 when it is not.\n\n\
Example:\n  tokenward token --profile vion-test | tokenward introspect --profile vion-test --kind access"
    )]
    Introspect(crate::grants::IntrospectArgs),
    /// Log out without a browser: end the session with its refresh token, revoke it, and
    /// delete it from the store.
    ///
    /// Without a --refresh-token-* option it ends the session `tokenward login` kept in the
    /// store for these settings (else it reads the refresh token from standard input).
    #[command(after_help = "Examples:\n  tokenward logout --profile vion-user\n  \
jq -r .refresh_token login.json | tokenward logout \\\n      \
--keycloak https://auth.test.ecocoa.ch --realm vion --client-id my-cli")]
    Logout(crate::grants::LogoutArgs),
    /// Print shell completions: `tokenward completions bash > /etc/bash_completion.d/tokenward`.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// Where the provider is and who the client is.
#[derive(Debug, Args, Clone, Default)]
pub struct ClientArgs {
    /// Use the settings of this profile from the profiles file [env: TOKENWARD_PROFILE].
    #[arg(long, short = 'p', value_name = "NAME", help_heading = "Provider")]
    pub profile: Option<String>,
    /// The issuer URL; endpoints come from its OIDC discovery document.
    #[arg(long, value_name = "URL", help_heading = "Provider")]
    pub issuer: Option<String>,
    /// A Keycloak base URL, e.g. https://auth.test.ecocoa.ch (with --realm).
    #[arg(long, value_name = "BASE", help_heading = "Provider")]
    pub keycloak: Option<String>,
    /// The Keycloak realm, e.g. vion.
    #[arg(long, value_name = "NAME", help_heading = "Provider")]
    pub realm: Option<String>,
    /// A realm or token URL with {placeholders}, filled by --set.
    #[arg(long, value_name = "URL", help_heading = "Provider")]
    pub template: Option<String>,
    /// A value for a --template placeholder, e.g. --set tenant=acme (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set, action = ArgAction::Append, help_heading = "Provider")]
    pub set: Vec<(String, String)>,
    /// The token endpoint URL (Keycloak-shaped URLs also give the realm's other endpoints).
    #[arg(long, value_name = "URL", help_heading = "Provider")]
    pub token_url: Option<String>,

    /// The client id the provider gave you.
    #[arg(long, value_name = "ID", help_heading = "Client")]
    pub client_id: Option<String>,
    /// Scopes to ask for, space-separated (repeatable).
    #[arg(long, value_name = "SCOPES", action = ArgAction::Append, help_heading = "Client")]
    pub scope: Vec<String>,
    /// How the client authenticates: post, basic, none, client_secret_jwt (HS256 with the
    /// secret) or private_key_jwt [default: private_key_jwt with --private-key-file, post with
    /// a secret, none without].
    #[arg(long, value_name = "METHOD", help_heading = "Client")]
    pub auth_method: Option<String>,
    /// private_key_jwt: the client's private key, a PEM file (PKCS#8 RSA or EC, or PKCS#1 RSA)
    /// [env: TOKENWARD_PRIVATE_KEY_FILE].
    #[arg(long, value_name = "PEM", help_heading = "Client")]
    pub private_key_file: Option<PathBuf>,
    /// The `kid` of that key in the client's registered key set [default: its RFC 7638
    /// thumbprint] [env: TOKENWARD_KEY_ID].
    #[arg(long, value_name = "KID", help_heading = "Client")]
    pub key_id: Option<String>,
    /// Refuse a token without this claim, e.g. tenant (repeatable).
    #[arg(long, value_name = "NAME", action = ArgAction::Append, help_heading = "Client")]
    pub require_claim: Vec<String>,
    /// Trust only the CA certificates in this PEM file (a private CA).
    #[arg(long, value_name = "PEM", help_heading = "Client")]
    pub ca_file: Option<PathBuf>,
    /// The issuer tokens carry, when the provider is reached by another URL (Keycloak's
    /// hostname behind an internal URL) [env: TOKENWARD_EXPECTED_ISSUER].
    #[arg(long, value_name = "URL", help_heading = "Provider")]
    pub expected_issuer: Option<String>,
    /// How far clocks may disagree when a token's exp / iat are checked, in seconds
    /// [default: 30] [env: TOKENWARD_LEEWAY].
    #[arg(long, value_name = "SECS", value_parser = tokenward::settings::parse_leeway, help_heading = "Provider")]
    pub leeway: Option<u64>,
    /// Where tokens and logins are kept between runs: file:///dir, redis://host[:port] or
    /// rediss://..., or `memory` to keep nothing [default: the file store in
    /// $XDG_STATE_HOME/tokenward, else ~/.local/state/tokenward] [env: TOKENWARD_STORE].
    #[arg(long, value_name = "URL", help_heading = "Store")]
    pub store: Option<String>,
}

/// Where the client secret comes from; at most one.
#[derive(Debug, Args, Clone, Default)]
#[group(id = "client-secret", multiple = false)]
pub struct SecretArgs {
    /// Read the client secret from this environment variable.
    #[arg(long, value_name = "VAR", help_heading = "Client secret")]
    pub client_secret_env: Option<String>,
    /// Read the client secret from this file (`-` is standard input).
    #[arg(long, value_name = "PATH", help_heading = "Client secret")]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from standard input.
    #[arg(long, help_heading = "Client secret")]
    pub client_secret_stdin: bool,
    /// The client secret itself. Other users can read the command line: prefer the options above.
    #[arg(long, value_name = "SECRET", help_heading = "Client secret")]
    pub client_secret: Option<String>,
}

impl SecretArgs {
    pub fn spec(&self) -> Option<SecretSpec> {
        let (source, origin) = if let Some(v) = &self.client_secret_env {
            (
                SecretSource::Env(v.clone()),
                format!("--client-secret-env {v}"),
            )
        } else if let Some(p) = &self.client_secret_file {
            (SecretSource::File(p.clone()), "--client-secret-file".into())
        } else if self.client_secret_stdin {
            (SecretSource::Stdin, "--client-secret-stdin".into())
        } else if let Some(s) = &self.client_secret {
            (
                SecretSource::Inline(tokenward::Secret::new(s.as_str())),
                "--client-secret".into(),
            )
        } else {
            return None;
        };
        Some(SecretSpec { source, origin })
    }
}

/// How the token is printed.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Print `Authorization: Bearer <token>` instead of the bare token.
    #[arg(long, conflicts_with = "json", help_heading = "Output")]
    pub header: bool,
    /// Print the whole token response as JSON (refresh_token, id_token, expires_in, ...); an
    /// error then comes as one JSON object on stderr.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else if self.header {
            Format::Header
        } else {
            Format::Token
        }
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Ask for a token for this audience (the `audience` parameter) [env: TOKENWARD_AUDIENCE].
    #[arg(long, value_name = "AUDIENCE", help_heading = "Client")]
    pub audience: Option<String>,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Listen on this port of 127.0.0.1 [default: a free port].
    #[arg(long, value_name = "PORT", help_heading = "Login")]
    pub port: Option<u16>,
    /// The path of the redirect URI [default: /callback].
    #[arg(long, value_name = "PATH", help_heading = "Login")]
    pub redirect_path: Option<String>,
    /// Open the URL in the default browser.
    #[arg(long, conflicts_with = "no_browser", help_heading = "Login")]
    pub open: bool,
    /// Only print the URL (the default; for headless machines and SSH sessions).
    #[arg(long, help_heading = "Login")]
    pub no_browser: bool,
    /// How long to wait for the browser to come back, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = parse_secs, help_heading = "Login")]
    pub timeout: u64,
    /// HTTP timeout in seconds for the code exchange [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Login")]
    pub http_timeout: Option<u64>,
    /// An extra authorization parameter, e.g. --param prompt=login or --param kc_idp_hint=google
    /// (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_set, action = ArgAction::Append, help_heading = "Login")]
    pub param: Vec<(String, String)>,
}

/// Where a token given to the command comes from (refresh token, token to revoke).
#[derive(Debug, Clone)]
pub struct TokenInput {
    pub env: Option<String>,
    pub file: Option<PathBuf>,
    pub flag: &'static str,
}

impl TokenInput {
    /// The source; standard input when no other is named.
    pub fn spec(&self) -> SecretSpec {
        match (&self.env, &self.file) {
            (Some(v), _) => SecretSpec {
                source: SecretSource::Env(v.clone()),
                origin: format!("--{}-env {v}", self.flag),
            },
            (None, Some(p)) => SecretSpec {
                source: SecretSource::File(p.clone()),
                origin: format!("--{}-file", self.flag),
            },
            (None, None) => SecretSpec {
                source: SecretSource::Stdin,
                origin: "standard input".into(),
            },
        }
    }
}

/// `--token-env VAR`, `--token-file PATH` or `--token-stdin` (the default): where `revoke`,
/// `introspect` and `userinfo` read the token they act on. Each command names the section
/// of its help (`next_help_heading`).
#[derive(Debug, Args)]
pub struct TokenFlags {
    /// Read the token from this environment variable.
    #[arg(long, value_name = "VAR", group = "token")]
    pub token_env: Option<String>,
    /// Read the token from this file (`-` is standard input).
    #[arg(long, value_name = "PATH", group = "token")]
    pub token_file: Option<PathBuf>,
    /// Read the token from standard input (the default).
    #[arg(long, group = "token")]
    pub token_stdin: bool,
}

impl TokenFlags {
    /// Where to read it, for [`crate::secrets::SecretReader`].
    pub fn input(&self) -> TokenInput {
        TokenInput {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
            flag: "token",
        }
    }
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub refresh_token: RefreshTokenArgs,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

/// Where a refresh token is read from: never the command line itself.
#[derive(Debug, Args)]
pub struct RefreshTokenArgs {
    /// Read the refresh token from this environment variable.
    #[arg(
        long,
        value_name = "VAR",
        group = "refresh-token",
        help_heading = "Refresh token"
    )]
    pub refresh_token_env: Option<String>,
    /// Read the refresh token from this file (`-` is standard input).
    #[arg(
        long,
        value_name = "PATH",
        group = "refresh-token",
        help_heading = "Refresh token"
    )]
    pub refresh_token_file: Option<PathBuf>,
    /// Read the refresh token from standard input (the default; `refresh` and `logout` first
    /// look for the session `login` kept in the store).
    #[arg(long, group = "refresh-token", help_heading = "Refresh token")]
    pub refresh_token_stdin: bool,
}

impl RefreshTokenArgs {
    /// Where to read it, for [`crate::secrets::SecretReader`].
    pub fn input(&self) -> TokenInput {
        TokenInput {
            env: self.refresh_token_env.clone(),
            file: self.refresh_token_file.clone(),
            flag: "refresh-token",
        }
    }

    /// Whether the command line names a source at all.
    pub fn named(&self) -> bool {
        self.refresh_token_env.is_some()
            || self.refresh_token_file.is_some()
            || self.refresh_token_stdin
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Access,
    Refresh,
}

impl KindArg {
    /// Core's kind, and its name for messages.
    pub fn kind(self) -> (TokenKind, &'static str) {
        match self {
            KindArg::Access => (TokenKind::AccessToken, "access token"),
            KindArg::Refresh => (TokenKind::RefreshToken, "refresh token"),
        }
    }
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Which kind of token it is.
    #[arg(long, value_enum, default_value = "refresh")]
    pub kind: KindArg,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    // Last: the heading it names applies to the arguments after it.
    #[command(flatten, next_help_heading = "Token to revoke")]
    pub token: TokenFlags,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The JWT (an `Authorization: Bearer` line works too); `-` or nothing reads standard input.
    #[arg(value_name = "JWT")]
    pub token: Option<String>,
    /// Print only the claims, as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The JWT (an `Authorization: Bearer` line works too); `-` or nothing reads standard input.
    #[arg(value_name = "JWT")]
    pub token: Option<String>,
    /// Refuse a token whose `aud` does not contain this (your API's client id).
    #[arg(long, value_name = "AUDIENCE", help_heading = "Verification")]
    pub audience: Option<String>,
    /// Refuse a token that does not grant this Keycloak role, realm or client (repeatable).
    #[arg(long, value_name = "ROLE", action = ArgAction::Append, help_heading = "Verification")]
    pub require_role: Vec<String>,
    /// An error comes as one JSON object on stderr.
    #[arg(long)]
    pub json: bool,
    /// HTTP timeout in seconds for fetching the keys [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct UserinfoArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// An error comes as one JSON object on stderr.
    #[arg(long)]
    pub json: bool,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    // Last: the heading it names applies to the arguments after it.
    #[command(flatten, next_help_heading = "Access token")]
    pub token: TokenFlags,
}

pub(crate) fn parse_secs(s: &str) -> Result<u64, String> {
    tokenward::settings::parse_seconds(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn secret_sources_exclude_each_other() {
        let r = Cli::try_parse_from([
            "tokenward",
            "token",
            "--client-secret-env",
            "A",
            "--client-secret-stdin",
        ]);
        assert_eq!(
            r.unwrap_err().kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn help_has_an_example_per_seed_system() {
        let help = Cli::command().render_help().to_string();
        for needle in [
            "auth.test.ecocoa.ch --realm vion",
            "'openid user_impersonation'",
            "https://sso.ecoinvent.org/realms/ecoinvent/protocol/openid-connect/token",
            "https://auth.ppd.iopole.fr/realms/iopole/protocol/openid-connect/token",
            "'https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}'",
            "--require-claim tenant",
        ] {
            assert!(help.contains(needle), "missing {needle}");
        }
        for var in tokenward::settings::ENV_VARS {
            assert!(help.contains(var), "help does not name {var}");
        }
    }

    #[test]
    fn refresh_token_defaults_to_stdin() {
        let t = TokenInput {
            env: None,
            file: None,
            flag: "refresh-token",
        };
        assert_eq!(t.spec().source, SecretSource::Stdin);
        let t = TokenInput {
            env: Some("RT".into()),
            ..t
        };
        assert_eq!(t.spec().origin, "--refresh-token-env RT");
    }
}
