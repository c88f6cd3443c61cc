//! Clerk's handshake: the redirect through the Frontend API that refreshes a stale session
//! token, and the signed payload the browser comes back with.

use crate::clerk::api::API_VERSION;
use crate::clerk::request::Auth;
use crate::clerk::session::SessionVerifier;
use base64::Engine;

/// Where to send a browser for a handshake that returns it to `current_url`.
pub fn handshake_location(
    frontend_api_url: &str,
    current_url: &str,
    reason: &str,
) -> Result<url::Url, url::ParseError> {
    let mut location = url::Url::parse(&format!(
        "{}/v1/client/handshake",
        frontend_api_url.trim_end_matches('/')
    ))?;
    location
        .query_pairs_mut()
        .append_pair("redirect_url", current_url)
        .append_pair("__clerk_api_version", API_VERSION)
        .append_pair("suffixed_cookies", "false")
        .append_pair("__clerk_hs_reason", reason)
        .append_pair("format", "token");
    Ok(location)
}

/// Verifies the handshake JWT (signed by the instance key; only alg, signature and payload are
/// checked, as in Clerk's SDK) and applies its cookie directives.
pub async fn resolve_handshake(
    verifier: &SessionVerifier,
    token: &str,
) -> Result<(Auth, Vec<String>), String> {
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
    let directives: Vec<String> = payload
        .get("handshake")
        .and_then(|v| v.as_array())
        .ok_or("the handshake token has no directives")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let session = directives.iter().find_map(|directive| {
        let (name, rest) = directive.split_once('=')?;
        let value = rest.split(';').next()?.trim();
        (name.trim() == "__session" && !value.is_empty()).then(|| value.to_owned())
    });
    let auth = match session {
        None => Auth::signed_out("session-token-missing"),
        Some(token) => match verifier.verify(&token).await {
            Ok(claims) => Auth::SignedIn {
                claims: Box::new(claims),
            },
            Err(error) => Auth::signed_out(error.reason()),
        },
    };
    Ok((auth, directives))
}
