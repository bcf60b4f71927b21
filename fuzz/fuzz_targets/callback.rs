//! The redirect back from the authorization server, against one fixed pending login. When the
//! first byte is odd the right `state` is put in front (bit 2 picks whether `iss` is required), so the fuzzer gets past the state check
//! to `iss`, `error=` and `code`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokenward::authorize::{authorization_request, parse_callback};
use tokenward::{ClientConfig, LoginOptions, PendingLogin, Provider, RandomSource, Result};

struct Fixed;
impl RandomSource for Fixed {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        for (i, b) in dest.iter_mut().enumerate() {
            *b = i as u8;
        }
        Ok(())
    }
}

/// Two pending logins: one whose provider requires `iss` in the callback (RFC 9207), one that
/// only checks it when present.
fn pending(iss_required: bool) -> &'static PendingLogin {
    static P: [OnceLock<PendingLogin>; 2] = [OnceLock::new(), OnceLock::new()];
    P[iss_required as usize].get_or_init(|| {
        let mut p = Provider::keycloak("https://sso.example", "r").unwrap();
        p.issuer = Some("https://sso.example/realms/r".into());
        p.callback_iss_required = iss_required;
        let c = ClientConfig::new("app").redirect_uri("http://127.0.0.1:1/cb");
        authorization_request(&p, &c, &LoginOptions::default(), &Fixed)
            .unwrap()
            .pending
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let p = pending(mode & 4 == 4);
    let url = if mode & 1 == 1 {
        format!("http://127.0.0.1:1/cb?state={}&{text}", p.state.expose())
    } else if mode & 2 == 2 {
        text.to_string()
    } else {
        format!("http://127.0.0.1:1/cb?{text}")
    };
    match parse_callback(p, &url) {
        Ok(code) => assert!(!code.code.expose().is_empty()),
        Err(e) => {
            // The stored secrets must never appear, unless the input itself carried them in
            // another parameter (an `iss` that contains the state may be quoted as given).
            let shown = format!("{e} {e:?}");
            if !text.contains(p.state.expose()) {
                assert!(!shown.contains(p.state.expose()), "state echoed: {shown}");
            }
            if !text.contains(p.pkce.verifier().expose()) {
                assert!(!shown.contains(p.pkce.verifier().expose()), "verifier echoed");
            }
            // What the message quotes from the input cannot forge a log line.
            assert!(!e.to_string().chars().any(char::is_control), "control char: {shown}");
        }
    }
});
