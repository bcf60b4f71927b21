//! JSON objects as the protocol code reads them, whoever parsed them.
//!
//! Natively `serde_json` parses responses. In the browser `JSON.parse` already does that job,
//! and shipping a second JSON parser in the WASM package would cost a third of its size budget;
//! the package hands the values of the parsed object over through [`Fields`] instead. Either way
//! the same core code checks them: one set of rules, one set of messages.

use crate::prelude::*;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::text::text;

/// One value of a JSON object, reduced to what the checks distinguish.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Absent, or `null`.
    Missing,
    Str(String),
    Num(f64),
    Bool(bool),
    /// An array or object where a scalar belongs.
    Other,
}

/// A parsed JSON object whose fields are taken out by name, each at most once.
pub trait Fields {
    fn take(&mut self, name: &str) -> Field;

    /// Whether the array `name` holds the string `item`; `None` when `name` is not an array
    /// (a JWK's `key_ops`).
    fn holds(&mut self, name: &str, item: &str) -> Option<bool>;
}

impl Fields for Map<String, Value> {
    fn take(&mut self, name: &str) -> Field {
        match self.remove(name) {
            None | Some(Value::Null) => Field::Missing,
            Some(Value::String(s)) => Field::Str(s),
            // `as_f64` is exact up to 2^53 s, far beyond any lifetime (capped at ten years).
            Some(Value::Number(n)) => n.as_f64().map_or(Field::Other, Field::Num),
            Some(Value::Bool(b)) => Field::Bool(b),
            Some(_) => Field::Other,
        }
    }

    fn holds(&mut self, name: &str, item: &str) -> Option<bool> {
        let list = self.get(name)?.as_array()?;
        Some(list.iter().any(|v| v.as_str() == Some(item)))
    }
}

impl Field {
    /// The string, if this is one.
    pub fn into_str(self) -> Option<String> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A count of seconds: a non-negative number, or a numeric string (some servers quote it).
    /// `None` when absent; `InvalidResponse` naming the field when present but not such a number.
    pub fn seconds(self, name: &str) -> Result<Option<u64>> {
        let n = match self {
            Field::Missing => return Ok(None),
            Field::Num(n) if n >= 0.0 => Some(n as u64),
            Field::Str(s) => s.trim_ascii().parse().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| {
            Error::invalid(text!(
                "`",
                name,
                "` is not a non-negative number of seconds"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_json_objects_read_as_fields() {
        let Value::Object(mut m) = serde_json::json!({
            "s": "x", "n": 300, "f": 2.5, "b": true, "z": null, "a": [1], "q": " 60 "
        }) else {
            unreachable!()
        };
        assert_eq!(m.take("s"), Field::Str("x".into()));
        assert_eq!(m.take("s"), Field::Missing, "taken once");
        assert_eq!(m.take("n").seconds("n"), Ok(Some(300)));
        assert_eq!(m.take("f").seconds("f"), Ok(Some(2)));
        assert_eq!(m.take("b"), Field::Bool(true));
        assert_eq!(m.take("z"), Field::Missing);
        assert_eq!(m.take("a"), Field::Other);
        assert_eq!(m.take("q").seconds("q"), Ok(Some(60)));
        assert_eq!(m.take("gone").seconds("gone"), Ok(None));
        let e = Field::Num(-1.0).seconds("expires_in").unwrap_err();
        assert_eq!(e.to_string(), "the server's response is not usable: `expires_in` is not a non-negative number of seconds");
        assert!(Field::Str("soon".into()).seconds("x").is_err());
    }
}
