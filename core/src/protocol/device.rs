//! The device authorization grant (RFC 8628), sans-IO: the request to the device endpoint, its
//! answer, the token request that polls for the user's approval, and the polling policy as a
//! pure state machine ([`DevicePoll`]). The runtime only sleeps for as long as the policy says
//! and can be cancelled in between (native: `Client::device_wait`).
//!
//! The policy (RFC 8628 §3.5): poll every `interval` seconds (5 when the server names none),
//! add 5 s to the interval on every `slow_down` and keep it, keep polling on
//! `authorization_pending`, stop on `access_denied` and `expired_token` (typed
//! [`Error::OAuth`] errors: match [`Error::oauth_error`]), stop with `expired_token` too when
//! the device code's own lifetime has run out, and back off exponentially when a poll timed
//! out. It never asks for a poll sooner than the server allows.

use crate::prelude::*;

use core::time::Duration;

use crate::client_auth::form_post_for;
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::fields::{Field, Fields};
use crate::http::{HttpRequest, HttpResponse};
use crate::oauth_error::{error_from_response, json_object, oauth_error_in};
use crate::pkce::{Pkce, RandomSource};
use crate::provider::Provider;
use crate::secret::Secret;
use crate::text::text;
use crate::token::{parse_token_response, SentAt, Token};

/// `grant_type` of the polling token request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The interval RFC 8628 §3.2 prescribes when the server names none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What `slow_down` adds to the interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Options of a device login.
#[derive(Debug, Clone, Default)]
pub struct DeviceOptions {
    /// Overrides the configured scopes (e.g. `["openid", "offline_access"]`).
    pub scopes: Option<Vec<String>>,
    /// Sends a PKCE S256 challenge (for clients that require PKCE on every grant).
    pub pkce: bool,
    /// Further form parameters (`audience`, `acr_values`, ...).
    pub extra: Vec<(String, String)>,
}

/// The request to the device authorization endpoint, and the PKCE pair when one was asked for
/// (its verifier goes into the polling requests).
#[derive(Debug)]
pub struct DeviceRequest {
    pub request: HttpRequest,
    pub pkce: Option<Pkce>,
}

/// RFC 8628 §3.1: `client_id` (and the client's authentication), `scope`, and the PKCE
/// challenge when asked for.
pub fn device_authorization_request(
    provider: &Provider,
    config: &ClientConfig,
    options: &DeviceOptions,
    rng: &dyn RandomSource,
) -> Result<DeviceRequest> {
    let url = provider.endpoint(
        &provider.device_authorization_endpoint,
        "device authorization endpoint",
    )?;
    let scopes = options.scopes.as_ref().unwrap_or(&config.scopes);
    for s in scopes {
        crate::config::check_scope_token(s)?;
    }
    let scope = scopes.join(" ");
    let pkce = if options.pkce {
        Some(Pkce::generate(rng)?)
    } else {
        None
    };
    let mut params: Vec<(&str, &str)> = Vec::new();
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    if let Some(p) = &pkce {
        params.push(("code_challenge", p.challenge()));
        params.push(("code_challenge_method", "S256"));
    }
    for (k, v) in &options.extra {
        params.push((k, v));
    }
    let request = form_post_for(provider, url, config, &params)?;
    Ok(DeviceRequest { request, pkce })
}

/// A started device login: what to show the user, and what polling needs.
#[derive(Debug)]
pub struct DeviceAuthorization {
    /// The code the user types at [`DeviceAuthorization::verification_uri`].
    pub user_code: String,
    /// The device's secret: it never leaves this process but in the polling requests.
    pub device_code: Secret,
    pub verification_uri: String,
    /// The same page with the user code filled in (for a link or a QR code).
    pub verification_uri_complete: Option<String>,
    /// How long the codes are good for, from when the request was sent.
    pub expires_in: Duration,
    /// The polling interval the server asked for ([`DEFAULT_INTERVAL`] if none).
    pub interval: Duration,
    /// When the device request was sent (its monotonic time starts the expiry).
    pub sent_at: SentAt,
    pub pkce: Option<Pkce>,
}

impl DeviceAuthorization {
    /// The URL to show: the complete one when the server gave it, else the plain one.
    pub fn url_to_show(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }

    /// The monotonic time after which the codes are dead.
    pub fn expires_at(&self) -> Duration {
        self.sent_at.monotonic + self.expires_in
    }

    /// The polling policy for this login.
    pub fn poll(&self) -> DevicePoll {
        DevicePoll::new(self.interval, self.expires_at())
    }
}

/// RFC 8628 §3.2. `pkce` is the pair [`device_authorization_request`] returned.
pub fn parse_device_authorization(
    resp: &HttpResponse,
    sent_at: SentAt,
    pkce: Option<Pkce>,
) -> Result<DeviceAuthorization> {
    if !resp.is_success() {
        return Err(error_from_response(resp));
    }
    let mut obj = json_object(&resp.body, "device authorization response")?;
    device_authorization_from_fields(resp.status, &mut obj, sent_at, pkce)
}

/// [`parse_device_authorization`] for callers that parse JSON themselves.
pub fn device_authorization_from_fields(
    status: u16,
    obj: &mut dyn Fields,
    sent_at: SentAt,
    pkce: Option<Pkce>,
) -> Result<DeviceAuthorization> {
    if let Some(err) = oauth_error_in(obj, status) {
        return Err(err);
    }
    let required = |obj: &mut dyn Fields, name: &str| match obj.take(name) {
        Field::Str(s) if !s.is_empty() => Ok(s),
        Field::Missing => Err(Error::invalid(text!(
            "the device authorization response has no `",
            name,
            "`; is the URL the provider's device authorization endpoint?"
        ))),
        _ => Err(Error::invalid(text!(
            "`",
            name,
            "` in the device authorization response is not a non-empty string"
        ))),
    };
    let device_code = Secret::new(required(obj, "device_code")?);
    let user_code = required(obj, "user_code")?;
    // Some servers (old drafts, Google) say `verification_url`.
    let verification_uri = match required(obj, "verification_uri") {
        Ok(u) => u,
        Err(e) => match obj.take("verification_url") {
            Field::Str(s) if !s.is_empty() => s,
            _ => return Err(e),
        },
    };
    crate::http::check_url(&verification_uri, "verification URI")?;
    let verification_uri_complete = match obj.take("verification_uri_complete") {
        Field::Str(s) if !s.is_empty() => {
            crate::http::check_url(&s, "verification URI")?;
            Some(s)
        }
        _ => None,
    };
    let expires_in = obj
        .take("expires_in")
        .seconds("expires_in")?
        .ok_or_else(|| Error::invalid("the device authorization response has no `expires_in`"))?;
    let interval = match obj.take("interval").seconds("interval")? {
        None | Some(0) => DEFAULT_INTERVAL,
        Some(s) => Duration::from_secs(s),
    };
    Ok(DeviceAuthorization {
        user_code,
        device_code,
        verification_uri,
        verification_uri_complete,
        expires_in: Duration::from_secs(expires_in),
        interval,
        sent_at,
        pkce,
    })
}

/// RFC 8628 §3.4: the polling token request, with the client's authentication and the PKCE
/// verifier when the login sent a challenge.
pub fn device_token_request(
    provider: &Provider,
    config: &ClientConfig,
    authorization: &DeviceAuthorization,
) -> Result<HttpRequest> {
    let mut params = vec![
        ("grant_type", DEVICE_CODE_GRANT),
        ("device_code", authorization.device_code.expose()),
    ];
    if let Some(p) = &authorization.pkce {
        params.push(("code_verifier", p.verifier().expose()));
    }
    form_post_for(provider, &provider.token_endpoint, config, &params)
}

/// What to do after a poll.
#[derive(Debug)]
pub enum PollStep {
    /// The user approved: here is the token.
    Done(Box<Token>),
    /// Not yet: wait this long (at least), then poll again.
    Wait(Duration),
}

/// The polling policy of one device login, as a state machine without a clock: the runtime
/// passes the monotonic time in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePoll {
    interval: Duration,
    expires_at: Duration,
}

impl DevicePoll {
    pub fn new(interval: Duration, expires_at: Duration) -> DevicePoll {
        DevicePoll {
            interval: interval.max(Duration::from_secs(1)),
            expires_at,
        }
    }

    /// The current interval (grows with `slow_down` and timeouts, never shrinks).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long to wait before the first poll, or an `expired_token` error when even that
    /// would be too late.
    pub fn first(&self, now: Duration) -> Result<Duration> {
        self.wait(now)
    }

    /// Reads a poll's outcome (the parsed token answer, or the error it carried) at monotonic
    /// time `now`: the token, a wait before the next poll, or the error that ends the login.
    pub fn next(&mut self, outcome: Result<Token>, now: Duration) -> Result<PollStep> {
        match outcome {
            Ok(token) => Ok(PollStep::Done(Box::new(token))),
            Err(e) => match e.oauth_error() {
                Some("authorization_pending") => self.wait(now).map(PollStep::Wait),
                Some("slow_down") => {
                    self.interval += SLOW_DOWN_STEP;
                    self.wait(now).map(PollStep::Wait)
                }
                Some("access_denied") => Err(with_hint(
                    e,
                    "the user refused the device login; start a new one if that was a mistake",
                )),
                Some("expired_token") => Err(with_hint(
                    e,
                    "the device code expired before the user approved it; start a new device login",
                )),
                _ => match e {
                    // §3.5: a timed-out poll SHOULD slow the polling down exponentially.
                    Error::Timeout(_) => {
                        self.interval *= 2;
                        self.wait(now).map(PollStep::Wait)
                    }
                    other => Err(other),
                },
            },
        }
    }

    /// [`DevicePoll::next`] on the raw token-endpoint answer.
    pub fn next_response(
        &mut self,
        response: &HttpResponse,
        sent_at: SentAt,
        now: Duration,
    ) -> Result<PollStep> {
        self.next(parse_token_response(response, sent_at), now)
    }

    fn wait(&self, now: Duration) -> Result<Duration> {
        if now + self.interval > self.expires_at {
            return Err(Error::OAuth {
                error: "expired_token".to_string(),
                error_description: Some(
                    "the device code expires before the next poll; start a new device login"
                        .to_string(),
                ),
                error_uri: None,
                status: None,
            });
        }
        Ok(self.interval)
    }
}

/// Keeps the server's `error`, and puts a description that says what to do where the server
/// gave none.
fn with_hint(e: Error, hint: &str) -> Error {
    match e {
        Error::OAuth {
            error,
            error_description: None,
            error_uri,
            status,
        } => Error::OAuth {
            error,
            error_description: Some(hint.to_string()),
            error_uri,
            status,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        Provider::keycloak("https://sso.example", "vion").unwrap()
    }

    struct Fixed;
    impl RandomSource for Fixed {
        fn fill(&self, dest: &mut [u8]) -> Result<()> {
            dest.fill(7);
            Ok(())
        }
    }

    fn body(r: &HttpRequest) -> Vec<(String, String)> {
        form_urlencoded::parse(r.body().unwrap().expose().as_bytes())
            .into_owned()
            .collect()
    }

    fn at(secs: u64) -> SentAt {
        SentAt {
            monotonic: Duration::from_secs(secs),
            unix: 1_700_000_000 + secs,
        }
    }

    fn oauth(error: &str) -> Error {
        Error::OAuth {
            error: error.into(),
            error_description: None,
            error_uri: None,
            status: Some(400),
        }
    }

    #[test]
    fn the_request_goes_to_keycloaks_device_endpoint_with_pkce_when_asked() {
        let c = ClientConfig::new("vion-device").scope("openid offline_access");
        let plain =
            device_authorization_request(&provider(), &c, &DeviceOptions::default(), &Fixed)
                .unwrap();
        assert_eq!(
            plain.request.url,
            "https://sso.example/realms/vion/protocol/openid-connect/auth/device"
        );
        assert_eq!(
            body(&plain.request),
            [
                ("scope".into(), "openid offline_access".into()),
                ("client_id".into(), "vion-device".into())
            ]
        );
        assert!(plain.pkce.is_none());
        let options = DeviceOptions {
            pkce: true,
            ..DeviceOptions::default()
        };
        let with = device_authorization_request(&provider(), &c, &options, &Fixed).unwrap();
        let b = body(&with.request);
        let pkce = with.pkce.unwrap();
        assert!(b.contains(&("code_challenge".into(), pkce.challenge().into())));
        assert!(b.contains(&("code_challenge_method".into(), "S256".into())));
        let bare = Provider::from_token_url("https://idp.example/token").unwrap();
        let e = device_authorization_request(&bare, &c, &options, &Fixed).unwrap_err();
        assert!(
            e.to_string().contains("device authorization endpoint"),
            "{e}"
        );
    }

    #[test]
    fn keycloaks_answer_parses_and_the_device_code_stays_secret() {
        let resp = HttpResponse::new(
            200,
            vec![],
            br#"{"device_code":"dc-SECRET","user_code":"ABCD-EFGH",
                "verification_uri":"http://127.0.0.1:8080/realms/vion/device",
                "verification_uri_complete":"http://127.0.0.1:8080/realms/vion/device?user_code=ABCD-EFGH",
                "expires_in":600,"interval":5}"#
                .to_vec(),
        );
        let a = parse_device_authorization(&resp, at(10), None).unwrap();
        assert_eq!(a.user_code, "ABCD-EFGH");
        assert_eq!(a.interval, Duration::from_secs(5));
        assert_eq!(a.expires_at(), Duration::from_secs(610));
        assert!(a.url_to_show().ends_with("user_code=ABCD-EFGH"));
        assert!(!format!("{a:?}").contains("dc-SECRET"));
        let c = ClientConfig::new("vion-device");
        let r = device_token_request(&provider(), &c, &a).unwrap();
        assert_eq!(
            body(&r),
            [
                ("grant_type".into(), DEVICE_CODE_GRANT.into()),
                ("device_code".into(), "dc-SECRET".into()),
                ("client_id".into(), "vion-device".into())
            ]
        );
    }

    #[test]
    fn answers_that_are_not_a_device_authorization_say_so() {
        let html = HttpResponse::new(200, vec![], b"<html><body>Sign in</body></html>".to_vec());
        let e = parse_device_authorization(&html, at(0), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("device authorization response is not JSON"),
            "{e}"
        );
        let refused = HttpResponse::new(
            401,
            vec![],
            br#"{"error":"unauthorized_client","error_description":"Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client."}"#.to_vec(),
        );
        let e = parse_device_authorization(&refused, at(0), None).unwrap_err();
        assert_eq!(e.oauth_error(), Some("unauthorized_client"));
        let missing = HttpResponse::new(
            200,
            vec![],
            br#"{"device_code":"x","user_code":"y","expires_in":5}"#.to_vec(),
        );
        let e = parse_device_authorization(&missing, at(0), None).unwrap_err();
        assert!(e.to_string().contains("verification_uri"), "{e}");
        let plain_http = HttpResponse::new(200, vec![], br#"{"device_code":"x","user_code":"y","verification_uri":"http://evil.example/device","expires_in":5}"#.to_vec());
        assert!(parse_device_authorization(&plain_http, at(0), None).is_err());
        let no_interval = HttpResponse::new(200, vec![], br#"{"device_code":"x","user_code":"y","verification_uri":"https://sso.example/device","expires_in":60}"#.to_vec());
        let a = parse_device_authorization(&no_interval, at(0), None).unwrap();
        assert_eq!(a.interval, DEFAULT_INTERVAL);
    }

    #[test]
    fn the_policy_waits_slows_down_and_stops() {
        let s = Duration::from_secs;
        let mut p = DevicePoll::new(s(5), s(100));
        assert_eq!(p.first(s(0)).unwrap(), s(5));
        let step = |p: &mut DevicePoll, e: &str, now| p.next(Err(oauth(e)), s(now));
        assert!(
            matches!(step(&mut p, "authorization_pending", 5), Ok(PollStep::Wait(w)) if w == s(5))
        );
        assert!(matches!(step(&mut p, "slow_down", 10), Ok(PollStep::Wait(w)) if w == s(10)));
        // The slower interval stays.
        assert!(
            matches!(step(&mut p, "authorization_pending", 20), Ok(PollStep::Wait(w)) if w == s(10))
        );
        assert!(matches!(step(&mut p, "slow_down", 30), Ok(PollStep::Wait(w)) if w == s(15)));
        assert!(
            matches!(p.next(Err(Error::Timeout(s(30))), s(45)), Ok(PollStep::Wait(w)) if w == s(30))
        );
        // The next poll would come after the device code's expiry.
        let e = step(&mut p, "authorization_pending", 75).unwrap_err();
        assert_eq!(e.oauth_error(), Some("expired_token"));
        for (error, words) in [("access_denied", "refused"), ("expired_token", "expired")] {
            let mut p = DevicePoll::new(s(5), s(100));
            let e = step(&mut p, error, 5).unwrap_err();
            assert_eq!(e.oauth_error(), Some(error));
            assert!(e.to_string().contains(words), "{e}");
        }
        let mut p = DevicePoll::new(s(5), s(100));
        let e = step(&mut p, "invalid_client", 5).unwrap_err();
        assert_eq!(e.oauth_error(), Some("invalid_client"));
        // Never faster than a second, whatever the server says.
        assert_eq!(DevicePoll::new(s(0), s(100)).interval(), s(1));
    }
}
