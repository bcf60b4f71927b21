//! What an authorization server's refusal becomes: the RFC 6749 §5.2 error in a JSON body
//! ([`Error::OAuth`]) or, for anything else, [`Error::Http`] with an excerpt of the body. Every
//! endpoint's answers (token, revocation, introspection, device) are classified here.

use crate::prelude::*;

use core::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fields::Fields;
use crate::http::{body_excerpt, retry_after, HttpResponse};

/// Parses a JSON object; the message names the document but never quotes its content.
pub(crate) fn json_object(body: &[u8], what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid(format!(
            "the {what} is JSON but not an object"
        ))),
        Err(e) if e.is_eof() => Err(Error::invalid(format!(
            "the {what} is truncated JSON (ended at line {} column {})",
            e.line(),
            e.column()
        ))),
        Err(e) => Err(Error::invalid(format!(
            "the {what} is not JSON (error at line {} column {})",
            e.line(),
            e.column()
        ))),
    }
}

/// The RFC 6749 §5.2 error in a response object, if it has one (its `error`,
/// `error_description` and `error_uri` are taken out of `obj`).
///
/// Keycloak (26.x among others) answers a wrong client secret with `401 unauthorized_client`
/// "Invalid client or Invalid client credentials", where RFC 6749 §5.2 — which reserves 401 for
/// this case — and other Keycloak versions say `invalid_client`. That answer is reported as
/// `invalid_client`, so applications match one code whatever the server's version.
pub fn oauth_error_in(obj: &mut dyn Fields, status: u16) -> Option<Error> {
    let mut error = obj.take("error").into_str()?;
    let description = obj.take("error_description").into_str();
    if status == 401
        && error == "unauthorized_client"
        && description
            .as_deref()
            .is_some_and(|d| d.starts_with("Invalid client"))
    {
        error = "invalid_client".to_string();
    }
    Some(Error::OAuth {
        error,
        error_description: description,
        error_uri: obj.take("error_uri").into_str(),
        status: Some(status),
    })
}

/// The typed error for a non-success response from an authorization server endpoint: an
/// OAuth error body becomes [`Error::OAuth`], anything else [`Error::Http`].
pub fn error_from_response(resp: &HttpResponse) -> Error {
    let mut obj = serde_json::from_slice::<Map<String, Value>>(&resp.body).ok();
    let obj = obj.as_mut().map(|m| m as &mut dyn Fields);
    error_from_parts(resp.status, obj, &resp.body, retry_after(resp))
}

/// [`error_from_response`] for callers that parse JSON themselves: `obj` is the body parsed as
/// a JSON object (`None` when it is not one).
pub fn error_from_parts(
    status: u16,
    obj: Option<&mut dyn Fields>,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Error {
    if let Some(err) = obj.and_then(|o| oauth_error_in(o, status)) {
        return err;
    }
    Error::Http {
        status,
        body_excerpt: body_excerpt(body),
        retry_after,
    }
}
