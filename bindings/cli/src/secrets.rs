//! Reading secrets (client secret, refresh token, token to revoke) from where the user put
//! them: an environment variable, a file, standard input. Messages name the source, never the
//! value.

use std::io::{IsTerminal, Read};
use std::path::Path;

use tokenward::Secret;

use crate::config::{SecretSource, SecretSpec};
use crate::exit::{CliError, CliResult};

/// Reads secrets, remembering that standard input can be read only once.
pub struct SecretReader<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    stdin_taken_by: Option<String>,
}

impl<'a> SecretReader<'a> {
    pub fn new(env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        SecretReader {
            env,
            stdin_taken_by: None,
        }
    }

    /// The secret `what` ("client secret", "refresh token") from `spec`.
    pub fn read(&mut self, spec: &SecretSpec, what: &str) -> CliResult<Secret> {
        let value = match &spec.source {
            SecretSource::Inline(s) => s.clone(),
            SecretSource::Env(var) => match (self.env)(var) {
                Some(v) => Secret::new(v),
                None => {
                    return Err(CliError::usage(format!(
                        "environment variable `{var}` (the {what}, named by {}) is not set",
                        spec.origin
                    )))
                }
            },
            SecretSource::File(p) if p.as_os_str() == "-" => self.stdin(what)?,
            SecretSource::File(p) => read_file(p, what)?,
            SecretSource::Stdin => self.stdin(what)?,
        };
        let trimmed = value.expose().trim_end_matches(['\r', '\n']);
        if trimmed.trim().is_empty() {
            return Err(CliError::usage(format!(
                "the {what} from {} is empty",
                spec.origin
            )));
        }
        Ok(if trimmed.len() == value.expose().len() {
            value
        } else {
            Secret::new(trimmed)
        })
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

fn read_file(path: &Path, what: &str) -> CliResult<Secret> {
    std::fs::read_to_string(path).map(Secret::new).map_err(|e| {
        CliError::usage(format!(
            "cannot read the {what} from `{}`: {e}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(source: SecretSource) -> SecretSpec {
        SecretSpec {
            source,
            origin: "--test".into(),
        }
    }

    #[test]
    fn env_and_file_sources_drop_the_trailing_newline() {
        let env = |k: &str| (k == "S").then(|| "from-env\n".to_string());
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
        let env = |_: &str| None;
        let mut r = SecretReader::new(&env);
        r.stdin_taken_by = Some("client secret".into());
        let e = r
            .read(&spec(SecretSource::Stdin), "refresh token")
            .unwrap_err();
        assert!(e.message.contains("already holds the client secret"), "{e}");
    }
}
