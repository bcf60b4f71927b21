//! URL templates such as `https://keycloak.{account}.{environment}.example/realms/{tenant}`:
//! the input is `template \0 key \0 value [\0 key \0 value ...]`. A filled URL has no
//! placeholders left, and no value that went in can change the URL's structure.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward::provider::fill_template;
use tokenward::Provider;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let template = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let values: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c[0], *c.get(1).unwrap_or(&"")))
        .collect();
    if let Ok(url) = fill_template(template, &values) {
        assert!(!url.contains(['{', '}']), "placeholders left in {url}");
        for (i, (k, v)) in values.iter().enumerate() {
            // The first value given for a placeholder is the one used.
            let used = template.contains(&format!("{{{k}}}"))
                && !values[..i].iter().any(|(k2, _)| k2 == k);
            if used {
                assert!(
                    !v.is_empty()
                        && !v
                            .chars()
                            .any(|c| "/?#@:%{}".contains(c) || c.is_whitespace()),
                    "value {v:?} for {k:?} spliced into {url}"
                );
            }
        }
    }
    let _ = Provider::from_template(template, &values);
});
