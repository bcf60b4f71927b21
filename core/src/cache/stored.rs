//! A cache entry as it is kept in a shared store (a file, Redis) so that other processes and
//! machines can use it: the record format, the key it is stored under, and the decisions a
//! reader makes about a record it found. Sans-IO: the runtime reads and writes bytes and hands
//! in its clocks; every decision is here, so every runtime shares it.
//!
//! - **Deadlines cross processes as wall-clock times.** A monotonic clock means nothing in
//!   another process, so a writer turns its entry's deadlines (already pulled in by its policy's
//!   margin and its clock's lag) into Unix milliseconds, and a reader maps them back onto its
//!   own monotonic clock with its own wall clock. Clocks of different machines are assumed to
//!   be NTP-synchronised; on top of that, a reader never keeps a token past the JWT's `exp`
//!   read on its own wall clock, nor past the lifetime the server stated from the writer's send.
//! - **The key is a hash** of the issuer, client id, scope set and audience (and the subject
//!   of an exchanged token): no secret and nothing readable in a file name or a Redis key.
//! - **A record that does not parse, has another format version or was written for another
//!   key is ignored** (the caller renews and overwrites it).

use crate::prelude::*;

use core::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::policy::RefreshPolicy;
use super::state::{Entry, Session, Timing};
use crate::token::{token_from_fields, SentAt, Token};

/// The record format this code writes and reads. A record of another version is ignored and
/// overwritten, never misread.
pub const FORMAT_VERSION: u32 = 1;

/// The store key of a cache key: `tw1-` and the SHA-256 (hex) of its parts, each
/// length-prefixed so no two different keys collide by concatenation. Scopes are a set: order
/// and duplicates do not matter. Nothing secret goes in, and nothing readable comes out.
pub fn store_key(
    issuer: &str,
    client_id: &str,
    scopes: &[String],
    audience: Option<&str>,
    subject: Option<&[u8]>,
) -> String {
    let mut scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let mut h = Sha256::new();
    let mut part = |tag: u8, bytes: &[u8]| {
        h.update([tag]);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part(b'i', issuer.trim_end_matches('/').as_bytes());
    part(b'c', client_id.as_bytes());
    for s in scopes {
        part(b's', s.as_bytes());
    }
    if let Some(a) = audience {
        part(b'a', a.as_bytes());
    }
    if let Some(s) = subject {
        part(b'u', s);
    }
    let digest = h.finalize();
    let mut key = String::with_capacity(4 + 64);
    key.push_str("tw1-");
    for b in digest.iter() {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 15)]));
    }
    key
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// How a stored session began ([`Session`], spelt for JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredSession {
    User,
    ClientCredentials,
}

impl From<Session> for StoredSession {
    fn from(s: Session) -> Self {
        match s {
            Session::User => StoredSession::User,
            Session::ClientCredentials => StoredSession::ClientCredentials,
        }
    }
}

impl From<StoredSession> for Session {
    fn from(s: StoredSession) -> Self {
        match s {
            StoredSession::User => Session::User,
            StoredSession::ClientCredentials => Session::ClientCredentials,
        }
    }
}

/// One stored cache entry. JSON; it holds the bearer token and the refresh token in clear
/// (the store's permissions are what protect them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// [`FORMAT_VERSION`].
    pub v: u32,
    /// The [`store_key`] it was written under: a record found under another key is foreign.
    pub key: String,
    pub session: StoredSession,
    /// Wall clock (Unix ms) when the token's request was sent.
    pub sent_unix_ms: u64,
    /// Wall clock (Unix ms) from when the token is due for renewal (the writer's policy margin).
    pub refresh_unix_ms: u64,
    /// Wall clock (Unix ms) from when the token must not be handed out.
    pub expires_unix_ms: u64,
    /// The refresh token's own deadline (Unix ms), when it has a refresh token with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_unix_ms: Option<u64>,
    /// The token answer: `access_token`, `refresh_token`, `expires_in`, ... as the server
    /// sent it (a refresh token kept from an earlier answer included).
    pub token: Map<String, Value>,
}

/// Why a stored record is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// It does not parse as a record (a torn or hand-edited file, another program's data).
    Corrupt,
    /// Another format version, or written under another key.
    Foreign,
}

/// A monotonic reading and a wall-clock reading (Unix ms) taken at the same moment: how a
/// runtime maps deadlines between its clock and the store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub monotonic: Duration,
    pub unix_ms: u64,
}

impl Now {
    /// A wall-clock time as a reading of this monotonic clock (saturating at zero: long ago).
    pub fn monotonic_of(&self, unix_ms: u64) -> Duration {
        if unix_ms >= self.unix_ms {
            self.monotonic
                .saturating_add(Duration::from_millis(unix_ms - self.unix_ms))
        } else {
            self.monotonic
                .saturating_sub(Duration::from_millis(self.unix_ms - unix_ms))
        }
    }

    /// A monotonic reading as a wall-clock time.
    pub fn unix_ms_of(&self, monotonic: Duration) -> u64 {
        if monotonic >= self.monotonic {
            let ahead = u64::try_from((monotonic - self.monotonic).as_millis()).unwrap_or(u64::MAX);
            self.unix_ms.saturating_add(ahead)
        } else {
            // Round a past deadline down (earlier): a reader never gains time from rounding.
            let behind = (self.monotonic - monotonic).as_nanos().div_ceil(1_000_000);
            self.unix_ms
                .saturating_sub(u64::try_from(behind).unwrap_or(u64::MAX))
        }
    }
}

/// Deadlines ahead of `now` round down to the millisecond, so the stored time is never later
/// than the writer's own.
fn floor_unix_ms(now: Now, monotonic: Duration) -> u64 {
    if monotonic >= now.monotonic {
        let ahead = u64::try_from((monotonic - now.monotonic).as_millis()).unwrap_or(u64::MAX);
        now.unix_ms.saturating_add(ahead)
    } else {
        now.unix_ms_of(monotonic)
    }
}

impl Record {
    /// The record of a cached entry (deadlines on the writer's monotonic clock) at `now`.
    pub fn new(key: &str, session: Session, entry: &Entry<impl AsRef<Token>>, now: Now) -> Record {
        let token = entry.token.as_ref();
        Record {
            v: FORMAT_VERSION,
            key: key.to_string(),
            session: session.into(),
            sent_unix_ms: now.unix_ms_of(token.sent_at().monotonic),
            refresh_unix_ms: floor_unix_ms(now, entry.refresh_at),
            expires_unix_ms: floor_unix_ms(now, entry.expires_at),
            refresh_token_expires_unix_ms: entry
                .refresh_token
                .flatten()
                .map(|at| floor_unix_ms(now, at)),
            token: token.response_json(),
        }
    }

    /// The record as stored (JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a stored record found under `key`.
    pub fn decode(bytes: &[u8], key: &str) -> core::result::Result<Record, Rejected> {
        let value: Value = serde_json::from_slice(bytes).map_err(|_| Rejected::Corrupt)?;
        if value.get("v").and_then(Value::as_u64) != Some(u64::from(FORMAT_VERSION)) {
            return Err(Rejected::Foreign);
        }
        let record: Record = serde_json::from_value(value).map_err(|_| Rejected::Corrupt)?;
        if record.key != key {
            return Err(Rejected::Foreign);
        }
        Ok(record)
    }

    /// The record as an entry on this process's monotonic clock at `now`, or `None` when it
    /// is of no use any more (the access token expired and no live refresh token) or its token
    /// does not parse. The deadlines are the writer's, mapped through the wall clock, and never
    /// later than what this process would compute itself from the token (its stated lifetime
    /// from the writer's send, the JWT's `exp` on this wall clock) with its own policy.
    pub fn entry(
        &self,
        now: Now,
        policy: &RefreshPolicy,
        clock_lag: Duration,
    ) -> Option<Entry<Token>> {
        let sent = SentAt {
            monotonic: now.monotonic_of(self.sent_unix_ms),
            unix: self.sent_unix_ms / 1000,
        };
        let token = token_from_fields(self.token.clone(), sent).ok()?;
        let timing = Timing {
            sent: sent.monotonic,
            lifetime: token.lifetime(),
            refresh_token: token.refresh_token().map(|_| {
                self.refresh_token_expires_unix_ms
                    .map(|at| now.monotonic_of(at))
            }),
        };
        let own = Entry::new((), timing, policy, clock_lag);
        let mut expires_at = own.expires_at.min(now.monotonic_of(self.expires_unix_ms));
        if let Some(exp) = token.claims().and_then(|c| c.times().exp) {
            // `exp` on this machine's wall clock, less the clock's own lag.
            let at = now
                .monotonic_of(exp.saturating_mul(1000))
                .saturating_sub(clock_lag);
            expires_at = expires_at.min(at);
        }
        let refresh_at = own
            .refresh_at
            .min(now.monotonic_of(self.refresh_unix_ms))
            .min(expires_at);
        let entry = Entry {
            token,
            refresh_at,
            expires_at,
            refresh_token: timing.refresh_token,
        };
        let usable = now.monotonic < entry.expires_at || entry.refresh_token_alive(now.monotonic);
        usable.then_some(entry)
    }

    pub fn session(&self) -> Session {
        self.session.into()
    }
}

impl AsRef<Token> for Token {
    fn as_ref(&self) -> &Token {
        self
    }
}

/// Whether a stored entry (already mapped by [`Record::entry`]) should replace the local one:
/// there is none, or the stored one carries another access token that lasts longer (someone
/// renewed meanwhile: its refresh token is the live one, a rotated local one is spent).
pub fn is_newer<A: AsRef<Token>, B: AsRef<Token>>(
    stored: &Entry<A>,
    local: Option<&Entry<B>>,
) -> bool {
    match local {
        None => true,
        Some(local) => {
            stored.token.as_ref().access_token().expose()
                != local.token.as_ref().access_token().expose()
                && stored.expires_at > local.expires_at
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::token::parse_token_response;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn token(body: &str, sent: SentAt) -> Token {
        let resp = HttpResponse::new(200, vec![], body.as_bytes().to_vec());
        parse_token_response(&resp, sent).unwrap()
    }

    fn key() -> String {
        store_key(
            "https://kc/realms/r",
            "app",
            &["b".into(), "a".into()],
            None,
            None,
        )
    }

    #[test]
    fn the_key_is_a_hash_of_the_cache_key_and_scopes_are_a_set() {
        let k = key();
        assert!(k.starts_with("tw1-") && k.len() == 68, "{k}");
        assert_eq!(
            k,
            store_key(
                "https://kc/realms/r/",
                "app",
                &["a".into(), "b".into(), "a".into()],
                None,
                None
            )
        );
        assert_ne!(
            k,
            store_key("https://kc/realms/r", "app", &["ab".into()], None, None)
        );
        assert_ne!(
            k,
            store_key(
                "https://kc/realms/r",
                "app",
                &["a".into(), "b".into()],
                Some("x"),
                None
            )
        );
        assert!(!k.contains("app"));
    }

    #[test]
    fn a_record_crosses_processes_with_its_deadlines_on_the_readers_clock() {
        // Writer: monotonic 1000 s, wall 1_700_000_000_000 ms; a 300 s token sent then.
        let w = Now {
            monotonic: Duration::from_secs(1000),
            unix_ms: 1_700_000_000_000,
        };
        let t = token(
            r#"{"access_token":"A","expires_in":300,"refresh_token":"R","refresh_expires_in":1800}"#,
            SentAt {
                monotonic: w.monotonic,
                unix: 1_700_000_000,
            },
        );
        let policy = RefreshPolicy::default();
        let timing = Timing {
            sent: w.monotonic,
            lifetime: t.lifetime(),
            refresh_token: Some(t.refresh_expires_at()),
        };
        let e = Entry::new(t, timing, &policy, MS(4));
        let rec = Record::new(&key(), Session::User, &e, w);
        assert_eq!(rec.expires_unix_ms, 1_700_000_000_000 + 300_000 - 4);
        assert_eq!(rec.refresh_unix_ms, 1_700_000_000_000 + 270_000 - 4);
        let bytes = rec.encode();
        let rec = Record::decode(&bytes, &key()).unwrap();
        assert_eq!(rec.session(), Session::User);

        // Reader, 10 s later on the wall, with another monotonic origin.
        let r = Now {
            monotonic: Duration::from_secs(50),
            unix_ms: 1_700_000_010_000,
        };
        let got = rec.entry(r, &policy, MS(4)).unwrap();
        assert_eq!(got.expires_at, Duration::from_secs(50 + 290) - MS(4));
        assert_eq!(got.refresh_at, Duration::from_secs(50 + 260) - MS(4));
        assert_eq!(
            got.refresh_token,
            Some(Some(Duration::from_secs(50 + 1789)))
        );
        assert_eq!(got.token.access_token().expose(), "A");
        assert_eq!(got.token.refresh_token().unwrap().expose(), "R");

        // 300 s later it is expired, but its refresh token still renews the session.
        let late = Now {
            monotonic: Duration::from_secs(350),
            unix_ms: 1_700_000_310_000,
        };
        let got = rec.entry(late, &policy, MS(4)).unwrap();
        assert!(got.expires_at <= late.monotonic);
        assert!(got.refresh_token_alive(late.monotonic));
        // Past the refresh token's deadline it is of no use.
        let dead = Now {
            monotonic: Duration::from_secs(2000),
            unix_ms: 1_700_002_000_000,
        };
        assert!(rec.entry(dead, &policy, MS(4)).is_none());
    }

    #[test]
    fn a_reader_never_goes_past_the_jwts_exp_on_its_own_wall_clock() {
        use crate::jwt::make_test_jwt;
        // The writer's wall clock was 60 s fast: it says the token lasts to 1_700_000_300 s,
        // the JWT says exp = 1_700_000_240.
        let jwt = make_test_jwt(r#"{"exp":1700000240}"#);
        let body = serde_json::json!({"access_token": jwt, "expires_in": 300}).to_string();
        let w = Now {
            monotonic: Duration::from_secs(1000),
            unix_ms: 1_700_000_000_000,
        };
        let t = token(
            &body,
            SentAt {
                monotonic: w.monotonic,
                unix: 1_700_000_000,
            },
        );
        let mut rec = Record::new(
            &key(),
            Session::ClientCredentials,
            &Entry {
                token: t,
                refresh_at: Duration::from_secs(1270),
                expires_at: Duration::from_secs(1300),
                refresh_token: None,
            },
            w,
        );
        rec.expires_unix_ms = 1_700_000_300_000;
        let r = Now {
            monotonic: Duration::from_secs(10),
            unix_ms: 1_700_000_000_000,
        };
        let got = rec
            .entry(r, &RefreshPolicy::default(), Duration::ZERO)
            .unwrap();
        assert!(
            got.expires_at <= Duration::from_secs(10 + 240),
            "{:?}",
            got.expires_at
        );
        assert!(got.refresh_at <= got.expires_at);
    }

    #[test]
    fn corrupt_and_foreign_records_are_rejected() {
        assert_eq!(
            Record::decode(b"{not json", &key()).unwrap_err(),
            Rejected::Corrupt
        );
        assert_eq!(Record::decode(b"", &key()).unwrap_err(), Rejected::Corrupt);
        assert_eq!(
            Record::decode(br#"{"v":99}"#, &key()).unwrap_err(),
            Rejected::Foreign
        );
        assert_eq!(
            Record::decode(br#"{"v":1,"key":3}"#, &key()).unwrap_err(),
            Rejected::Corrupt
        );
        let w = Now {
            monotonic: Duration::from_secs(1),
            unix_ms: 1_000,
        };
        let t = token(
            r#"{"access_token":"A","expires_in":60}"#,
            SentAt {
                monotonic: w.monotonic,
                unix: 1,
            },
        );
        let e = Entry {
            token: t,
            refresh_at: Duration::from_secs(55),
            expires_at: Duration::from_secs(61),
            refresh_token: None,
        };
        let bytes = Record::new("tw1-other", Session::ClientCredentials, &e, w).encode();
        assert_eq!(
            Record::decode(&bytes, &key()).unwrap_err(),
            Rejected::Foreign
        );
    }

    #[test]
    fn a_stored_entry_replaces_the_local_one_only_when_it_is_another_and_lasts_longer() {
        let sent = SentAt {
            monotonic: Duration::ZERO,
            unix: 0,
        };
        let e = |at: &str, exp: u64| Entry {
            token: token(&format!(r#"{{"access_token":"{at}"}}"#), sent),
            refresh_at: Duration::from_secs(exp - 1),
            expires_at: Duration::from_secs(exp),
            refresh_token: None,
        };
        assert!(is_newer::<Token, Token>(&e("A", 10), None));
        assert!(is_newer(&e("B", 20), Some(&e("A", 10))));
        assert!(!is_newer(&e("A", 20), Some(&e("A", 10))), "the same token");
        assert!(!is_newer(&e("B", 5), Some(&e("A", 10))), "an older one");
    }
}
