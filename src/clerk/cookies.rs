//! The cookies Clerk keeps on our origin: reading them as Clerk's SDK reads them (suffixed or
//! plain names), and expiring them on sign-out.
//!
//! clerk-js writes every cookie twice, as `__session` and as `__session_<suffix>` (the suffix
//! comes from the publishable key), so that two Clerk apps on one domain do not read each
//! other's. Which pair to believe follows the SDK's `usesSuffixedCookies` rules exactly: they
//! also cover browsers that still hold cookies of an older clerk-js, which writes only the
//! plain names.

use crate::clerk::keys::{InstanceType, PublishableKey};
use crate::clerk::session::UnverifiedClaims;
use axum::http::{header, HeaderMap};
use std::borrow::Cow;

/// The request's cookies (the first value of each name wins), borrowed from its headers: this
/// runs on every request of the session routes, and most of them read two or three names.
pub struct Cookies<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Cookies<'a> {
    pub fn parse(headers: &'a HeaderMap) -> Cookies<'a> {
        let pairs = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(split_pairs)
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                Some((name.trim(), value.trim().trim_matches('"')))
            })
            .collect();
        Cookies(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }

    /// The value of `{name}_{suffix}`, without writing that name out.
    pub fn get_suffixed(&self, name: &str, suffix: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(key, _)| {
                key.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('_'))
                    == Some(suffix)
            })
            .map(|(_, value)| *value)
    }
}

/// A `cookie` header's `name=value` pairs. Split with `memchr`: the header carries the session
/// token (a kilobyte or more), and `str::split` walks it a character at a time.
fn split_pairs(header: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b';', header.as_bytes()).chain(std::iter::once(header.len()));
    // Splitting at an ASCII byte keeps every piece valid UTF-8.
    ends.scan(0, move |start, end| {
        let pair = &header[*start..end];
        *start = end + 1;
        Some(pair)
    })
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
    /// `claims_of` reads a session token's claims without checking them
    /// ([`unverified_payload`], or what the verifier remembers of the token).
    pub fn read<'a>(
        cookies: &Cookies<'a>,
        key: &PublishableKey,
        issuers: &[String],
        now: i64,
        claims_of: &mut dyn FnMut(&'a str) -> Option<UnverifiedClaims>,
    ) -> ClerkCookies {
        let suffix = key.cookie_suffix();
        let suffixed = uses_suffixed_cookies(cookies, key, issuers, suffix, now, claims_of);
        let pick = |name: &str| {
            let value = if suffixed {
                cookies.get_suffixed(name, suffix)
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
fn uses_suffixed_cookies<'a>(
    cookies: &Cookies<'a>,
    key: &PublishableKey,
    issuers: &[String],
    suffix: &str,
    now: i64,
    claims_of: &mut dyn FnMut(&'a str) -> Option<UnverifiedClaims>,
) -> bool {
    let suffixed_uat = cookies
        .get_suffixed("__client_uat", suffix)
        .filter(|v| !v.is_empty());
    let plain_uat = cookies.get("__client_uat");
    let suffixed_session = cookies
        .get_suffixed("__session", suffix)
        .filter(|v| !v.is_empty());
    let plain_session = cookies.get("__session").filter(|v| !v.is_empty());
    let mut claims = |token: Option<&'a str>| token.and_then(&mut *claims_of);
    let plain_claims = claims(plain_session);
    if plain_session.is_some() {
        let issuer = plain_claims
            .as_ref()
            .and_then(UnverifiedClaims::issuer)
            .filter(|iss| !iss.is_empty());
        // A plain token without an issuer is malformed: reading it gives a clean signed-out.
        let Some(issuer) = issuer else {
            return false;
        };
        // A plain token of another instance on this domain: only the suffixed pair is ours.
        let issuer_host = without_scheme(issuer);
        let ours = issuer_host == key.frontend_api_host
            || issuers
                .iter()
                .any(|accepted| without_scheme(accepted) == issuer_host);
        if !ours {
            return true;
        }
    }
    if suffixed_uat.is_none() && suffixed_session.is_none() {
        return false;
    }
    let iat = |claims: &Option<UnverifiedClaims>| {
        claims
            .as_ref()
            .and_then(UnverifiedClaims::issued_at)
            .unwrap_or(0)
    };
    let suffixed_claims = claims(suffixed_session);
    // Both say signed in, and the plain one is newer.
    if suffixed_uat != Some("0")
        && plain_uat != Some("0")
        && iat(&plain_claims) > iat(&suffixed_claims)
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
            .and_then(UnverifiedClaims::expires_at)
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

/// A URL without its `http://` or `https://`, as Clerk's SDK compares issuers with hosts.
fn without_scheme(url: &str) -> Cow<'_, str> {
    let has_scheme = |s: &str| s.contains("http://") || s.contains("https://");
    // The usual case, one scheme in front, borrows; anything else is cut as the SDK cuts it.
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    if !has_scheme(rest) {
        rest.into()
    } else {
        url.replace("https://", "").replace("http://", "").into()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clerk::session::unverified_payload;
    use axum::http::HeaderValue;
    use base64::Engine;

    const HOST: &str = "clerk.example.com";

    fn key(instance_type: InstanceType) -> PublishableKey {
        PublishableKey::new("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", instance_type, HOST)
    }

    /// An unsigned JWT: only its claims matter for choosing cookies.
    fn token(claims: serde_json::Value) -> String {
        let encode = |value: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        format!(
            "{}.{}.sig",
            encode(&serde_json::json!({"alg": "RS256"})),
            encode(&claims)
        )
    }

    fn ours(iat: i64) -> String {
        token(serde_json::json!({"iss": format!("https://{HOST}"), "iat": iat, "exp": iat + 60}))
    }

    fn read(instance_type: InstanceType, pairs: &[(&str, String)], now: i64) -> ClerkCookies {
        let key = key(instance_type);
        let suffix = key.cookie_suffix();
        let cookie = pairs
            .iter()
            .map(|(name, value)| format!("{}={value}", name.replace("{s}", suffix)))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        ClerkCookies::read(
            &Cookies::parse(&headers),
            &key,
            &[],
            now,
            &mut unverified_payload,
        )
    }

    use InstanceType::{Development, Production};

    #[test]
    fn plain_cookies_alone_are_read() {
        let read = read(
            Production,
            &[("__session", ours(100)), ("__client_uat", "90".into())],
            100,
        );
        assert!(!read.suffixed);
        assert_eq!(read.session, Some(ours(100)));
        assert_eq!(read.client_uat, 90);
    }

    #[test]
    fn a_plain_token_of_another_instance_defers_to_the_suffixed_pair() {
        let other = token(serde_json::json!({"iss": "https://clerk.other.com", "iat": 100}));
        let read = read(
            Production,
            &[
                ("__session", other),
                ("__client_uat", "100".into()),
                ("__session_{s}", ours(50)),
                ("__client_uat_{s}", "50".into()),
            ],
            100,
        );
        assert!(read.suffixed);
        assert_eq!(read.session, Some(ours(50)));
        assert_eq!(read.client_uat, 50);
    }

    #[test]
    fn the_newer_of_two_signed_in_pairs_wins() {
        let both = |plain: i64, suffixed: i64| {
            read(
                Production,
                &[
                    ("__session", ours(plain)),
                    ("__client_uat", "1".into()),
                    ("__session_{s}", ours(suffixed)),
                    ("__client_uat_{s}", "1".into()),
                ],
                100,
            )
        };
        assert!(!both(200, 100).suffixed);
        assert!(both(100, 200).suffixed);
        assert!(both(100, 100).suffixed);
    }

    #[test]
    fn a_signed_out_suffixed_pair_yields_to_a_signed_in_plain_one() {
        let read = read(
            Production,
            &[
                ("__session", ours(100)),
                ("__client_uat", "100".into()),
                ("__client_uat_{s}", "0".into()),
            ],
            100,
        );
        assert!(!read.suffixed);
        assert_eq!(read.client_uat, 100);
    }

    #[test]
    fn development_trusts_the_plain_pair_over_an_expired_suffixed_session() {
        let pairs = [
            ("__client_uat", "0".to_owned()),
            ("__session_{s}", ours(100)),
            ("__client_uat_{s}", "100".into()),
        ];
        // Expired (exp = 160) at 200: development falls back to the plain, signed-out pair.
        assert!(!read(Development, &pairs, 200).suffixed);
        assert!(read(Development, &pairs, 150).suffixed);
        assert!(read(Production, &pairs, 200).suffixed);
    }

    #[test]
    fn a_suffixed_session_without_its_client_uat_is_not_trusted() {
        let read = read(
            Production,
            &[("__session_{s}", ours(100)), ("__client_uat", "0".into())],
            100,
        );
        assert!(!read.suffixed);
        assert_eq!(read.session, None);
    }

    #[test]
    fn a_plain_token_without_an_issuer_reads_plain_and_signs_out_cleanly() {
        let read = read(
            Production,
            &[
                ("__session", token(serde_json::json!({"sub": "x"}))),
                ("__session_{s}", ours(100)),
                ("__client_uat_{s}", "100".into()),
            ],
            100,
        );
        assert!(!read.suffixed);
        assert_eq!(read.client_uat, 0);
    }

    #[test]
    fn the_development_browser_is_read_from_the_chosen_pair() {
        let read = read(
            Development,
            &[
                ("__clerk_db_jwt", "plain".into()),
                ("__session_{s}", ours(100)),
                ("__client_uat_{s}", "100".into()),
                ("__clerk_db_jwt_{s}", "suffixed".into()),
            ],
            100,
        );
        assert!(read.suffixed);
        assert_eq!(read.dev_browser.as_deref(), Some("suffixed"));
    }

    #[test]
    fn issuers_compare_without_their_scheme() {
        assert_eq!(
            without_scheme("https://clerk.example.com"),
            "clerk.example.com"
        );
        assert_eq!(without_scheme("http://127.0.0.1:3000"), "127.0.0.1:3000");
        assert_eq!(without_scheme("clerk.example.com"), "clerk.example.com");
        assert_eq!(without_scheme("https://a/http://b"), "a/b");
    }

    #[test]
    fn a_suffixed_name_is_the_name_an_underscore_and_the_suffix() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__session=p; __session_x=s; __session_xy=t; __sessionx=u"),
        );
        let cookies = Cookies::parse(&headers);
        assert_eq!(cookies.get_suffixed("__session", "x"), Some("s"));
        assert_eq!(cookies.get_suffixed("__session", "xy"), Some("t"));
        assert_eq!(cookies.get_suffixed("__session", "z"), None);
        assert_eq!(cookies.get("__session"), Some("p"));
    }

    #[test]
    fn a_cookie_header_splits_at_every_semicolon() {
        let pairs: Vec<&str> = split_pairs("a=1; b=2;c=3;").collect();
        assert_eq!(pairs, ["a=1", " b=2", "c=3", ""]);
        assert_eq!(split_pairs("").collect::<Vec<_>>(), [""]);
        assert_eq!(split_pairs("é=ü;x").collect::<Vec<_>>(), ["é=ü", "x"]);
    }
}
