//! Reading secrets (client secret, refresh token, token to revoke) from where the user put
//! them: an environment variable, a file, standard input. Messages name the source, never the
//! value.

use std::io::{IsTerminal, Read};

use tokenward::settings::{clean_secret, Env, SecretSpec};
use tokenward::Secret;

use crate::config::usage;
use crate::exit::{CliError, CliResult};

/// Reads secrets, remembering that standard input can be read only once. Variables and files
/// are core's to read (`SecretSpec::read`); standard input is the CLI's.
pub struct SecretReader<'a> {
    env: &'a Env,
    stdin_taken_by: Option<String>,
}

impl<'a> SecretReader<'a> {
    pub fn new(env: &'a Env) -> Self {
        SecretReader {
            env,
            stdin_taken_by: None,
        }
    }

    /// The secret `what` ("client secret", "refresh token") from `spec`.
    pub fn read(&mut self, spec: &SecretSpec, what: &str) -> CliResult<Secret> {
        if !spec.is_stdin() {
            return spec.read(what, self.env).map_err(usage);
        }
        let value = self.stdin(what)?;
        clean_secret(value, what, &spec.origin).map_err(usage)
    }

    fn stdin(&mut self, what: &str) -> CliResult<Secret> {
        if let Some(first) = &self.stdin_taken_by {
            return Err(CliError::usage(format!(
                "standard input already holds the {first}; pass the {what} another way \
                 (an environment variable or a file)"
            )));
        }
        self.stdin_taken_by = Some(what.to_string());
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!("tokenward: reading the {what} from standard input (end with Ctrl-D)");
        }
        let mut buf = String::new();
        stdin.read_to_string(&mut buf).map_err(|e| {
            CliError::usage(format!("cannot read the {what} from standard input: {e}"))
        })?;
        Ok(Secret::new(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokenward::settings::SecretSource;

    fn spec(source: SecretSource) -> SecretSpec {
        SecretSpec {
            source,
            origin: "--test".into(),
        }
    }

    #[test]
    fn env_and_file_sources_drop_the_trailing_newline() {
        let env: Env = [("S", "from-env\n")].into_iter().collect();
        let mut r = SecretReader::new(&env);
        assert_eq!(
            r.read(&spec(SecretSource::Env("S".into())), "client secret")
                .unwrap()
                .expose(),
            "from-env"
        );
        let e = r
            .read(&spec(SecretSource::Env("MISSING".into())), "client secret")
            .unwrap_err();
        assert!(
            e.message.contains("`MISSING`") && e.message.contains("--test"),
            "{e}"
        );

        let p = std::env::temp_dir().join(format!("tw-secret-test-{}", std::process::id()));
        std::fs::write(&p, "from-file\r\n").unwrap();
        assert_eq!(
            r.read(&spec(SecretSource::File(p.clone())), "client secret")
                .unwrap()
                .expose(),
            "from-file"
        );
        std::fs::write(&p, "\n").unwrap();
        assert!(r
            .read(&spec(SecretSource::File(p.clone())), "client secret")
            .unwrap_err()
            .message
            .contains("is empty"));
        std::fs::remove_file(&p).unwrap();
        let e = r
            .read(&spec(SecretSource::File(p.clone())), "client secret")
            .unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert!(e.message.contains("cannot read the client secret"), "{e}");
    }

    #[test]
    fn stdin_can_serve_only_one_secret() {
        let env = Env::default();
        let mut r = SecretReader::new(&env);
        r.stdin_taken_by = Some("client secret".into());
        let e = r
            .read(&spec(SecretSource::Stdin), "refresh token")
            .unwrap_err();
        assert!(e.message.contains("already holds the client secret"), "{e}");
    }
}
