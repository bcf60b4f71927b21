//! One function per subcommand: gather the settings, build a core `Client`, call it, print.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokenward::settings::{Env, Layer, ProviderSpec, Settings};
use tokenward::{AccessTokenRequirements, Claims, Client, LoginOptions, Secret, Token};

use crate::args::{
    ClientArgs, DecodeArgs, LoginArgs, RefreshArgs, RefreshTokenArgs, RevokeArgs, SecretArgs,
    TokenArgs, TokenFlags, UserinfoArgs, VerifyArgs,
};
use crate::config::{self, cmdline_layer};
use crate::exit::{CliError, CliResult};
use crate::login::{open_browser, Loopback};
use crate::output::{self, print, render_token};
use crate::secrets::SecretReader;

/// What every command shares: the environment, and whether to say more.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub verbose: bool,
}

impl Ctx<'_> {
    pub(crate) fn warn(&self, msg: &str) {
        eprintln!("tokenward: warning: {msg}");
    }

    pub(crate) fn note(&self, msg: &str) {
        if self.verbose {
            eprintln!("tokenward: {msg}");
        }
    }

    /// Flags, then `TOKENWARD_*`, then the profile, merged by core.
    pub(crate) fn settings(
        &self,
        cmdline: Layer,
        profile_flag: Option<&str>,
    ) -> CliResult<Settings> {
        let (settings, warnings) = config::settings(cmdline, profile_flag, self.env)?;
        if let Some((name, path)) = &settings.profile {
            self.note(&format!("profile `{name}` from {}", path.display()));
        }
        for w in &warnings {
            self.warn(w);
        }
        Ok(settings)
    }
}

/// Translates the settings into a core client (discovery happens here for `--issuer`).
pub(crate) fn build_client(
    ctx: &Ctx,
    settings: &Settings,
    secret: Option<Secret>,
    redirect_uri: Option<String>,
) -> CliResult<Client> {
    let mut config = settings.client_config(secret);
    // `login` listens on its own loopback redirect.
    config.redirect_uri = redirect_uri;
    let http = settings.http_options();
    if let ProviderSpec::Issuer(issuer) = &settings.provider {
        ctx.note(&format!("discovering the endpoints of {issuer}"));
    }
    let builder = settings.builder(config)?;
    let client = builder.http_options(http.clone()).build()?;
    if ctx.verbose {
        let c = client.config();
        ctx.note(&format!(
            "token endpoint: {}",
            client.provider().token_endpoint
        ));
        ctx.note(&format!(
            "client: {} (auth method {}; secret from {})",
            c.client_id,
            c.effective_auth_method().as_str(),
            settings
                .secret
                .as_ref()
                .map(|s| s.origin.as_str())
                .unwrap_or("nowhere: public client")
        ));
        ctx.note(&format!(
            "scope: {}; required claims: {}; HTTP timeout {} s",
            if c.scopes.is_empty() {
                "(server default)".to_string()
            } else {
                c.scopes.join(" ")
            },
            if c.required_claims.is_empty() {
                "none".to_string()
            } else {
                c.required_claims.join(", ")
            },
            http.timeout.as_secs()
        ));
    }
    Ok(client)
}

pub(crate) fn client_secret(
    reader: &mut SecretReader,
    settings: &Settings,
) -> CliResult<Option<Secret>> {
    settings
        .secret
        .as_ref()
        .map(|spec| reader.read(spec, "client secret"))
        .transpose()
}

pub fn token(ctx: &Ctx, args: &TokenArgs) -> CliResult<()> {
    let mut layer = cmdline_layer(&args.client, &args.secret, args.timeout);
    layer.audience = args.audience.clone();
    let settings = ctx.settings(layer, args.client.profile.as_deref())?;
    let credentials = settings.secret.is_some() || settings.private_key_file.is_some();
    const NO_CREDENTIALS: &str = "client credentials need a client secret or a private key; \
         pass --client-secret-env VAR, --client-secret-file PATH, --client-secret-stdin or \
         --private-key-file PEM (or set TOKENWARD_CLIENT_SECRET / TOKENWARD_PRIVATE_KEY_FILE)";
    let store = shared_store(&settings);
    if !credentials && store.is_none() {
        return Err(CliError::usage(NO_CREDENTIALS));
    }
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let client = build_client(ctx, &settings, secret, None)?;
    if let (false, Some(store)) = (credentials, &store) {
        if client.token_source().peek_shared().is_none() {
            return Err(CliError::usage(format!(
                "{NO_CREDENTIALS}; or sign in first with `tokenward login` and the same \
                 settings (no session of this client is kept in {store})"
            )));
        }
    }
    // The cache, through the store: a stored session (a `login`'s, refreshed when due) or a
    // client-credentials token still fresh is printed as is; else one request renews it.
    let token = client.token()?;
    if let Some(store) = &store {
        ctx.note(&format!("token cache: {store}"));
    }
    let format = args.output.format();
    if format == output::Format::Json {
        return print(render_token_now(&token).expose());
    }
    print(render_token(&token, format).expose())
}

/// The shared store the settings name, redacted for messages (`None`: `memory`).
pub(crate) fn shared_store(settings: &Settings) -> Option<String> {
    let url = settings.store.as_deref()?.trim();
    match url.split_once(':').map_or(url, |(s, _)| s) {
        "" | "memory" | "none" => None,
        _ => Some(tokenward::native::store::redact_url(url)),
    }
}

/// `--json` of a token that may have been kept for a while (the store): `expires_in` and
/// `refresh_expires_in` count from now, not from when the server sent it.
fn render_token_now(token: &tokenward::Token) -> Secret {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // A token this run fetched is printed as the server sent it.
    let elapsed = now.saturating_sub(token.sent_at().unix);
    let mut json = token.response_json();
    if elapsed > 1 {
        for field in ["expires_in", "refresh_expires_in"] {
            // 0 means "no deadline" for refresh_expires_in (Keycloak's offline tokens).
            if let Some(n) = json.get(field).and_then(|v| v.as_u64()).filter(|n| *n > 0) {
                json.insert(field.into(), n.saturating_sub(elapsed).into());
            }
        }
    }
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(json))
        .expect("a JSON map always serializes");
    Secret::new(text + "\n")
}

pub fn login(ctx: &Ctx, args: &LoginArgs) -> CliResult<()> {
    let mut layer = cmdline_layer(&args.client, &args.secret, args.http_timeout);
    layer.port = args.port;
    layer.redirect_path = args.redirect_path.clone();
    let settings = ctx.settings(layer, args.client.profile.as_deref())?;
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let path = settings.redirect_path.as_deref().unwrap_or("/callback");
    let server = Loopback::bind(settings.port, path)?;
    let client = build_client(ctx, &settings, secret, Some(server.redirect_uri()))?;
    let options = LoginOptions {
        extra: args.param.clone(),
        ..LoginOptions::default()
    };
    let request = client.authorization_request(&options)?;
    let url = request.url();
    eprintln!("tokenward: open this URL in a browser to sign in:\n\n    {url}\n");
    if args.open {
        if let Err(e) = open_browser(&url) {
            ctx.warn(&format!("{e}; open the URL yourself"));
        }
    }
    eprintln!(
        "tokenward: waiting up to {} s for the browser to come back to {}",
        args.timeout,
        server.redirect_uri()
    );
    let callback = server.wait(Duration::from_secs(args.timeout))?;
    let result = client.exchange_code(request.pending, &callback.url);
    callback.answer(result.is_ok());
    let token = result?;
    say_signed_in(ctx, &settings);
    print(render_token(&token, args.output.format()).expose())
}

/// After a login (browser or device): where the session is kept, and how to use it next.
pub(crate) fn say_signed_in(ctx: &Ctx, settings: &Settings) {
    match shared_store(settings) {
        Some(store) => eprintln!(
            "tokenward: signed in; the session is kept in {store}: `tokenward token` with the same \
             settings prints its access token, `tokenward logout` ends it"
        ),
        None => ctx.note("signed in (not kept: the store is `memory`)"),
    }
}

pub fn refresh(ctx: &Ctx, args: &RefreshArgs) -> CliResult<()> {
    let settings = ctx.settings(
        cmdline_layer(&args.client, &args.secret, args.timeout),
        args.client.profile.as_deref(),
    )?;
    if !args.client.scope.is_empty() {
        // Core's refresh_token_grant keeps the login's scopes; say so rather than drop it quietly.
        ctx.warn("--scope is not sent on refresh: the new token keeps the scopes of the login");
    }
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let client = build_client(ctx, &settings, secret, None)?;
    if let Some((_, store)) = kept_session(&client, &settings, &args.refresh_token, "refresh")? {
        // Renewed through the store: the new token (and a rotated refresh token) is kept there.
        let token = client.refresh()?;
        ctx.note(&format!("session refreshed; kept in {store}"));
        return print(render_token(&token, args.output.format()).expose());
    }
    let refresh_token = reader.read(&args.refresh_token.input().spec(), "refresh token")?;
    let token = client.refresh_token_grant(&refresh_token)?;
    print(render_token(&token, args.output.format()).expose())
}

/// For `refresh` and `logout` without a refresh token on the command line: the session
/// `login` (or `device`) kept in the store, and the store's name. `None` when the command reads
/// the refresh token from standard input instead (nothing named, no store, or nothing kept and
/// stdin is not a terminal); nothing kept with a terminal on stdin says what to do.
pub(crate) fn kept_session(
    client: &Client,
    settings: &Settings,
    refresh_token: &RefreshTokenArgs,
    verb: &str,
) -> CliResult<Option<(Arc<Token>, String)>> {
    let Some(store) = shared_store(settings).filter(|_| !refresh_token.named()) else {
        return Ok(None);
    };
    if let Some(token) = client.token_source().peek_shared() {
        return Ok(Some((token, store)));
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(CliError::usage(format!(
            "no session of this client is kept in {store} (sign in with `tokenward login` and \
             the same settings); to {verb} another session pass its refresh token with \
             --refresh-token-env VAR, --refresh-token-file PATH or --refresh-token-stdin"
        )));
    }
    Ok(None)
}

/// The client and the token a command acts on (`revoke`, `introspect`): the settings merged,
/// then the client secret and the token (`what`, for messages) read from where the flags say.
pub(crate) fn client_and_token(
    ctx: &Ctx,
    (client, secret, timeout): (&ClientArgs, &SecretArgs, Option<u64>),
    token: &TokenFlags,
    what: &str,
) -> CliResult<(Client, Secret)> {
    let settings = ctx.settings(
        cmdline_layer(client, secret, timeout),
        client.profile.as_deref(),
    )?;
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let token = reader.read(&token.input().spec(), what)?;
    Ok((build_client(ctx, &settings, secret, None)?, token))
}

pub fn revoke(ctx: &Ctx, args: &RevokeArgs) -> CliResult<()> {
    let (kind, what) = args.kind.kind();
    let (client, token) = client_and_token(
        ctx,
        (&args.client, &args.secret, args.timeout),
        &args.token,
        what,
    )?;
    client.revoke(&token, kind)?;
    ctx.note(&format!("{what} revoked"));
    Ok(())
}

/// The JWT given as an argument, else read from standard input; pasted headers are accepted.
fn jwt_input(arg: Option<&str>) -> CliResult<Secret> {
    let raw = match arg {
        Some(t) if t != "-" => Secret::new(t),
        _ => {
            let mut buf = String::new();
            std::io::stdin().read_to_string(&mut buf).map_err(|e| {
                CliError::usage(format!("cannot read the token from standard input: {e}"))
            })?;
            Secret::new(buf)
        }
    };
    let jwt = bare_jwt(raw.expose());
    if jwt.is_empty() {
        return Err(CliError::usage(
            "no token given; pass it as an argument or on standard input",
        ));
    }
    Ok(Secret::new(jwt))
}

fn pretty(claims: &Claims) -> String {
    serde_json::to_string_pretty(&serde_json::Value::Object(claims.0.clone()))
        .expect("a JSON map always serializes")
        + "\n"
}

/// A client for checking tokens: the provider and the verification settings. No secret is
/// read: verifying and userinfo never authenticate the client.
fn checking_client(ctx: &Ctx, settings: &Settings) -> CliResult<Client> {
    let mut settings = settings.clone();
    settings.secret = None;
    settings.auth_method = None;
    build_client(ctx, &settings, None, None)
}

pub fn verify(ctx: &Ctx, args: &VerifyArgs) -> CliResult<()> {
    let jwt = jwt_input(args.token.as_deref())?;
    let settings = ctx.settings(
        cmdline_layer(&args.client, &Default::default(), args.timeout),
        args.client.profile.as_deref(),
    )?;
    let client = checking_client(ctx, &settings)?;
    let requirements = AccessTokenRequirements {
        audience: args.audience.clone(),
        claims: settings.require_claims.clone(),
        roles: args.require_role.clone(),
    };
    let claims = client.verify_access_token(jwt.expose(), &requirements)?;
    ctx.note(&format!(
        "verified: signature ({} key set fetch), issuer, lifetime, type{}",
        client.key_set_fetches(),
        if requirements.audience.is_some() {
            ", audience"
        } else {
            ""
        }
    ));
    print(&pretty(&claims))
}

pub fn userinfo(ctx: &Ctx, args: &UserinfoArgs) -> CliResult<()> {
    let settings = ctx.settings(
        cmdline_layer(&args.client, &Default::default(), args.timeout),
        args.client.profile.as_deref(),
    )?;
    let mut reader = SecretReader::new(ctx.env);
    let token = reader.read(&args.token.input().spec(), "access token")?;
    let token = Secret::new(bare_jwt(token.expose()));
    let client = checking_client(ctx, &settings)?;
    let claims = client.userinfo_of(&token, None)?;
    print(&pretty(&claims))
}

pub fn decode(ctx: &Ctx, args: &DecodeArgs) -> CliResult<()> {
    let jwt = jwt_input(args.token.as_deref())?;
    let jwt = jwt.expose();
    // The input is the user's, so a token that is not a JWT is a usage error (exit 2).
    let claims = Claims::decode_unverified(jwt).map_err(|e| CliError::usage(e.to_string()))?;
    let json = serde_json::to_string_pretty(&serde_json::Value::Object(claims.0.clone()))
        .expect("a JSON map always serializes");
    if args.json {
        // Standard output stays the claims alone; the warning goes beside them.
        eprintln!(
            "tokenward: decoded, NOT verified (signature, issuer and expiry unchecked); \
             `tokenward verify` checks them"
        );
        return print(&(json + "\n"));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    ctx.note("decoding without verifying the signature");
    print(&format!(
        "{}\n{json}\n",
        output::claims_summary(&claims, now)
    ))
}

/// The JWT in what the user pasted: strips white space, `Authorization:` and `Bearer `.
pub(crate) fn bare_jwt(input: &str) -> &str {
    let t = input.trim();
    let t = t
        .strip_prefix("Authorization:")
        .map(str::trim_start)
        .unwrap_or(t);
    t.strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_headers_are_accepted_by_decode() {
        assert_eq!(bare_jwt("  a.b.c\n"), "a.b.c");
        assert_eq!(bare_jwt("Bearer a.b.c"), "a.b.c");
        assert_eq!(bare_jwt("Authorization: Bearer a.b.c\n"), "a.b.c");
    }
}
