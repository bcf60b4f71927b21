//! Verification for C: access tokens a resource server is handed, and the logged-in user's
//! userinfo. The rules (signature, issuer, lifetime, type, audience, claims, roles) are core's
//! `Client::verify_access_token`; this file only translates.

use std::ffi::c_char;

use tokenward::{AccessTokenRequirements, Client};

use crate::client::tw_client;
use crate::error::{guard, tw_result, Failure, FfiResult};
use crate::strings::{arg_opt_str, arg_out, arg_ref, arg_str, owned_string};

fn client_of<'a>(client: *const tw_client) -> FfiResult<&'a Client> {
    arg_ref(client, "client").map(|c| &c.client)
}

/// `len` borrowed UTF-8 strings from a C array; NULL is allowed only with `len` 0.
///
/// # Safety
/// `items` is NULL or points to `len` pointers, each NULL or a NUL-terminated string.
unsafe fn arg_strs(items: *const *const c_char, len: usize, what: &str) -> FfiResult<Vec<String>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Failure::null(what));
    }
    std::slice::from_raw_parts(items, len)
        .iter()
        .enumerate()
        .map(|(i, p)| arg_str(*p, &format!("{what}[{i}]")).map(str::to_string))
        .collect()
}

/// Verifies an access token that a caller presented to your API (the token of an
/// `Authorization: Bearer` header) and writes its verified claims, as a JSON object, to
/// `*out_claims_json`.
///
/// Checked, in core: the signature against the provider's keys (fetched from its `jwks_uri`
/// on first need and cached; a token naming an unknown key refetches them at most once per
/// 10 s, whatever the number of callers), that the algorithm is one the key is for (`none`
/// and HMAC are refused), `iss` (the provider's issuer, or `tw_options_set_expected_issuer`'s),
/// `exp` / `iat` within the leeway (`tw_options_set_leeway_ms`, default 30 s), that it is an
/// access token (Keycloak's `typ: Bearer` claim or RFC 9068's `at+jwt` header), and:
/// - `audience`: a value `aud` must contain (your API's client id); NULL accepts any;
/// - `required_claims` (`required_claims_len` strings): claims that must be present and not
///   empty (Docbyte's `"tenant"`); NULL with length 0 for none;
/// - `required_roles` (`required_roles_len` strings): Keycloak roles that must be granted
///   (`realm_access.roles`, or any client's `resource_access.*.roles`).
///
/// Errors: `TW_ERR_NULL_ARGUMENT`, `TW_ERR_INVALID_UTF8` (nothing was checked);
/// `TW_ERR_INVALID_TOKEN` when the token does not verify: `tw_last_error_message()` names the
/// rule that failed and what to check (it never contains the token). That includes a required
/// role that is not granted, and a key set that cannot be had (no `jwks_uri`, as for a bare
/// token URL; unreachable; not a JWK set; over the size or key-count caps): the message then
/// says where the keys were looked for. `TW_ERR_MISSING_CLAIM` for a required claim that is
/// absent.
/// Ownership: on success free `*out_claims_json` with `tw_string_free`; it is written only on
/// success. The arguments are only read during the call.
/// Thread-safety: any number of threads may verify on one client at once; they share one key
/// cache.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tw_client_verify_access_token(
    client: *const tw_client,
    token: *const c_char,
    audience: *const c_char,
    required_claims: *const *const c_char,
    required_claims_len: usize,
    required_roles: *const *const c_char,
    required_roles_len: usize,
    out_claims_json: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_of(client)?;
        let token = arg_str(token, "token")?;
        let requirements = AccessTokenRequirements {
            audience: arg_opt_str(audience, "audience")?.map(str::to_string),
            claims: arg_strs(required_claims, required_claims_len, "required_claims")?,
            roles: arg_strs(required_roles, required_roles_len, "required_roles")?,
        };
        let out = arg_out(out_claims_json, "out_claims_json")?;
        let claims = client.verify_access_token(token, &requirements)?;
        *out = owned_string(&claims.to_json(), "claims")?;
        Ok(())
    })
}

/// The logged-in user's claims from the provider's userinfo endpoint, as a JSON object in
/// `*out_json`, asked with the client's current access token (renewed first if due). When the
/// session has a verified ID token, the answer's `sub` must be its `sub`.
///
/// Errors: `TW_ERR_NULL_ARGUMENT`; `TW_ERR_LOGIN_REQUIRED` without a session
/// (`tw_client_login_finish` or `tw_client_resume` first); `TW_ERR_CONFIG` when the provider
/// has no userinfo endpoint; `TW_ERR_API` / `TW_ERR_OAUTH` / `TW_ERR_HTTP` when the endpoint
/// refuses (e.g. a token without the `openid` scope); `TW_ERR_INVALID_TOKEN` when the answer
/// is about another user; `TW_ERR_TRANSPORT`, `TW_ERR_TIMEOUT`, `TW_ERR_INVALID_RESPONSE`.
/// Ownership: on success free `*out_json` with `tw_string_free`; written only on success.
/// Thread-safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn tw_client_userinfo(
    client: *const tw_client,
    out_json: *mut *mut c_char,
) -> tw_result {
    guard(|| {
        let client = client_of(client)?;
        let out = arg_out(out_json, "out_json")?;
        let claims = client.userinfo()?;
        *out = owned_string(&claims.to_json(), "userinfo")?;
        Ok(())
    })
}
