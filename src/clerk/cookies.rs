//! The cookies Clerk keeps on our origin: reading them, and expiring them on sign-out.

use crate::clerk::keys::PublishableKey;
use axum::http::{header, HeaderMap};

/// The request's cookies (the first value of each name wins).
pub struct Cookies(Vec<(String, String)>);

impl Cookies {
    pub fn parse(headers: &HeaderMap) -> Cookies {
        let pairs = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                Some((
                    name.trim().to_owned(),
                    value.trim().trim_matches('"').to_owned(),
                ))
            })
            .collect();
        Cookies(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Clerk's cookies on our origin (plain and suffixed names), expired.
pub fn clearing_cookies(publishable_key: &PublishableKey) -> Vec<String> {
    let suffix = publishable_key.cookie_suffix();
    ["__session", "__client_uat"]
        .iter()
        .flat_map(|name| [name.to_string(), format!("{name}_{suffix}")])
        .map(|name| {
            let value = if name.starts_with("__client_uat") {
                "0"
            } else {
                ""
            };
            format!("{name}={value}; Path=/; SameSite=Lax; Max-Age=0")
        })
        .collect()
}
