//! The command line as the top settings layer. Everything else about settings (the
//! `TOKENWARD_*` variables, the profiles file, the precedence flags > environment > profile)
//! is core's `tokenward::settings`; this module only translates flags into a [`Layer`].

use tokenward::settings::{Binding, Env, Layer, Origin, SecretSource, SecretSpec, Settings};
use tokenward::Error;

use crate::args::{ClientArgs, SecretArgs};
use crate::exit::{CliError, CliResult};

/// The command-line layer from the flags shared by the commands that talk to a provider.
pub fn cmdline_layer(c: &ClientArgs, s: &SecretArgs, timeout: Option<u64>) -> Layer {
    Layer {
        issuer: c.issuer.clone(),
        keycloak: c.keycloak.clone(),
        realm: c.realm.clone(),
        template: c.template.clone(),
        set: c.set.clone(),
        token_url: c.token_url.clone(),
        client_id: c.client_id.clone(),
        secret: s.spec(),
        scope: (!c.scope.is_empty()).then(|| c.scope.join(" ")),
        auth_method: c.auth_method.clone(),
        require_claims: c.require_claim.clone(),
        timeout: timeout.map(std::time::Duration::from_secs),
        ca_file: c.ca_file.clone(),
        expected_issuer: c.expected_issuer.clone(),
        leeway: c.leeway.map(std::time::Duration::from_secs),
        private_key_file: c.private_key_file.clone(),
        key_id: c.key_id.clone(),
        store: c.store.clone(),
        ..Layer::new(Origin::Flags)
    }
}

/// Flags, then `TOKENWARD_*`, then the profile, merged by core, with the CLI's defaults (core's
/// [`Binding::Cli`]: the file store). Returns the settings and the warnings to print.
pub fn settings(
    cmdline: Layer,
    profile: Option<&str>,
    env: &Env,
) -> CliResult<(Settings, Vec<String>)> {
    let settings = Settings::load_for(Binding::Cli, vec![cmdline], profile, env).map_err(usage)?;
    let mut warnings = Vec::new();
    if matches!(
        &settings.secret,
        Some(SecretSpec {
            source: SecretSource::Inline(_),
            origin,
        }) if origin == "--client-secret"
    ) {
        warnings.push(
            "--client-secret puts the secret in the command line, which other users of this \
             machine can read (ps, /proc); prefer --client-secret-env VAR, \
             --client-secret-file PATH or --client-secret-stdin"
                .into(),
        );
    }
    Ok((settings, warnings))
}

/// A configuration error from core as the CLI's usage error (exit 2, `"code": "usage"`),
/// with core's message as is.
pub fn usage(e: Error) -> CliError {
    match e {
        Error::Config(m) => CliError::usage(m),
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenward::settings::ProviderSpec;
    use tokenward::Secret;

    fn args() -> (ClientArgs, SecretArgs) {
        (ClientArgs::default(), SecretArgs::default())
    }

    #[test]
    fn flags_become_the_top_layer() {
        let (mut c, mut s) = args();
        c.token_url = Some("https://t.example/token".into());
        c.client_id = Some("c".into());
        c.scope = vec!["a b".into(), "c".into()];
        s.client_secret_env = Some("S".into());
        let env: Env = [
            ("TOKENWARD_CLIENT_ID", "from-env"),
            ("TOKENWARD_SCOPE", "x"),
        ]
        .into_iter()
        .collect();
        let (st, w) = settings(cmdline_layer(&c, &s, Some(7)), None, &env).unwrap();
        assert!(w.is_empty());
        assert_eq!(
            st.provider,
            ProviderSpec::TokenUrl("https://t.example/token".into())
        );
        assert_eq!(st.client_id, "c");
        assert_eq!(st.scope.as_deref(), Some("a b c"));
        assert_eq!(st.timeout, Some(std::time::Duration::from_secs(7)));
        let secret = st.secret.unwrap();
        assert_eq!(secret.source, SecretSource::Env("S".into()));
        assert_eq!(secret.origin, "--client-secret-env S");
    }

    #[test]
    fn argv_secret_warns() {
        let (mut c, mut s) = args();
        c.token_url = Some("https://t.example/token".into());
        c.client_id = Some("c".into());
        s.client_secret = Some("s3cr3t".into());
        let (st, w) = settings(cmdline_layer(&c, &s, None), None, &Env::default()).unwrap();
        assert_eq!(
            st.secret.unwrap().source,
            SecretSource::Inline(Secret::new("s3cr3t"))
        );
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("other users"));
        assert!(!w[0].contains("s3cr3t"));
    }

    #[test]
    fn core_configuration_errors_are_usage_errors() {
        let (mut c, s) = args();
        c.keycloak = Some("https://k".into());
        c.client_id = Some("c".into());
        let e = settings(cmdline_layer(&c, &s, None), None, &Env::default()).unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert_eq!(e.name, "usage");
        assert!(
            e.message.starts_with("--keycloak BASE needs --realm"),
            "{e}"
        );
        c.realm = Some("r".into());
        c.auth_method = Some("digest".into());
        let e = settings(cmdline_layer(&c, &s, None), None, &Env::default()).unwrap_err();
        assert_eq!(e.code, crate::exit::USAGE);
        assert!(
            e.message
                .contains("post, basic, none, private_key_jwt or client_secret_jwt"),
            "{e}"
        );
    }
}
