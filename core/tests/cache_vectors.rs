//! The cache timelines of `tests/vectors/cache/` (their format is in its README.md),
//! run twice: through the sans-IO state machine itself, and through the native `TokenSource`
//! with a manual clock and a scripted in-process transport. The browser client runs the same
//! files (tests/browser/unit.mjs).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokenward::cache::state::{
    decide, Action, AfterFailure, Entry, Grant, Renewals, Session, Timing,
};
use tokenward::lifetime::refresh_token_deadline;
use tokenward::RefreshPolicy;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/cache");

/// Every timeline, by file name.
fn timelines() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(DIR).expect("tests/vectors/cache") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, serde_json::from_str(&text).expect("valid JSON"));
        }
    }
    assert!(out.len() >= 7, "the cache timelines are missing");
    out
}

fn at(step: &Value) -> Duration {
    Duration::from_secs_f64(step["at"].as_f64().expect("`at` in seconds"))
}

/// What a step expects: the requests made (`grant_type`, and the refresh token sent) and what
/// the call returned: a token name, an error code, or nothing.
fn expected(step: &Value) -> (Vec<String>, Value) {
    let e = &step["expect"];
    let requests = e["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    (requests, e["result"].clone())
}

fn answers(step: &Value) -> Vec<Value> {
    step["answers"].as_array().cloned().unwrap_or_default()
}

/// The state machine alone: the timeline's token names stand for the tokens.
mod machine {
    use super::*;

    /// A token as the runner keeps it: its name and refresh token.
    #[derive(Debug, Clone, PartialEq)]
    struct Held {
        name: String,
        refresh_token: Option<String>,
    }

    struct Runner {
        confidential: bool,
        entry: Option<Entry<Held>>,
        renewals: Renewals,
        last_error: Option<String>,
        answers: Vec<Value>,
        requests: Vec<String>,
    }

    impl Runner {
        fn entry_for(
            &self,
            answer: &Value,
            now: Duration,
            previous: Option<&Entry<Held>>,
        ) -> Entry<Held> {
            let mut rt = answer["refresh_token"].as_str().map(str::to_string);
            let mut deadline = refresh_token_deadline(now, answer["refresh_expires_in"].as_u64());
            if rt.is_none() {
                // RFC 6749 §6: no refresh token in a refresh answer keeps the old one.
                if let Some(p) = previous.filter(|p| p.token.refresh_token.is_some()) {
                    rt = p.token.refresh_token.clone();
                    deadline = p.refresh_token.flatten();
                }
            }
            let timing = Timing {
                sent: now,
                lifetime: answer["expires_in"].as_u64().map(Duration::from_secs),
                refresh_token: rt.as_ref().map(|_| deadline),
            };
            let held = Held {
                name: answer["token"].as_str().unwrap().to_string(),
                refresh_token: rt,
            };
            Entry::new(held, timing, &RefreshPolicy::default(), Duration::ZERO)
        }

        /// Carries out one renewal (and a fall-through) as a driver would; `Ok` is the token
        /// it landed, `Err` the error code the caller gets.
        fn renew(&mut self, mut grant: Grant, now: Duration) -> Result<String, String> {
            loop {
                let answer = self.answers.remove(0);
                let sent = match grant {
                    Grant::RefreshToken => format!(
                        "refresh_token {}",
                        self.entry
                            .as_ref()
                            .unwrap()
                            .token
                            .refresh_token
                            .clone()
                            .unwrap()
                    ),
                    Grant::ClientCredentials => "client_credentials".to_string(),
                };
                self.requests.push(sent);
                if answer.get("token").is_some() {
                    let previous = (grant == Grant::RefreshToken)
                        .then(|| self.entry.clone())
                        .flatten();
                    let entry = self.entry_for(&answer, now, previous.as_ref());
                    let name = entry.token.name.clone();
                    self.entry = Some(entry);
                    self.renewals.renewed(grant);
                    self.last_error = None;
                    return Ok(name);
                }
                let status = answer["status"].as_u64().unwrap();
                let refused = answer["error"] == "invalid_grant";
                let retry_after = answer["retry_after"].as_u64().map(Duration::from_secs);
                let code = if answer.get("error").is_some() {
                    "oauth"
                } else {
                    "http"
                };
                assert!(status >= 400);
                match self
                    .renewals
                    .failed(now, grant, refused, retry_after, self.confidential)
                {
                    AfterFailure::FallThrough(next) => {
                        self.drop_refresh_token();
                        grant = next;
                    }
                    AfterFailure::Failed {
                        drop_refresh_token,
                        login_required,
                    } => {
                        if drop_refresh_token {
                            self.drop_refresh_token();
                        }
                        let code = if login_required {
                            "login_required"
                        } else {
                            code
                        };
                        self.last_error = Some(code.to_string());
                        return Err(code.to_string());
                    }
                }
            }
        }

        fn drop_refresh_token(&mut self) {
            if let Some(e) = &self.entry {
                let mut held = e.token.clone();
                held.refresh_token = None;
                self.entry = Some(e.without_refresh_token(held));
            }
        }

        /// A caller asking for a token at `now`, as the drivers do.
        fn token(&mut self, now: Duration) -> Result<String, String> {
            match decide(
                self.entry.as_ref(),
                &mut self.renewals,
                now,
                self.confidential,
            ) {
                Action::Serve => Ok(self.entry.as_ref().unwrap().token.name.clone()),
                Action::ServeAndRenew(grant) => {
                    let served = self.entry.as_ref().unwrap().token.name.clone();
                    // The background renewal lands before the next step.
                    let _ = self.renew(grant, now);
                    Ok(served)
                }
                Action::Renew(grant) => self.renew(grant, now),
                Action::Wait => panic!("nothing else is in flight in a timeline"),
                Action::FailWithLast => Err(self.last_error.clone().unwrap()),
                Action::LoginRequired => Err("login_required".into()),
            }
        }
    }

    #[test]
    fn the_state_machine_follows_every_timeline() {
        for (name, t) in timelines() {
            let mut r = Runner {
                confidential: t["client"] == "confidential",
                entry: None,
                renewals: Renewals::default(),
                last_error: None,
                answers: Vec::new(),
                requests: Vec::new(),
            };
            for (i, step) in t["steps"].as_array().unwrap().iter().enumerate() {
                let now = at(step) + Duration::from_secs(1);
                r.answers = answers(step);
                r.requests.clear();
                let result = match step["call"].as_str().unwrap() {
                    "token" => r.token(now),
                    "login" => {
                        let entry = r.entry_for(&step["token"], now, None);
                        let name = entry.token.name.clone();
                        r.entry = Some(entry);
                        r.renewals.began(Session::User);
                        Ok(name)
                    }
                    "rejected" => {
                        if let Some(e) = &r.entry {
                            if e.token.name == step["token"].as_str().unwrap() {
                                r.entry = Some(e.expired());
                            }
                        }
                        r.token(now)
                    }
                    "refresh" => {
                        r.entry = r.entry.as_ref().map(Entry::expired);
                        r.token(now)
                    }
                    "clear" => {
                        r.entry = None;
                        Err(String::new())
                    }
                    other => panic!("{name}: unknown call {other}"),
                };
                let (requests, result_expected) = expected(step);
                let what = format!("{name} step {i} ({})", step["call"]);
                assert_eq!(r.requests, requests, "{what}: requests");
                assert!(r.answers.is_empty(), "{what}: answers left unused");
                match (&result, &result_expected) {
                    (Ok(token), Value::String(want)) => assert_eq!(token, want, "{what}"),
                    (Err(code), Value::Object(o)) => {
                        assert_eq!(code, o["error"].as_str().unwrap(), "{what}")
                    }
                    (Err(_), Value::Null) => {}
                    _ => panic!("{what}: got {result:?}, expected {result_expected}"),
                }
            }
        }
    }
}

/// The native `TokenSource`, through a `Client` with a scripted transport.
#[cfg(feature = "blocking")]
mod native {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;
    use tokenward::{
        Client, ClientConfig, HttpRequest, HttpResponse, ManualClock, Provider, Secret,
    };

    /// The scripted token endpoint: answers in order, and what each request asked for.
    #[derive(Default)]
    struct Script {
        answers: Mutex<Vec<Value>>,
        requests: Mutex<Vec<String>>,
    }

    impl Script {
        fn answer(&self, req: &HttpRequest) -> tokenward::Result<HttpResponse> {
            let form: BTreeMap<String, String> =
                form_urlencoded::parse(req.body().unwrap().expose().as_bytes())
                    .into_owned()
                    .collect();
            let sent = match form["grant_type"].as_str() {
                "refresh_token" => format!("refresh_token {}", form["refresh_token"]),
                g => g.to_string(),
            };
            self.requests.lock().unwrap().push(sent);
            let mut answers = self.answers.lock().unwrap();
            assert!(
                !answers.is_empty(),
                "a request the timeline did not expect: {form:?}"
            );
            let a = answers.remove(0);
            let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
            if let Some(s) = a["retry_after"].as_u64() {
                headers.push(("retry-after".to_string(), s.to_string()));
            }
            let (status, body) = match a.get("token") {
                Some(token) => {
                    let mut body = serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": a["expires_in"]});
                    if let Some(rt) = a.get("refresh_token") {
                        body["refresh_token"] = rt.clone();
                        body["refresh_expires_in"] = a["refresh_expires_in"].clone();
                    }
                    (200, body.to_string())
                }
                None => {
                    let body = match a.get("error") {
                        Some(e) => serde_json::json!({"error": e}).to_string(),
                        None => "unavailable".to_string(),
                    };
                    (a["status"].as_u64().unwrap() as u16, body)
                }
            };
            Ok(HttpResponse {
                status,
                headers,
                body: body.into_bytes().into(),
            })
        }
    }

    fn login_token(c: &Client, script: &Script, answer: &Value) -> tokenward::Token {
        // A login's token: the same answer, as the code exchange would have parsed it.
        script.answers.lock().unwrap().push(answer.clone());
        let t = c.refresh_token_grant(&Secret::new("login")).unwrap();
        script.requests.lock().unwrap().clear();
        t
    }

    #[test]
    fn the_token_source_follows_every_timeline() {
        for (name, t) in timelines() {
            let script = Arc::new(Script::default());
            let clock = Arc::new(ManualClock::new(1_700_000_000));
            let mut config = ClientConfig::new("timeline");
            if t["client"] == "confidential" {
                config = config.secret("timeline-secret");
            }
            let s = script.clone();
            let c = Client::builder(
                Provider::from_token_url("http://127.0.0.1:9/token").unwrap(),
                config,
            )
            .transport(Arc::new(move |req: &HttpRequest| s.answer(req)))
            .clock(clock.clone())
            .build()
            .unwrap();
            let origin = Duration::from_secs(1);
            let mut now = origin;
            for (i, step) in t["steps"].as_array().unwrap().iter().enumerate() {
                let target = at(step) + origin;
                clock.advance(target - now);
                now = target;
                let what = format!("{name} step {i} ({})", step["call"]);
                let (requests, result_expected) = expected(step);
                let result = match step["call"].as_str().unwrap() {
                    "login" => Ok(c
                        .token_source()
                        .set(login_token(&c, &script, &step["token"]))),
                    other => {
                        *script.answers.lock().unwrap() = answers(step);
                        script.requests.lock().unwrap().clear();
                        match other {
                            "token" => c.token(),
                            "rejected" => c
                                .token_source()
                                .renew_after_rejected_access_token(step["token"].as_str().unwrap()),
                            "refresh" => c.refresh(),
                            "clear" => {
                                c.token_source().clear();
                                Err(tokenward::Error::Config("cleared".into()))
                            }
                            other => panic!("{what}: unknown call {other}"),
                        }
                    }
                };
                // A background renewal lands before the next step.
                let deadline = Instant::now() + Duration::from_secs(5);
                while script.requests.lock().unwrap().len() < requests.len()
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
                std::thread::sleep(Duration::from_millis(20));
                assert_eq!(
                    *script.requests.lock().unwrap(),
                    requests,
                    "{what}: requests"
                );
                assert!(
                    script.answers.lock().unwrap().is_empty(),
                    "{what}: answers left unused"
                );
                match (&result, &result_expected) {
                    (Ok(token), Value::String(want)) => {
                        assert_eq!(token.access_token().expose(), want, "{what}")
                    }
                    (Err(e), Value::Object(o)) => {
                        assert_eq!(
                            e.code().as_str(),
                            o["error"].as_str().unwrap(),
                            "{what}: {e}"
                        )
                    }
                    (Err(_), Value::Null) => {}
                    _ => panic!("{what}: got {result:?}, expected {result_expected}"),
                }
            }
        }
    }
}
