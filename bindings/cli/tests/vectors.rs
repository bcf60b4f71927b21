//! The shared vectors of `tests/vectors/` (see its README) through the binary, offline:
//! `decode` on every claim set of jwt_claims.json, and the refused templates of templates.json
//! (a good template needs its identity provider: the network).

mod common;

use common::Tw;
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
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

#[test]
fn decode_prints_each_claim_set() {
    let v = vectors("jwt_claims.json");
    let tw = Tw::new("vectors-decode");
    for c in cases(&v, "cases") {
        let r = tw.run(&["decode", "--json", c["jwt"].as_str().unwrap()]);
        r.ok();
        assert_eq!(r.json(), c["claims"], "{}", c["name"]);
    }
}

#[test]
fn decode_refuses_each_malformed_token() {
    let v = vectors("jwt_claims.json");
    let tw = Tw::new("vectors-decode-bad");
    for c in cases(&v, "malformed") {
        let e = tw
            .run(&["decode", "--json", c["jwt"].as_str().unwrap()])
            .json_error(2);
        // The core says invalid_response; a token the user typed is the CLI's usage error.
        assert_eq!(c["expect"]["error"]["code"], "invalid_response");
        assert_eq!(e["code"], "usage", "{}: {e}", c["name"]);
        assert!(
            e["message"].as_str().unwrap().contains("JWT"),
            "{}: {e}",
            c["name"]
        );
    }
}

#[test]
fn refused_templates_exit_2_with_the_cores_error() {
    let v = vectors("templates.json");
    let tw = Tw::new("vectors-templates");
    let mut refused = 0;
    for c in cases(&v, "cases") {
        let Some(want) = c["expect"].get("error") else {
            continue;
        };
        refused += 1;
        let mut args = vec![
            "token".to_string(),
            "--template".into(),
            c["template"].as_str().unwrap().into(),
        ];
        for (k, val) in c["values"].as_object().unwrap() {
            args.push("--set".into());
            args.push(format!("{k}={}", val.as_str().unwrap()));
        }
        args.extend(
            ["--client-id", "x", "--client-secret-env", "PATH", "--json"].map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let e = tw.run(&args).json_error(2);
        assert_eq!(e["code"], want["code"], "{}: {e}", c["name"]);
        for w in want
            .get("message_contains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let msg = e["message"].as_str().unwrap();
            assert!(msg.contains(w.as_str().unwrap()), "{}: {msg}", c["name"]);
        }
    }
    assert!(refused > 0);
}
