//! Property tests for every parser of untrusted input: whatever a server, a browser or a user
//! hands in, the answer is a value or a typed error, never a panic, and errors do not echo the
//! secret-bearing input.

use proptest::prelude::*;
use tokenward::authorize::{authorization_request, parse_callback};
use tokenward::provider::fill_template;
use tokenward::token::parse_token_response;
use tokenward::{
    api_error, Claims, ClientConfig, HttpResponse, LoginOptions, Provider, RandomSource, Result,
    SentAt,
};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

const SENT: SentAt = SentAt {
    monotonic: std::time::Duration::from_secs(1),
    unix: 1_700_000_000,
};

struct Counter(std::sync::atomic::AtomicU8);
impl RandomSource for Counter {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        dest.fill(self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
        Ok(())
    }
}

/// JSON-ish bodies: mostly token-response shaped, with the fields' types scrambled.
fn token_body() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        "[a-zA-Z0-9._-]{0,40}".prop_map(|s| format!("\"{s}\"")),
        Just("{}".to_string()),
        Just("[]".to_string()),
        Just("true".to_string()),
    ];
    let field = prop_oneof![
        Just("access_token"),
        Just("token_type"),
        Just("expires_in"),
        Just("refresh_token"),
        Just("refresh_expires_in"),
        Just("id_token"),
        Just("scope"),
        Just("error"),
        Just("error_description"),
        Just("not-before-policy"),
    ];
    prop::collection::vec((field, value), 0..8).prop_map(|fields| {
        let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", inner.join(","))
    })
}

proptest! {
    // 1000 cases each in `make test`; PROPTEST_CASES=1000000 for a long run.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn token_responses(status in prop_oneof![Just(200u16), Just(400), Just(401), 100u16..600], body in token_body(), cut in 0usize..200) {
        let truncated = &body.as_bytes()[..cut.min(body.len())];
        for bytes in [body.as_bytes(), truncated] {
            let resp = HttpResponse::new(status, vec![("Retry-After".into(), "x".into())], bytes.to_vec());
            if let Ok(t) = parse_token_response(&resp, SENT) {
                prop_assert!((200..300).contains(&status));
                prop_assert!(!t.access_token().expose().is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_as_any_response(status in 0u16..1000, bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let resp = HttpResponse::new(status, vec![], bytes.clone());
        let _ = parse_token_response(&resp, SENT);
        let _ = api_error(&resp);
        let _ = Provider::from_discovery("https://a.example/realms/r", &bytes);
    }

    #[test]
    fn jwts(parts in prop::collection::vec("[A-Za-z0-9_=+/-]{0,60}", 0..5), payload in token_body()) {
        let _ = Claims::decode_unverified(&parts.join("."));
        use base64::Engine;
        let jwt = format!("e30.{}.c2ln", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload));
        if let Ok(c) = Claims::decode_unverified(&jwt) {
            let _ = (c.exp(), c.iat(), c.realm_roles(), c.audience(), c.scopes(), c.has("tenant"));
        }
    }

    #[test]
    fn callbacks(query in "[a-z_=&%0-9A-F?#.:/-]{0,120}", with_state in any::<bool>()) {
        let p = Provider::keycloak("https://sso.example", "r").unwrap();
        let c = ClientConfig::new("app").redirect_uri("http://127.0.0.1:1/cb");
        let login = authorization_request(&p, &c, &LoginOptions::default(), &Counter(Default::default())).unwrap();
        let url = if with_state {
            format!("http://127.0.0.1:1/cb?state={}&{query}", login.pending.state.expose())
        } else {
            format!("http://127.0.0.1:1/cb?{query}")
        };
        match parse_callback(&login.pending, &url) {
            Ok(code) => prop_assert!(!code.code.expose().is_empty()),
            Err(e) => prop_assert!(!e.to_string().contains(login.pending.state.expose())),
        }
    }

    #[test]
    fn templates(template in "[a-z{}/:.]{0,60}", key in "[a-z]{1,8}", value in "[a-z0-9/:@?#{} %.-]{0,12}") {
        if let Ok(url) = fill_template(&template, &[(key.as_str(), value.as_str())]) {
            prop_assert!(!url.contains(['{', '}']), "placeholders left in {}", url);
            prop_assert!(!value.contains('/') && !value.contains('@'));
        }
        let _ = Provider::from_template(&template, &[(key.as_str(), value.as_str())]);
    }

    #[test]
    fn urls_and_configs(url in "[a-z]{0,6}:?/{0,2}[a-z0-9.@:\\[\\]-]{0,30}(/[a-z]{0,8})?", id in ".{0,10}", scope in ".{0,20}") {
        let _ = Provider::from_token_url(&url);
        let _ = Provider::keycloak(&url, "r");
        let config = ClientConfig::new(id).secret("s").scope(&scope).redirect_uri(url.clone());
        let _ = config.validate();
    }
}
