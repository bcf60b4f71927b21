//! Resource API error answers (Docbyte's `{"message": null, "code": "NOT_AUTHORIZED"}`, RFC 6750
//! `WWW-Authenticate`, HTML pages): status from the first two bytes, a `WWW-Authenticate`
//! header from the bytes up to the first NUL, the body after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::{api_error, is_token_rejected, HttpResponse};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]) % 1000;
    let rest = &data[2..];
    let (header, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b""[..], rest),
    };
    let mut headers = Vec::new();
    if let Ok(h) = std::str::from_utf8(header) {
        headers.push(("WWW-Authenticate".to_string(), h.to_string()));
    }
    let resp = HttpResponse::new(status, headers, body.to_vec());
    let e = api_error(&resp);
    let _ = (
        is_token_rejected(&e),
        e.to_string(),
        format!("{e:?}"),
        e.code(),
    );
});
