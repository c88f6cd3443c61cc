//! Clerk's handshake: the redirect through the Frontend API that refreshes a stale session
//! token, and the payload the browser comes back with, in either of its two formats: a signed
//! JWT (`__clerk_handshake`) or a nonce (`__clerk_handshake_nonce`) whose directives the
//! Backend API hands over once.
//!
//! The directives are `Set-Cookie` strings. They reach the browser only when they name one of
//! Clerk's own cookies and, if they carry a `Domain`, one the browser would accept for our host
//! anyway: a payload can refresh a session, never plant a cookie elsewhere.

use crate::clerk::api::{ClerkApi, API_VERSION};
use crate::clerk::request::Auth;
use crate::clerk::session::SessionVerifier;
use base64::Engine;

/// The query parameters (and cookies) a handshake adds to our URLs.
pub const HANDSHAKE_PARAMS: [&str; 4] = [
    "__clerk_handshake",
    "__clerk_handshake_nonce",
    "__clerk_help",
    "__clerk_db_jwt",
];

/// What the redirect to the Frontend API carries.
pub struct HandshakeRequest<'a> {
    pub frontend_api_url: &'a str,
    /// The full URL of the page to come back to.
    pub current_url: &'a url::Url,
    pub reason: &'a str,
    pub suffixed_cookies: bool,
    pub session_token: Option<&'a str>,
    /// The development browser (development instances only).
    pub dev_browser: Option<&'a str>,
}

/// Where to send a browser for a handshake (Clerk's `buildRedirectToHandshake`).
pub fn handshake_location(request: &HandshakeRequest<'_>) -> Result<url::Url, url::ParseError> {
    let mut back = request.current_url.clone();
    remove_params(&mut back, &["__clerk_db_jwt", "__dev_session"]);
    let mut location = url::Url::parse(&format!(
        "{}/v1/client/handshake",
        request.frontend_api_url.trim_end_matches('/')
    ))?;
    {
        let mut query = location.query_pairs_mut();
        query
            .append_pair("redirect_url", back.as_str())
            .append_pair("__clerk_api_version", API_VERSION)
            .append_pair(
                "suffixed_cookies",
                if request.suffixed_cookies {
                    "true"
                } else {
                    "false"
                },
            )
            .append_pair("__clerk_hs_reason", request.reason)
            .append_pair("format", "nonce");
        if let Some(token) = request.session_token {
            query.append_pair("__session", token);
        }
        if let Some(dev_browser) = request.dev_browser {
            query.append_pair("__clerk_db_jwt", dev_browser);
        }
    }
    Ok(location)
}

/// `url` without the named query parameters (the others keep their order).
pub fn remove_params(url: &mut url::Url, names: &[&str]) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !names.contains(&key.as_ref()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
}

/// How the handshake payload came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakePayload {
    Token(String),
    Nonce(String),
}

/// The verdict of a handshake payload: the auth state it gives, and the cookies to set.
pub struct Resolved {
    pub auth: Auth,
    pub set_cookies: Vec<String>,
}

/// Reads the payload's directives and verifies the session token among them. `host` is the
/// host of our request (directives for any other domain are dropped).
pub async fn resolve_handshake(
    verifier: &SessionVerifier,
    api: &ClerkApi,
    payload: &HandshakePayload,
    host: &str,
) -> Result<Resolved, String> {
    let directives = match payload {
        HandshakePayload::Token(token) => verify_handshake_token(verifier, token).await?,
        HandshakePayload::Nonce(nonce) => {
            if !is_token_shaped(nonce) {
                return Err("the handshake nonce is malformed".into());
            }
            api.handshake_payload(nonce)
                .await
                .map_err(|error| format!("fetching the handshake payload: {error}"))?
                .directives
        }
    };
    let set_cookies: Vec<String> = directives
        .into_iter()
        .filter(|directive| {
            let acceptable = is_acceptable_directive(directive, host);
            if !acceptable {
                tracing::warn!("a handshake directive for a foreign cookie or domain was dropped");
            }
            acceptable
        })
        .collect();
    let session = set_cookies
        .iter()
        .filter_map(|directive| {
            let (name, rest) = directive.split_once('=')?;
            let value = rest.split(';').next()?.trim();
            name.trim().starts_with("__session").then_some(value)
        })
        .next_back()
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let auth = match session {
        None => Auth::signed_out("session-token-missing"),
        Some(token) => match verifier.verify(&token).await {
            Ok(claims) => Auth::SignedIn { claims },
            Err(error) => return Err(format!("the handshake's session token: {error}")),
        },
    };
    Ok(Resolved { auth, set_cookies })
}

/// A handshake JWT: signed by the instance key; only alg, typ, category and the signature are
/// checked, as in Clerk's SDK.
async fn verify_handshake_token(
    verifier: &SessionVerifier,
    token: &str,
) -> Result<Vec<String>, String> {
    let header_json = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .ok_or("the handshake token is not a JWT")?;
    if header_json.get("alg").and_then(|v| v.as_str()) != Some("RS256") {
        return Err("the handshake token is not RS256".into());
    }
    if header_json
        .get("typ")
        .and_then(|v| v.as_str())
        .is_some_and(|typ| typ != "JWT")
    {
        return Err("the handshake token is not a JWT".into());
    }
    let kid = header_json.get("kid").and_then(|v| v.as_str());
    let key = verifier
        .keys()
        .key(kid)
        .await
        .map_err(|error| error.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let payload = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|error| format!("the handshake token does not verify: {error}"))?
        .claims;
    Ok(payload
        .get("handshake")
        .and_then(|v| v.as_array())
        .ok_or("the handshake token has no directives")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// Clerk's cookie names that a handshake may set.
const CLERK_COOKIE_PREFIXES: [&str; 4] = ["__session", "__client_uat", "__clerk_", "__refresh"];

/// A directive is passed on when it names one of Clerk's cookies, holds nothing that could
/// split a header, and has no `Domain` or one that covers `host`.
pub fn is_acceptable_directive(directive: &str, host: &str) -> bool {
    if directive.len() > 8192
        || directive
            .bytes()
            .any(|byte| byte.is_ascii_control() && byte != b'\t')
    {
        return false;
    }
    let mut attributes = directive.split(';');
    let Some((name, _)) = attributes.next().and_then(|pair| pair.split_once('=')) else {
        return false;
    };
    let name = name.trim();
    if !CLERK_COOKIE_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
    {
        return false;
    }
    let host = host.to_ascii_lowercase();
    attributes.all(|attribute| {
        let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
        if !key.trim().eq_ignore_ascii_case("domain") {
            return true;
        }
        let domain = value.trim().trim_start_matches('.').to_ascii_lowercase();
        !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
    })
}

/// Clerk's tokens and nonces are base64url words joined by dots; anything else (spaces,
/// semicolons, quotes) is never sent on or stored.
pub fn is_token_shaped(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 4096
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_for_our_host_and_its_parents_pass() {
        let host = "app.example.com";
        assert!(is_acceptable_directive("__session=abc; Path=/", host));
        assert!(is_acceptable_directive(
            "__client_uat_Xy12=1; Path=/; Domain=example.com",
            host
        ));
        assert!(is_acceptable_directive(
            "__clerk_db_jwt=a.b.c; Domain=.app.example.com",
            host
        ));
    }

    #[test]
    fn directives_for_other_domains_or_cookies_are_dropped() {
        let host = "app.example.com";
        assert!(!is_acceptable_directive(
            "__session=abc; Domain=evil.com",
            host
        ));
        assert!(!is_acceptable_directive(
            "__session=abc; Domain=ample.com",
            host
        ));
        assert!(!is_acceptable_directive("sessionid=abc; Path=/", host));
        assert!(!is_acceptable_directive("__session=abc\r\nX: y", host));
        assert!(!is_acceptable_directive("no-equals-sign", host));
    }

    #[test]
    fn only_token_shaped_values_are_used() {
        assert!(is_token_shaped("eyJh.eyJz.c2ln"));
        assert!(is_token_shaped("nonce_0123abc"));
        assert!(!is_token_shaped(""));
        assert!(!is_token_shaped("a;b"));
        assert!(!is_token_shaped("a b"));
        assert!(!is_token_shaped(&"a".repeat(5000)));
    }

    #[test]
    fn the_location_carries_what_clerk_expects() {
        let current =
            url::Url::parse("http://127.0.0.1:3000/profile?tab=1&__clerk_db_jwt=dvb").unwrap();
        let location = handshake_location(&HandshakeRequest {
            frontend_api_url: "https://clerk.example.com/",
            current_url: &current,
            reason: "dev-browser-sync",
            suffixed_cookies: true,
            session_token: None,
            dev_browser: Some("dvb"),
        })
        .unwrap();
        assert!(location
            .as_str()
            .starts_with("https://clerk.example.com/v1/client/handshake?"));
        let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(
            get("redirect_url"),
            Some("http://127.0.0.1:3000/profile?tab=1")
        );
        assert_eq!(get("format"), Some("nonce"));
        assert_eq!(get("suffixed_cookies"), Some("true"));
        assert_eq!(get("__clerk_db_jwt"), Some("dvb"));
        assert_eq!(get("__clerk_hs_reason"), Some("dev-browser-sync"));
        assert_eq!(get("__session"), None);
    }
}
