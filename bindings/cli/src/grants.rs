//! The commands of issue 17: `device` (RFC 8628), `exchange` (RFC 8693), `introspect`
//! (RFC 7662) and `logout`. As everywhere in the CLI, the protocol is core's: these gather the
//! settings, call the `Client`, and print.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use clap::{ArgAction, Args, ValueEnum};
use tokenward::{DeviceOptions, Secret, TokenKind, TokenType};

use crate::args::{
    parse_secs, ClientArgs, KindArg, OutputArgs, RefreshTokenArgs, SecretArgs, TokenFlags,
    TokenInput,
};
use crate::commands::{
    bare_jwt, build_client, client_and_token, client_secret, kept_session, say_signed_in, Ctx,
};
use crate::config::cmdline_layer;
use crate::exit::{CliError, CliResult, REFUSED};
use crate::output::{print, render_token};
use crate::secrets::SecretReader;

#[derive(Debug, Args)]
pub struct DeviceArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Send a PKCE S256 challenge (for clients that require PKCE).
    #[arg(long, help_heading = "Device")]
    pub pkce: bool,
    /// Show the verification URL as a QR code on stderr, for a phone's camera: `auto` when
    /// stderr is a terminal.
    #[arg(long, value_enum, default_value = "auto", help_heading = "Device")]
    pub qr: QrArg,
    /// An extra device request parameter, e.g. --param acr_values=gold (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = tokenward::settings::parse_set, action = ArgAction::Append, help_heading = "Device")]
    pub param: Vec<(String, String)>,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QrArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequestedType {
    AccessToken,
    RefreshToken,
}

#[derive(Debug, Args)]
pub struct ExchangeArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The client the new token is for (Keycloak: a client id), repeatable.
    #[arg(long, value_name = "CLIENT", action = ArgAction::Append, help_heading = "Exchange")]
    pub audience: Vec<String>,
    /// Read the subject token (the user's access token) from this environment variable.
    #[arg(long, value_name = "VAR", group = "subject", help_heading = "Exchange")]
    pub subject_token_env: Option<String>,
    /// Read the subject token from this file (`-` is standard input).
    #[arg(
        long,
        value_name = "PATH",
        group = "subject",
        help_heading = "Exchange"
    )]
    pub subject_token_file: Option<PathBuf>,
    /// Read the subject token from standard input (the default).
    #[arg(long, group = "subject", help_heading = "Exchange")]
    pub subject_token_stdin: bool,
    /// What to ask for.
    #[arg(
        long,
        value_enum,
        default_value = "access-token",
        help_heading = "Exchange"
    )]
    pub requested_token_type: RequestedType,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct IntrospectArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    /// Which kind of token it is.
    #[arg(long, value_enum, default_value = "access")]
    pub kind: KindArg,
    /// An error comes as one JSON object on stderr.
    #[arg(long)]
    pub json: bool,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    // Last: the heading it names applies to the arguments after it.
    #[command(flatten, next_help_heading = "Token to introspect")]
    pub token: TokenFlags,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub secret: SecretArgs,
    #[command(flatten)]
    pub refresh_token: RefreshTokenArgs,
    /// HTTP timeout in seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
}

pub fn device(ctx: &Ctx, args: &DeviceArgs) -> CliResult<()> {
    let settings = ctx.settings(
        cmdline_layer(&args.client, &args.secret, args.timeout),
        args.client.profile.as_deref(),
    )?;
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let client = build_client(ctx, &settings, secret, None)?;
    let options = DeviceOptions {
        pkce: args.pkce,
        extra: args.param.clone(),
        ..DeviceOptions::default()
    };
    let started = client.device_authorization(&options)?;
    let mut shown = format!(
        "tokenward: to sign in, open\n\n    {}\n\nand enter the code\n\n    {}\n",
        started.verification_uri, started.user_code
    );
    if let Some(complete) = &started.verification_uri_complete {
        shown.push_str(&format!("\n(or open {complete})\n"));
    }
    let qr = match args.qr {
        QrArg::Auto => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        QrArg::Always => true,
        QrArg::Never => false,
    };
    if qr {
        // The complete URL carries the code, so the phone needs no typing.
        let url = started
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&started.verification_uri);
        match qr_code(url) {
            Some(code) => shown.push_str(&format!("\nor scan\n\n{code}\n")),
            None => ctx.warn("the URL is too long for a QR code; open it as printed above"),
        }
    }
    eprintln!("{shown}");
    eprintln!(
        "tokenward: waiting up to {} s for the approval (polling every {} s; Ctrl-C cancels)",
        started.expires_in.as_secs(),
        started.interval.as_secs()
    );
    // Ctrl-C ends the process, and with it the polling; nothing else cancels here.
    let token = client.device_wait(&started, &AtomicBool::new(false))?;
    say_signed_in(ctx, &settings);
    print(render_token(&token, args.output.format()).expose())
}

/// `url` as a QR code in Unicode half blocks (two modules a character), drawn light on dark
/// with its quiet zone, as terminals usually are; `None` if it does not fit in a QR code.
fn qr_code(url: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build(),
    )
}

pub fn exchange(ctx: &Ctx, args: &ExchangeArgs) -> CliResult<()> {
    let settings = ctx.settings(
        cmdline_layer(&args.client, &args.secret, args.timeout),
        args.client.profile.as_deref(),
    )?;
    let input = TokenInput {
        env: args.subject_token_env.clone(),
        file: args.subject_token_file.clone(),
        flag: "subject-token",
    };
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let subject = reader.read(&input.spec(), "subject token")?;
    let subject = Secret::new(bare_jwt(subject.expose()));
    let client = build_client(ctx, &settings, secret, None)?;
    let options = tokenward::ExchangeOptions {
        audience: args.audience.clone(),
        scopes: client.config().scopes.clone(),
        requested_token_type: match args.requested_token_type {
            RequestedType::AccessToken => TokenType::AccessToken,
            RequestedType::RefreshToken => TokenType::RefreshToken,
        },
    };
    let token = client.exchange_uncached(&subject, &options)?;
    print(render_token(&token, args.output.format()).expose())
}

pub fn introspect(ctx: &Ctx, args: &IntrospectArgs) -> CliResult<()> {
    let (kind, what) = args.kind.kind();
    let (client, token) = client_and_token(
        ctx,
        (&args.client, &args.secret, args.timeout),
        &args.token,
        what,
    )?;
    let token = Secret::new(bare_jwt(token.expose()));
    let answer = client.introspect(&token, kind)?;
    let json = serde_json::to_string_pretty(&serde_json::Value::Object(answer.claims.0.clone()))
        .expect("a JSON map always serializes");
    print(&(json + "\n"))?;
    if answer.active {
        Ok(())
    } else {
        Err(CliError::plain(
            REFUSED,
            "inactive",
            format!("the {what} is not active (expired, revoked, or not for this client)"),
        ))
    }
}

pub fn logout(ctx: &Ctx, args: &LogoutArgs) -> CliResult<()> {
    let settings = ctx.settings(
        cmdline_layer(&args.client, &args.secret, args.timeout),
        args.client.profile.as_deref(),
    )?;
    let mut reader = SecretReader::new(ctx.env);
    let secret = client_secret(&mut reader, &settings)?;
    let client = build_client(ctx, &settings, secret, None)?;
    if let Some((stored, store)) = kept_session(&client, &settings, &args.refresh_token, "end")? {
        match stored.refresh_token() {
            Some(rt) => client.logout(rt)?,
            None => {
                // A client-credentials token: revoke it, and forget it.
                client.revoke(stored.access_token(), TokenKind::AccessToken)?;
                client.token_source().clear();
            }
        }
        ctx.note(&format!(
            "session ended, its refresh token revoked and its record deleted from {store}"
        ));
        return Ok(());
    }
    let refresh_token = reader.read(&args.refresh_token.input().spec(), "refresh token")?;
    client.logout(&refresh_token)?;
    ctx.note("session ended and refresh token revoked");
    Ok(())
}
