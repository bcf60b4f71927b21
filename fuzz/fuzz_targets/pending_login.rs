//! A stored pending login (`PendingLogin::from_json`): apps keep it in a cookie, a file or
//! sessionStorage between the redirect and the callback, so it comes back as untrusted text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::PendingLogin;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = PendingLogin::from_json(text) {
            let again = PendingLogin::from_json(p.to_json().expose()).expect("round trip");
            assert_eq!(again.redirect_uri, p.redirect_uri);
        }
    }
});
