//! The cookies Clerk keeps on our origin: reading them as Clerk's SDK reads them (suffixed or
//! plain names), and expiring them on sign-out.
//!
//! clerk-js writes every cookie twice, as `__session` and as `__session_<suffix>` (the suffix
//! comes from the publishable key), so that two Clerk apps on one domain do not read each
//! other's. Which pair to believe follows the SDK's `usesSuffixedCookies` rules exactly: they
//! also cover browsers that still hold cookies of an older clerk-js, which writes only the
//! plain names.

use crate::clerk::keys::{InstanceType, PublishableKey};
use crate::clerk::session::unverified_payload;
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

/// The Clerk cookies of one request, from the pair (suffixed or plain) Clerk's SDK would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkCookies {
    pub session: Option<String>,
    /// Unix seconds of the browser's last sign-in change; 0 when signed out or unknown.
    pub client_uat: i64,
    /// The development browser's token (development instances only).
    pub dev_browser: Option<String>,
    /// Whether the suffixed pair was chosen (the handshake tells the Frontend API).
    pub suffixed: bool,
}

impl ClerkCookies {
    /// `issuers` are the instance's accepted token issuers besides its Frontend API host (the
    /// local provider issues tokens as its proxy URL).
    pub fn read(
        cookies: &Cookies,
        key: &PublishableKey,
        issuers: &[String],
        now: i64,
    ) -> ClerkCookies {
        let suffix = key.cookie_suffix();
        let suffixed = uses_suffixed_cookies(cookies, key, issuers, &suffix, now);
        let pick = |name: &str| {
            let value = if suffixed {
                cookies.get(&format!("{name}_{suffix}"))
            } else {
                cookies.get(name)
            };
            value.filter(|value| !value.is_empty()).map(str::to_owned)
        };
        ClerkCookies {
            session: pick("__session"),
            client_uat: pick("__client_uat")
                .and_then(|value| value.parse().ok())
                .unwrap_or(0),
            dev_browser: pick("__clerk_db_jwt"),
            suffixed,
        }
    }
}

/// Clerk's `usesSuffixedCookies`, rule by rule.
fn uses_suffixed_cookies(
    cookies: &Cookies,
    key: &PublishableKey,
    issuers: &[String],
    suffix: &str,
    now: i64,
) -> bool {
    let suffixed_uat = cookies
        .get(&format!("__client_uat_{suffix}"))
        .filter(|v| !v.is_empty());
    let plain_uat = cookies.get("__client_uat");
    let suffixed_session = cookies
        .get(&format!("__session_{suffix}"))
        .filter(|v| !v.is_empty());
    let plain_session = cookies.get("__session").filter(|v| !v.is_empty());
    let claims = |token: Option<&str>| token.and_then(unverified_payload);
    let plain_claims = claims(plain_session);
    if plain_session.is_some() {
        let issuer = plain_claims
            .as_ref()
            .and_then(|claims| claims.get("iss"))
            .and_then(|iss| iss.as_str())
            .filter(|iss| !iss.is_empty());
        // A plain token without an issuer is malformed: reading it gives a clean signed-out.
        let Some(issuer) = issuer else {
            return false;
        };
        // A plain token of another instance on this domain: only the suffixed pair is ours.
        let without_scheme = |url: &str| url.replace("https://", "").replace("http://", "");
        let issuer_host = without_scheme(issuer);
        let ours = issuer_host == key.frontend_api_host
            || issuers.iter().any(|accepted| without_scheme(accepted) == issuer_host);
        if !ours {
            return true;
        }
    }
    if suffixed_uat.is_none() && suffixed_session.is_none() {
        return false;
    }
    let iat = |claims: &Option<serde_json::Value>| {
        claims
            .as_ref()
            .and_then(|c| c.get("iat"))
            .and_then(|iat| iat.as_i64())
            .unwrap_or(0)
    };
    let suffixed_claims = claims(suffixed_session);
    // Both say signed in, and the plain one is newer.
    if suffixed_uat != Some("0") && plain_uat != Some("0") && iat(&plain_claims) > iat(&suffixed_claims)
    {
        return false;
    }
    // The plain pair is written by old and new clerk-js alike, so it is the newer word.
    if suffixed_uat == Some("0") && plain_uat != Some("0") {
        return false;
    }
    if key.instance_type != InstanceType::Production {
        let suffixed_expired = suffixed_claims
            .as_ref()
            .and_then(|c| c.get("exp"))
            .and_then(|exp| exp.as_i64())
            .is_some_and(|exp| exp <= now);
        if suffixed_uat != Some("0") && plain_uat == Some("0") && suffixed_expired {
            return false;
        }
    }
    // A suffixed session without its `__client_uat` twin: the instance does not write suffixed
    // cookies (yet), so the plain pair is the live one.
    if suffixed_uat.is_none() && suffixed_session.is_some() {
        return false;
    }
    true
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
