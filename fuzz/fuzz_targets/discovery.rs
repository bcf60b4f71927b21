//! OpenID discovery documents (`/.well-known/openid-configuration`): any bytes, against a fixed
//! expected issuer. An accepted document names that issuer and only allowed endpoint URLs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::Provider;

const ISSUER: &str = "https://sso.example/realms/r";

fuzz_target!(|data: &[u8]| {
    match Provider::from_discovery(ISSUER, data) {
        Ok(p) => {
            assert_eq!(p.issuer.as_deref(), Some(ISSUER));
            assert!(tokenward::http::check_url(&p.token_endpoint, "token").is_ok());
        }
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
});
