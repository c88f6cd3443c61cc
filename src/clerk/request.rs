//! A request's Clerk auth state, following Clerk's `authenticateRequest` decision table for
//! production and development instances (satellite domains are not supported; README says so).
//!
//! Deciding never rejects a request: the result is either an [`Auth`] for the request, or a
//! redirect the browser must follow first. A page navigation whose session token merely needs
//! refreshing goes through Clerk's handshake, so that the Frontend API can mint a fresh token
//! and send the browser straight back; on a development instance the browser is also
//! identified by its development-browser token, and comes back from a handshake through a
//! second redirect that takes the handshake out of the URL. API calls, form posts and server
//! functions never get a handshake: with a stale token they are signed out, and whatever they
//! asked for answers 401.

use crate::clerk::api::ClerkApi;
use crate::clerk::cookies::{ClerkCookies, Cookies};
use crate::clerk::handshake::{
    handshake_location, is_token_shaped, remove_params, resolve_handshake, HandshakePayload,
    HandshakeRequest, HANDSHAKE_PARAMS,
};
use crate::clerk::keys::{InstanceType, PublishableKey};
use crate::clerk::referrer::{is_cross_origin, is_known_clerk_referrer};
use crate::clerk::session::{now_seconds, Recalled, SessionClaims, SessionVerifier, TokenError};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use std::sync::Arc;

/// The auth state of one request.
#[derive(Debug, Clone)]
pub enum Auth {
    SignedIn { claims: Arc<SessionClaims> },
    SignedOut { reason: String },
}

impl Auth {
    pub fn signed_out(reason: impl Into<String>) -> Auth {
        Auth::SignedOut {
            reason: reason.into(),
        }
    }

    pub fn claims(&self) -> Option<&SessionClaims> {
        match self {
            Auth::SignedIn { claims } => Some(claims),
            Auth::SignedOut { .. } => None,
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            Auth::SignedIn { .. } => "signed-in",
            Auth::SignedOut { .. } => "signed-out",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Auth::SignedIn { .. } => "",
            Auth::SignedOut { reason } => reason,
        }
    }
}

/// Handshakes in a row before a browser is left signed out (a loop breaker).
const MAX_HANDSHAKE_REDIRECTS: u32 = 3;

/// The Clerk instance a request is authenticated against.
pub struct Instance<'a> {
    pub verifier: &'a SessionVerifier,
    pub api: &'a ClerkApi,
    pub publishable_key: &'a PublishableKey,
    pub frontend_api_url: &'a str,
    /// Our public origin: the handshake's way back, and the referrer check.
    pub app_origin: &'a str,
}

/// What the auth state of a request is, or where the browser must go first.
pub enum Outcome {
    Resolved {
        auth: Auth,
        /// Cookies the response must set (from a handshake payload).
        set_cookies: Vec<String>,
    },
    Redirect {
        /// `handshake`, or the auth state the redirect carries in its cookies.
        status: &'static str,
        reason: String,
        location: String,
        set_cookies: Vec<String>,
    },
}

impl Outcome {
    fn resolved(auth: Auth) -> Outcome {
        Outcome::Resolved {
            auth,
            set_cookies: Vec::new(),
        }
    }

    fn with_cookies(mut self, extra: Vec<String>) -> Outcome {
        match &mut self {
            Outcome::Resolved { set_cookies, .. } | Outcome::Redirect { set_cookies, .. } => {
                set_cookies.extend(extra)
            }
        }
        self
    }
}

pub async fn authenticate<'a>(instance: &Instance<'_>, request: &'a Parts) -> Outcome {
    // H1–H4: a bearer token wins over cookies, and is never rescued by a handshake.
    if let Some(token) = bearer_token(&request.headers) {
        return Outcome::resolved(match instance.verifier.verify(&token).await {
            Ok(claims) => Auth::SignedIn { claims },
            Err(error) => Auth::signed_out(error.reason()),
        });
    }
    let raw = Cookies::parse(&request.headers);
    let query = request.uri.query();
    let development = instance.publishable_key.instance_type == InstanceType::Development;
    // Only a redirect needs the URL as the browser sees it; most requests never do.
    let current_url = || {
        url::Url::parse(&format!(
            "{}{}",
            instance.app_origin.trim_end_matches('/'),
            request
                .uri
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/")
        ))
        .ok()
    };

    // C1: the browser is back from a handshake. The payload is single-use either way.
    let payload = query_param(query, "__clerk_handshake_nonce")
        .or_else(|| raw.get("__clerk_handshake_nonce").map(str::to_owned))
        .map(HandshakePayload::Nonce)
        .or_else(|| {
            query_param(query, "__clerk_handshake")
                .or_else(|| raw.get("__clerk_handshake").map(str::to_owned))
                .map(HandshakePayload::Token)
        });
    let mut spent = Vec::new();
    if let Some(payload) = payload {
        spent = spent_handshake_cookies(&raw);
        let host = request_host(instance.app_origin);
        let resolved = resolve_handshake(instance.verifier, instance.api, &payload, &host).await;
        let back = current_url().map(|mut url| {
            remove_params(&mut url, &HANDSHAKE_PARAMS);
            url.to_string()
        });
        match (resolved, back) {
            (Ok(resolved), Some(location)) if development => {
                return Outcome::Redirect {
                    status: resolved.auth.status(),
                    reason: resolved.auth.reason().to_owned(),
                    location,
                    set_cookies: resolved.set_cookies,
                }
                .with_cookies(spent);
            }
            (Ok(resolved), _) => {
                return Outcome::Resolved {
                    auth: resolved.auth,
                    set_cookies: resolved.set_cookies,
                }
                .with_cookies(spent);
            }
            (Err(error), back) => {
                tracing::warn!(%error, "a handshake payload was refused");
                let in_url = HANDSHAKE_PARAMS[..3]
                    .iter()
                    .any(|name| query_param(query, name).is_some());
                if let (true, true, Some(location)) = (development, in_url, back) {
                    // Take the refused payload out of the URL; the next request starts over.
                    return Outcome::Redirect {
                        status: "signed-out",
                        reason: "handshake-invalid".into(),
                        location,
                        set_cookies: spent,
                    };
                }
                // Otherwise, as Clerk's SDK does in production: fall through to the cookies.
            }
        }
    }

    // Choosing between cookies reads a few claims of each session token; the verifier's memory
    // of a token answers that without decoding it, and is kept for verifying the chosen one.
    let mut recalled = Vec::new();
    let cookies = ClerkCookies::read(
        &raw,
        instance.publishable_key,
        instance.verifier.issuers(),
        now_seconds(),
        &mut |token: &'a str| {
            let memory = instance.verifier.recall(token);
            let claims = memory.choice_claims(token);
            recalled.push((token, memory));
            claims
        },
    );
    let dev_browser_in_query = query_param(query, "__clerk_db_jwt");
    let dev_browser = dev_browser_in_query
        .clone()
        .or_else(|| cookies.dev_browser.clone())
        .filter(|token| is_token_shaped(token));
    let eligible = is_handshake_eligible(request) && redirect_count(&raw) < MAX_HANDSHAKE_REDIRECTS;
    let handshake = |reason: &str, moved: Vec<String>| match eligible.then(current_url).flatten() {
        Some(current_url) => {
            let location = handshake_location(&HandshakeRequest {
                frontend_api_url: instance.frontend_api_url,
                current_url: &current_url,
                reason,
                suffixed_cookies: cookies.suffixed,
                session_token: cookies.session.as_deref(),
                dev_browser: dev_browser.as_deref().filter(|_| development),
            });
            match location {
                Ok(location) => {
                    let count = redirect_count(&raw) + 1;
                    let mut set_cookies = moved;
                    set_cookies.push(format!(
                        "__clerk_redirect_count={count}; Path=/; SameSite=Lax; HttpOnly; Max-Age=2"
                    ));
                    Outcome::Redirect {
                        status: "handshake",
                        reason: reason.to_owned(),
                        location: location.to_string(),
                        set_cookies,
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "the Frontend API URL is not a URL");
                    Outcome::resolved(Auth::signed_out(reason))
                }
            }
        }
        None => Outcome::resolved(Auth::signed_out(reason)),
    };

    if development {
        // C3: back from the Account Portal with the development browser in the URL: it moves
        // into our cookies, and the handshake's way back leaves it out of the URL.
        if let Some(in_query) = dev_browser_in_query {
            let moved = if is_token_shaped(&in_query) {
                dev_browser_cookies(instance, &in_query)
            } else {
                Vec::new()
            };
            return handshake("dev-browser-sync", moved).with_cookies(spent);
        }
        // C4: a development instance knows browsers only by their development browser.
        if dev_browser.is_none() {
            return handshake("dev-browser-missing", Vec::new()).with_cookies(spent);
        }
    }

    let outcome = match (&cookies.session, cookies.client_uat) {
        (None, 0) => Outcome::resolved(Auth::signed_out("session-token-and-uat-missing")),
        (Some(_), 0) => handshake("session-token-but-no-client-uat", Vec::new()),
        (None, _) => handshake("client-uat-but-no-session-token", Vec::new()),
        (Some(token), client_uat) => {
            match verify_chosen(instance.verifier, token, recalled).await {
                Ok(claims) if claims.iat.is_some_and(|iat| iat < client_uat) => {
                    handshake("session-token-iat-before-client-uat", Vec::new())
                }
                Ok(_) if opened_from_another_site(instance, request, &raw) => {
                    handshake("primary-domain-cross-origin-sync", Vec::new())
                }
                Ok(claims) => Outcome::resolved(Auth::SignedIn { claims }),
                Err(error) if error.is_time_related() => {
                    let reason = match error {
                        TokenError::Expired => "session-token-expired".to_owned(),
                        other => other.reason(),
                    };
                    handshake(&reason, Vec::new())
                }
                Err(error) => Outcome::resolved(Auth::signed_out(error.reason())),
            }
        }
    };
    outcome.with_cookies(spent)
}

/// A signed-in page navigation that arrives from another site (not Clerk's): Clerk's SDK
/// handshakes once, since that site may have changed the session.
fn opened_from_another_site(instance: &Instance<'_>, request: &Parts, raw: &Cookies<'_>) -> bool {
    let headers = &request.headers;
    let Some(referrer) = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    request.method == Method::GET
        && headers.get("sec-fetch-dest").and_then(|v| v.to_str().ok()) == Some("document")
        && redirect_count(raw) == 0
        && is_cross_origin(referrer, instance.app_origin)
        && !is_known_clerk_referrer(
            referrer,
            instance.frontend_api_url,
            instance.publishable_key,
        )
}

/// The development browser's cookies on our origin, plain and suffixed as clerk-js writes them.
fn dev_browser_cookies(instance: &Instance<'_>, token: &str) -> Vec<String> {
    let secure = if instance.app_origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let suffix = instance.publishable_key.cookie_suffix();
    [
        "__clerk_db_jwt".to_owned(),
        format!("__clerk_db_jwt_{suffix}"),
    ]
    .into_iter()
    .map(|name| format!("{name}={token}; Path=/; SameSite=Lax; Max-Age=31536000{secure}"))
    .collect()
}

/// Expires the handshake cookies the request carried (their payload is single-use).
fn spent_handshake_cookies(raw: &Cookies<'_>) -> Vec<String> {
    ["__clerk_handshake", "__clerk_handshake_nonce"]
        .into_iter()
        .filter(|name| raw.get(name).is_some())
        .map(|name| format!("{name}=; Path=/; Max-Age=0; SameSite=Lax"))
        .collect()
}

/// Verifies the chosen session token, with what the cookie choice already looked up of it.
async fn verify_chosen(
    verifier: &SessionVerifier,
    token: &str,
    recalled: Vec<(&str, Recalled)>,
) -> Result<Arc<SessionClaims>, TokenError> {
    let memory = recalled
        .into_iter()
        .find(|(seen, _)| *seen == token)
        .map(|(_, memory)| memory)
        .unwrap_or_else(|| verifier.recall(token));
    verifier.verify_recalled(token, memory, now_seconds()).await
}

fn request_host(app_origin: &str) -> String {
    url::Url::parse(app_origin)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Only document navigations may be redirected through the Frontend API.
fn is_handshake_eligible(request: &Parts) -> bool {
    if request.method != Method::GET {
        return false;
    }
    let headers = &request.headers;
    match headers.get("sec-fetch-dest").and_then(|v| v.to_str().ok()) {
        Some(dest) => dest == "document" || dest == "iframe",
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/html")),
    }
}

fn redirect_count(cookies: &Cookies<'_>) -> u32 {
    cookies
        .get("__clerk_redirect_count")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_owned()).filter(|t| !t.is_empty());
    }
    // Clerk accepts a bare token (no scheme); any other scheme is not ours.
    (!value.contains(' ') && !value.is_empty()).then(|| value.to_owned())
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
