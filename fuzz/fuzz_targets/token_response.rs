//! Token endpoint answers (success and RFC 6749 §5.2 errors): the first two bytes are the
//! status, the rest the body. A parsed token must have come from a 2xx with a non-empty token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::oauth_error::error_from_response;
use tokenward::token::parse_token_response;
use tokenward::{HttpResponse, SentAt};

const SENT: SentAt = SentAt {
    monotonic: std::time::Duration::from_secs(1),
    unix: 1_700_000_000,
};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]) % 1000;
    let body = data[2..].to_vec();
    let headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("Retry-After".to_string(), "7".to_string()),
    ];
    let resp = HttpResponse::new(status, headers, body);
    match parse_token_response(&resp, SENT) {
        Ok(t) => {
            assert!((200..300).contains(&status), "a token from status {status}");
            assert!(!t.access_token().expose().is_empty());
            let _ = (t.expires_at(), t.lifetime(), t.claims(), t.response_json());
        }
        Err(e) => {
            let _ = (e.to_string(), format!("{e:?}"), e.code());
        }
    }
    let _ = error_from_response(&resp).to_string();
});
