//! Clerk's keys: what the publishable key says, and a wrapper that keeps secrets out of logs.

use base64::Engine;

/// A secret (secret key, webhook signing secret). Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceType {
    /// `pk_test_`: a development instance.
    Development,
    /// `pk_live_`: a production instance.
    Production,
}

/// What a publishable key encodes: the instance type and the Frontend API host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishableKey {
    pub key: String,
    pub instance_type: InstanceType,
    pub frontend_api_host: String,
    /// Read on every request that carries cookies, so it is worked out once.
    cookie_suffix: String,
}

impl PublishableKey {
    pub fn new(key: &str, instance_type: InstanceType, frontend_api_host: &str) -> PublishableKey {
        PublishableKey {
            key: key.to_owned(),
            instance_type,
            frontend_api_host: frontend_api_host.to_owned(),
            cookie_suffix: cookie_suffix(key),
        }
    }

    /// Parses `pk_(test|live)_` + base64(`host$`), padded or not. Valid only when the decoded
    /// value ends in a single `$` and the host contains a `.` (Clerk's own rule).
    pub fn parse(key: &str) -> Option<PublishableKey> {
        let key = key.trim();
        let (instance_type, encoded) = if let Some(rest) = key.strip_prefix("pk_live_") {
            (InstanceType::Production, rest)
        } else if let Some(rest) = key.strip_prefix("pk_test_") {
            (InstanceType::Development, rest)
        } else {
            return None;
        };
        let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let host = decoded.strip_suffix('$')?;
        if host.is_empty() || host.contains('$') || !host.contains('.') {
            return None;
        }
        Some(PublishableKey::new(key, instance_type, host))
    }

    /// `pk_live_` + base64(`host$`) without padding, as Clerk's SDK builds it.
    pub fn for_production_host(host: &str) -> String {
        let encoded =
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{host}$").as_bytes());
        format!("pk_live_{encoded}")
    }

    /// `https://` + the host, unless the host already names a scheme.
    pub fn frontend_api_url(&self) -> String {
        if self.frontend_api_host.starts_with("http") {
            self.frontend_api_host.clone()
        } else {
            format!("https://{}", self.frontend_api_host)
        }
    }

    /// The suffix clerk-js appends to its cookie names for this instance.
    pub fn cookie_suffix(&self) -> &str {
        &self.cookie_suffix
    }
}

/// The first 8 characters of base64url(SHA-1(key)), as clerk-js derives its cookie suffix.
fn cookie_suffix(key: &str) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(key.as_bytes());
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    encoded.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/clerk/test-vectors/publishable-keys.json"
        );
        let text = std::fs::read_to_string(path).expect("the Clerk fixtures of tests/fixtures");
        serde_json::from_str(&text).expect("valid JSON")
    }

    #[test]
    fn publishable_keys_parse_as_clerk_parses_them() {
        let vectors = vectors();
        let cases = vectors["parse"].as_array().expect("parse cases");
        assert!(!cases.is_empty());
        for case in cases {
            let key = case["publishable_key"].as_str().unwrap();
            let parsed = PublishableKey::parse(key);
            match case["expected"].as_object() {
                None => assert_eq!(parsed, None, "{key} must be rejected"),
                Some(expected) => {
                    let parsed = parsed.unwrap_or_else(|| panic!("{key} must parse"));
                    assert_eq!(
                        parsed.frontend_api_host,
                        expected["frontendApi"].as_str().unwrap()
                    );
                    let instance = match parsed.instance_type {
                        InstanceType::Production => "production",
                        InstanceType::Development => "development",
                    };
                    assert_eq!(
                        instance,
                        expected["instanceType"].as_str().unwrap(),
                        "{key}"
                    );
                }
            }
        }
    }

    #[test]
    fn cookie_suffixes_match_clerk_js() {
        let vectors = vectors();
        let mut checked = 0;
        for case in vectors["cookie_suffix"]
            .as_array()
            .expect("cookie_suffix cases")
        {
            let key = case["publishable_key"].as_str().unwrap();
            let suffix = case["suffix"].as_str().unwrap();
            let parsed = PublishableKey::new(key, InstanceType::Production, "");
            assert_eq!(parsed.cookie_suffix(), suffix, "{key}");
            checked += 1;
        }
        assert!(checked > 0, "the vectors have cookie-suffix cases");
    }

    #[test]
    fn built_keys_match_clerk_js() {
        let vectors = vectors();
        for case in vectors["build"].as_array().expect("build cases") {
            let key = case["publishable_key"].as_str().unwrap();
            if key.starts_with("pk_live_") {
                assert_eq!(
                    PublishableKey::for_production_host(case["frontend_api"].as_str().unwrap()),
                    key
                );
            }
        }
    }

    #[test]
    fn a_built_key_parses_back() {
        let key = PublishableKey::for_production_host("clerk.warden.localhost");
        let parsed = PublishableKey::parse(&key).unwrap();
        assert_eq!(parsed.frontend_api_host, "clerk.warden.localhost");
        assert_eq!(parsed.instance_type, InstanceType::Production);
        assert_eq!(parsed.frontend_api_url(), "https://clerk.warden.localhost");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        assert_eq!(format!("{:?}", Secret::new("sk_live_abc")), "Secret(***)");
    }
}
