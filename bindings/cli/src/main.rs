//! `tokenward`: the command-line binding of the tokenward core. It translates flags, the
//! environment and profiles into core calls and prints the result; the protocol lives in core.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod config;
mod exit;
mod grants;
mod login;
mod output;
mod secrets;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};
use crate::commands::Ctx;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
        Err(e) => {
            // clap's message starts with "error: "; say whose error it is, like every other.
            eprint!("tokenward: {}", e.render());
            return ExitCode::from(exit::USAGE);
        }
    };
    let env = tokenward::settings::Env::process();
    let ctx = Ctx {
        env: &env,
        verbose: cli.verbose,
    };
    let json = cli.command.json();
    let result = match &cli.command {
        Command::Token(a) => commands::token(&ctx, a),
        Command::Login(a) => commands::login(&ctx, a),
        Command::Refresh(a) => commands::refresh(&ctx, a),
        Command::Revoke(a) => commands::revoke(&ctx, a),
        Command::Decode(a) => commands::decode(&ctx, a),
        Command::Verify(a) => commands::verify(&ctx, a),
        Command::Userinfo(a) => commands::userinfo(&ctx, a),
        Command::Device(a) => grants::device(&ctx, a),
        Command::Exchange(a) => grants::exchange(&ctx, a),
        Command::Introspect(a) => grants::introspect(&ctx, a),
        Command::Logout(a) => grants::logout(&ctx, a),
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "tokenward",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) if json => {
            eprintln!("{}", e.to_json());
            ExitCode::from(e.code)
        }
        Err(e) => {
            eprintln!("tokenward: error: {e}");
            ExitCode::from(e.code)
        }
    }
}
