//! The profiles file: named settings in a small subset of TOML, parsed here without a crate.
//!
//! ```toml
//! # ~/.config/tokenward/config.toml (or $TOKENWARD_CONFIG)
//! [profile.vion-test]
//! keycloak = "https://auth.test.ecocoa.ch"
//! realm = "vion"
//! client_id = "my-service"
//! client_secret_env = "VION_CLIENT_SECRET"
//!
//! [profile.docbyte-acme]
//! template = "https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}"
//! set.account = "acme"
//! set.environment = "prod"
//! set.tenant = "acme"
//! scope = "openid"
//! require_claim = "tenant"
//! ```
//!
//! Supported: `[profile.NAME]` tables, `key = "string"` (basic strings with `\" \\ \n \t`
//! escapes), `key = 'literal'`, `key = 123`, and `#` comments. Anything else is an error that
//! names the line, so a typo never silently drops a setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One `key = value` line of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A parsed profiles file.
#[derive(Debug, Clone, Default)]
pub struct ProfileFile {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Vec<Entry>>,
    /// Only the owner can read it (mode 0600 or 0400): the one case an inline secret is honoured.
    pub private: bool,
}

/// Where the profiles file is: `$TOKENWARD_CONFIG`, else `$XDG_CONFIG_HOME/tokenward/config.toml`,
/// else `~/.config/tokenward/config.toml`.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("TOKENWARD_CONFIG") {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = env("XDG_CONFIG_HOME") {
        return Some(Path::new(&x).join("tokenward").join("config.toml"));
    }
    env("HOME").map(|h| {
        Path::new(&h)
            .join(".config")
            .join("tokenward")
            .join("config.toml")
    })
}

impl ProfileFile {
    /// Reads and parses the file.
    pub fn load(path: &Path) -> Result<ProfileFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the profiles file `{}`: {e}", path.display()))?;
        let mut file = parse(&text).map_err(|e| format!("{}:{e}", path.display()))?;
        file.path = path.to_path_buf();
        file.private = is_private(path);
        Ok(file)
    }
}

#[cfg(unix)]
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> bool {
    false
}

/// Parses the text of a profiles file. Errors start with the line number.
pub fn parse(text: &str) -> Result<ProfileFile, String> {
    let mut profiles: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let (header, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{n}: a `[` without its `]`"))?;
            let after = after.trim();
            if !after.is_empty() && !after.starts_with('#') {
                return Err(format!("{n}: unexpected text after the table header"));
            }
            let name = header
                .trim()
                .strip_prefix("profile.")
                .map(|s| unquote_name(s.trim()))
                .ok_or_else(|| {
                    format!(
                        "{n}: unknown table `[{header}]`; profiles are written `[profile.NAME]`"
                    )
                })?;
            if !is_name(&name) {
                return Err(format!(
                    "{n}: profile name `{name}` must use letters, digits, `_` or `-`"
                ));
            }
            if profiles.contains_key(&name) {
                return Err(format!("{n}: profile `{name}` is defined twice"));
            }
            profiles.insert(name.clone(), Vec::new());
            current = Some(name);
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{n}: expected `key = \"value\"` or `[profile.NAME]`"))?;
        let key = key.trim();
        if key.is_empty()
            || !key.split('.').all(is_name)
            || (key.contains('.') && !key.starts_with("set."))
            || key.matches('.').count() > 1
        {
            return Err(format!(
                "{n}: `{key}` is not a key (dotted keys only as `set.NAME`)"
            ));
        }
        let value = parse_value(value.trim()).map_err(|e| format!("{n}: {e}"))?;
        let Some(profile) = current.as_ref().and_then(|c| profiles.get_mut(c)) else {
            return Err(format!(
                "{n}: `{key}` is outside any profile; put it under a `[profile.NAME]` line"
            ));
        };
        if profile.iter().any(|e| e.key == key) {
            return Err(format!("{n}: `{key}` is set twice in this profile"));
        }
        profile.push(Entry {
            key: key.to_string(),
            value,
            line: n,
        });
    }
    Ok(ProfileFile {
        path: PathBuf::new(),
        profiles,
        private: false,
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `[profile."vion-test"]` is the same table as `[profile.vion-test]` in TOML.
fn unquote_name(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

/// A TOML value we support, followed by an optional comment.
fn parse_value(v: &str) -> Result<String, String> {
    let (value, rest) = if let Some(body) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => return Err(format!("unsupported escape `\\{o}` in a string")),
                    None => return Err("unterminated string".into()),
                },
                c => out.push(c),
            }
        }
        let end = end.ok_or("unterminated string (a `\"` is missing)")?;
        (out, &body[end..])
    } else if let Some(body) = v.strip_prefix('\'') {
        let end = body
            .find('\'')
            .ok_or("unterminated string (a `'` is missing)")?;
        (body[..end].to_string(), &body[end + 1..])
    } else {
        let end = v.find('#').unwrap_or(v.len());
        let word = v[..end].trim();
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "value `{word}` must be a quoted string (\"...\") or a whole number"
            ));
        }
        (word.to_string(), &v[end..])
    };
    let rest = rest.trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return Err(format!("unexpected `{rest}` after the value"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
# tokenward profiles
[profile.vion-test]
keycloak = "https://auth.test.ecocoa.ch"   # VION test
realm = 'vion'
client_id = "my-service"
client_secret_env = "VION_SECRET"
timeout = 10

[profile."docbyte-acme"]
template = "https://keycloak.{account}.{environment}.docbyte.cloud/realms/{tenant}"
set.account = "acme"
set.tenant = "a \"quoted\" # not a comment"
"#;

    #[test]
    fn profiles_and_values_are_read() {
        let f = parse(SAMPLE).unwrap();
        assert_eq!(
            f.profiles.keys().collect::<Vec<_>>(),
            ["docbyte-acme", "vion-test"]
        );
        let vion = &f.profiles["vion-test"];
        assert_eq!(vion[0].key, "keycloak");
        assert_eq!(vion[0].value, "https://auth.test.ecocoa.ch");
        assert_eq!(vion[0].line, 4);
        assert_eq!(vion[1].value, "vion");
        assert_eq!(vion[4].value, "10");
        let db = &f.profiles["docbyte-acme"];
        assert_eq!(db[1].key, "set.account");
        assert_eq!(db[2].value, "a \"quoted\" # not a comment");
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, needle) in [
            ("key = \"v\"", "1: `key` is outside any profile"),
            (
                "[profile.a]\nrealm = vion",
                "2: value `vion` must be a quoted string",
            ),
            ("[profile.a]\nrealm = \"vion", "2: unterminated string"),
            ("[profile.a]\nrealm = \"v\" x", "2: unexpected `x`"),
            (
                "[profile.a]\nrealm = \"v\"\nrealm = \"w\"",
                "3: `realm` is set twice",
            ),
            (
                "[profile.a]\n[profile.a]",
                "2: profile `a` is defined twice",
            ),
            ("[profiles.a]", "1: unknown table"),
            ("[profile.a b]", "1: profile name `a b`"),
            ("[profile.a]\nfoo.bar = \"x\"", "2: `foo.bar` is not a key"),
            ("[profile.a]\njust words", "2: expected `key = \"value\"`"),
            ("[profile.a", "1: a `[` without its `]`"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn default_path_prefers_tokenward_config() {
        let env = |k: &str| match k {
            "TOKENWARD_CONFIG" => Some("/etc/tw.toml".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(default_path(&env), Some(PathBuf::from("/etc/tw.toml")));
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        assert_eq!(
            default_path(&env),
            Some(PathBuf::from("/home/u/.config/tokenward/config.toml"))
        );
        let env = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            default_path(&env),
            Some(PathBuf::from("/x/tokenward/config.toml"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_owner_only_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tw-profile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("config.toml");
        std::fs::write(&p, "[profile.a]\nrealm = \"r\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!ProfileFile::load(&p).unwrap().private);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let f = ProfileFile::load(&p).unwrap();
        assert!(f.private);
        assert_eq!(f.path, p);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
