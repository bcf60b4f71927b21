//! The shared vectors of `tests/vectors/` (see its README) run through the core's pure builders
//! and parsers. The C, Python and JS suites read the same files through their bindings; this is
//! where every case of every file is checked against the rule itself.

use serde_json::{Map, Value};
use tokenward::authorize::{parse_callback, PendingLogin};
use tokenward::token::{parse_token_response, token_from_fields};
use tokenward::{
    api_error, is_token_rejected, Claims, Error, HttpResponse, Pkce, Provider, SentAt,
};

const SENT: SentAt = SentAt {
    monotonic: std::time::Duration::from_secs(100),
    unix: 1_700_000_000,
};

/// `tests/vectors/<name>`, parsed.
fn vectors(name: &str) -> Value {
    let path = format!("{}/../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    let list = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` list"));
    assert!(!list.is_empty(), "`{key}` is empty");
    list
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// Checks an error against an `{"code": ..., "oauth_error"?, "description"?, "status"?}` object.
fn check_error(name: &str, e: &Error, want: &Value) {
    assert_eq!(e.code().as_str(), s(want, "code"), "{name}: {e:?}");
    if let Some(oauth) = want.get("oauth_error") {
        assert_eq!(e.oauth_error(), oauth.as_str(), "{name}: {e:?}");
    }
    if let Some(d) = want.get("description") {
        assert_eq!(e.oauth_description(), d.as_str(), "{name}: {e:?}");
    }
    if let Some(status) = want.get("status") {
        assert_eq!(
            e.http_status().map(u64::from),
            status.as_u64(),
            "{name}: {e:?}"
        );
    }
    if let Some(words) = want.get("message_contains") {
        let msg = e.to_string();
        for w in words.as_array().unwrap() {
            assert!(msg.contains(w.as_str().unwrap()), "{name}: {msg}");
        }
    }
}

#[test]
fn pkce_valid_verifiers_give_their_challenge() {
    let v = vectors("pkce.json");
    for c in cases(&v, "valid") {
        let p = Pkce::from_verifier(s(c, "verifier")).unwrap_or_else(|e| panic!("{c}: {e}"));
        assert_eq!(p.challenge(), s(c, "challenge"), "{}", s(c, "name"));
    }
}

#[test]
fn pkce_invalid_verifiers_are_refused() {
    let v = vectors("pkce.json");
    for c in cases(&v, "invalid") {
        let e = Pkce::from_verifier(s(c, "verifier")).unwrap_err();
        assert_eq!(e.code().as_str(), s(c, "error"), "{}", s(c, "name"));
    }
}

#[test]
fn token_responses() {
    let v = vectors("token_responses.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let mut headers = vec![];
        if let Some(ct) = c.get("content_type").and_then(Value::as_str) {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        let resp = HttpResponse::new(
            c["status"].as_u64().unwrap() as u16,
            headers,
            s(c, "body").as_bytes().to_vec(),
        );
        let got = parse_token_response(&resp, SENT);
        match (&c["expect"]["token"], &c["expect"]["error"], got) {
            (want, Value::Null, Ok(t)) if want.is_object() => {
                let str_of = |k: &str| want[k].as_str().map(str::to_string);
                assert_eq!(
                    Some(t.access_token().expose().to_string()),
                    str_of("access_token"),
                    "{name}"
                );
                assert_eq!(
                    Some(t.token_type().to_string()),
                    str_of("token_type"),
                    "{name}"
                );
                assert_eq!(t.expires_in(), want["expires_in"].as_u64(), "{name}");
                assert_eq!(
                    t.refresh_token().map(|r| r.expose().to_string()),
                    str_of("refresh_token"),
                    "{name}"
                );
                assert_eq!(
                    t.refresh_expires_in(),
                    want["refresh_expires_in"].as_u64(),
                    "{name}"
                );
                assert_eq!(
                    t.id_token().map(|r| r.expose().to_string()),
                    str_of("id_token"),
                    "{name}"
                );
                assert_eq!(t.scope().map(str::to_string), str_of("scope"), "{name}");
                let extra: &Map<String, Value> = c["expect"]["extra"].as_object().unwrap();
                assert_eq!(t.extra(), extra, "{name}");
            }
            (Value::Null, want, Err(e)) => check_error(name, &e, want),
            (_, _, got) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn api_errors() {
    let v = vectors("api_errors.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let mut headers = vec![];
        if let Some(h) = c["www_authenticate"].as_str() {
            headers.push(("WWW-Authenticate".to_string(), h.to_string()));
        }
        let resp = HttpResponse::new(
            c["status"].as_u64().unwrap() as u16,
            headers,
            s(c, "body").as_bytes().to_vec(),
        );
        let e = api_error(&resp);
        let want = &c["expect"];
        check_error(name, &e, want);
        if want.get("api_code").is_some() {
            let (code, message) = e.refusal_detail();
            assert_eq!(code, want["api_code"].as_str(), "{name}: {e:?}");
            assert_eq!(message, want["api_message"].as_str(), "{name}: {e:?}");
        }
        assert_eq!(
            is_token_rejected(&e),
            want["token_rejected"].as_bool().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn discovery_documents() {
    let v = vectors("discovery.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let body = match c.get("body") {
            Some(b) => b.as_str().expect("`body` is a string").to_string(),
            None => c["document"].to_string(),
        };
        match (
            &c["expect"]["provider"],
            Provider::from_discovery(s(c, "issuer"), body.as_bytes()),
        ) {
            (want, Ok(p)) if want.is_object() => {
                let field = |k: &str| want[k].as_str().map(str::to_string);
                assert_eq!(p.issuer, field("issuer"), "{name}");
                assert_eq!(
                    Some(p.token_endpoint.clone()),
                    field("token_endpoint"),
                    "{name}"
                );
                assert_eq!(
                    p.authorization_endpoint,
                    field("authorization_endpoint"),
                    "{name}"
                );
                assert_eq!(
                    p.revocation_endpoint,
                    field("revocation_endpoint"),
                    "{name}"
                );
                assert_eq!(
                    p.introspection_endpoint,
                    field("introspection_endpoint"),
                    "{name}"
                );
                assert_eq!(
                    p.end_session_endpoint,
                    field("end_session_endpoint"),
                    "{name}"
                );
                assert_eq!(p.userinfo_endpoint, field("userinfo_endpoint"), "{name}");
                assert_eq!(p.jwks_uri, field("jwks_uri"), "{name}");
                assert_eq!(
                    p.device_authorization_endpoint,
                    field("device_authorization_endpoint"),
                    "{name}"
                );
                assert_eq!(
                    Some(p.callback_iss_required),
                    want["callback_iss_required"].as_bool(),
                    "{name}"
                );
            }
            (Value::Null, Err(e)) => check_error(name, &e, &c["expect"]["error"]),
            (_, got) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn callbacks() {
    let v = vectors("callbacks.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let mut pending = v["pending"].clone();
        if let Some(required) = c.get("iss_required") {
            pending["iss_required"] = required.clone();
        }
        let pending = PendingLogin::from_json(&pending.to_string()).unwrap();
        match (&c["expect"]["code"], parse_callback(&pending, s(c, "url"))) {
            (Value::String(want), Ok(code)) => assert_eq!(code.code.expose(), want, "{name}"),
            (Value::Null, Err(e)) => check_error(name, &e, &c["expect"]["error"]),
            (_, got) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn templates() {
    let v = vectors("templates.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let values: Vec<(&str, &str)> = c["values"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        match (
            &c["expect"]["issuer"],
            Provider::from_template(s(c, "template"), &values),
        ) {
            (Value::String(issuer), Ok(p)) => {
                assert_eq!(p.issuer.as_deref(), Some(issuer.as_str()), "{name}");
                assert_eq!(
                    p.token_endpoint,
                    s(&c["expect"], "token_endpoint"),
                    "{name}"
                );
            }
            (Value::Null, Err(e)) => check_error(name, &e, &c["expect"]["error"]),
            (_, got) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn jwt_claim_sets_decode_and_required_claims_hold_or_fail() {
    let v = vectors("jwt_claims.json");
    for c in cases(&v, "cases") {
        let name = s(c, "name");
        let claims = Claims::decode_unverified(s(c, "jwt")).unwrap();
        assert_eq!(Value::Object(claims.0.clone()), c["claims"], "{name}");
        let want = &c["expect"];
        assert_eq!(claims.exp(), want["exp"].as_u64(), "{name}");
        assert_eq!(claims.iat(), want["iat"].as_u64(), "{name}");
        let roles: Vec<&str> = want["realm_roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(claims.realm_roles(), roles, "{name}");

        // The required-claim rule, on a token carrying this JWT as its access token.
        let mut obj = Map::new();
        obj.insert("access_token".into(), c["jwt"].clone());
        obj.insert("expires_in".into(), 300.into());
        let token = token_from_fields(obj, SENT).unwrap();
        let required: Vec<String> = c["required_claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        let outcome = &c["required_outcome"];
        match (token.check_required_claims(&required), &outcome["error"]) {
            (Ok(()), Value::Null) => assert_eq!(outcome["ok"], true, "{name}"),
            (Err(e), want) if want.is_object() => {
                check_error(name, &e, want);
                assert_eq!(
                    e,
                    Error::MissingClaim(s(want, "claim").to_string()),
                    "{name}"
                );
            }
            (got, _) => panic!("{name}: unexpected outcome {got:?}"),
        }
    }
}

#[test]
fn malformed_jwts_are_invalid_responses() {
    let v = vectors("jwt_claims.json");
    for c in cases(&v, "malformed") {
        let e = Claims::decode_unverified(s(c, "jwt")).unwrap_err();
        check_error(s(c, "name"), &e, &c["expect"]["error"]);
    }
}
