//! Errors from the resource APIs a token is used against, so an application can tell
//! "my token was refused" (renew and retry once) from everything else.

use crate::prelude::*;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::http::{body_excerpt, retry_after, HttpResponse};

/// The typed error for a failed resource API call:
///
/// - `{"message": null, "code": "NOT_AUTHORIZED"}` (Docbyte) and other `code`/`message` bodies
///   become [`Error::Api`];
/// - an OAuth error (in the body, or in `WWW-Authenticate: Bearer error="invalid_token"`)
///   becomes [`Error::OAuth`];
/// - anything else [`Error::Http`].
pub fn api_error(resp: &HttpResponse) -> Error {
    if let Ok(obj) = serde_json::from_slice::<Map<String, Value>>(&resp.body) {
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        if let Some(error) = text("error") {
            return Error::OAuth {
                error,
                error_description: text("error_description"),
                error_uri: text("error_uri"),
                status: Some(resp.status),
            };
        }
        if obj.contains_key("code") || obj.contains_key("message") {
            let code = match obj.get("code") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            return Error::Api {
                status: resp.status,
                code,
                message: text("message"),
            };
        }
    }
    if let Some((error, description)) = resp
        .header("www-authenticate")
        .and_then(bearer_challenge_error)
    {
        return Error::OAuth {
            error,
            error_description: description,
            error_uri: None,
            status: Some(resp.status),
        };
    }
    if resp.status == 401 || resp.status == 403 {
        return Error::Api {
            status: resp.status,
            code: None,
            message: None,
        };
    }
    Error::Http {
        status: resp.status,
        body_excerpt: body_excerpt(&resp.body),
        retry_after: retry_after(resp),
    }
}

/// True when the API says the token itself is not accepted: renewing it and retrying once
/// may help (401, or RFC 6750's `invalid_token`).
pub fn is_token_rejected(err: &Error) -> bool {
    match err {
        Error::Api { status, .. } => *status == 401,
        Error::OAuth { error, status, .. } => error == "invalid_token" || *status == Some(401),
        Error::Http { status, .. } => *status == 401,
        _ => false,
    }
}

/// `error` and `error_description` from `WWW-Authenticate: Bearer realm="x", error="..."`.
fn bearer_challenge_error(header: &str) -> Option<(String, Option<String>)> {
    let rest = header.trim_start().strip_prefix("Bearer")?.trim_start();
    let mut error = None;
    let mut description = None;
    for part in rest.split(',') {
        let (k, v) = part.split_once('=')?;
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "error" => error = Some(v),
            "error_description" => description = Some(v),
            _ => {}
        }
    }
    error.map(|e| (e, description))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docbyte_not_authorized() {
        let r = HttpResponse::new(
            401,
            vec![],
            br#"{"message": null, "code": "NOT_AUTHORIZED"}"#.to_vec(),
        );
        let e = api_error(&r);
        assert_eq!(
            e,
            Error::Api {
                status: 401,
                code: Some("NOT_AUTHORIZED".into()),
                message: None
            }
        );
        assert!(is_token_rejected(&e));
        assert!(e.to_string().contains("NOT_AUTHORIZED") && e.to_string().contains("tenant"));
    }

    #[test]
    fn keycloak_userinfo_challenge() {
        let r = HttpResponse::new(
            403,
            vec![("WWW-Authenticate".into(), r#"Bearer realm="vion", error="insufficient_scope", error_description="Missing openid scope""#.into())],
            vec![],
        );
        let e = api_error(&r);
        assert_eq!(e.oauth_error(), Some("insufficient_scope"));
        assert_eq!(e.oauth_description(), Some("Missing openid scope"));
        assert!(!is_token_rejected(&e));
    }

    #[test]
    fn other_failures() {
        let e = api_error(&HttpResponse::new(500, vec![], b"<h1>boom</h1>".to_vec()));
        assert!(matches!(e, Error::Http { status: 500, .. }));
        assert!(is_token_rejected(&api_error(&HttpResponse::new(
            401,
            vec![],
            vec![]
        ))));
        let e = api_error(&HttpResponse::new(
            401,
            vec![],
            br#"{"error":"invalid_token"}"#.to_vec(),
        ));
        assert!(is_token_rejected(&e));
    }
}
