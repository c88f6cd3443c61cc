//! A request's Clerk auth state, following Clerk's `authenticateRequest` decision table for a
//! production instance.
//!
//! Deciding never rejects a request: the result is either an [`Auth`] for the request, or the
//! verdict that a page navigation whose session token merely needs refreshing should go
//! through Clerk's handshake, so that the Frontend API can mint a fresh token and send the
//! browser straight back. That is what keeps a person signed in although session tokens live
//! only 60 seconds. API calls, form posts and server functions never get a handshake: with a
//! stale token they are signed out, and whatever they asked for answers 401.

use crate::clerk::cookies::Cookies;
use crate::clerk::handshake::resolve_handshake;
use crate::clerk::keys::PublishableKey;
use crate::clerk::session::{SessionClaims, SessionVerifier, TokenError};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};

/// The auth state of one request.
#[derive(Debug, Clone)]
pub enum Auth {
    SignedIn { claims: Box<SessionClaims> },
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

/// What the auth state of a request is, or that it should handshake first.
pub enum Outcome {
    Resolved {
        auth: Auth,
        /// Cookies the response must set (from a handshake payload).
        set_cookies: Vec<String>,
    },
    Handshake {
        reason: String,
    },
}

pub async fn authenticate(
    verifier: &SessionVerifier,
    publishable_key: &PublishableKey,
    request: &Parts,
) -> Outcome {
    let headers = &request.headers;
    let resolved = |auth| Outcome::Resolved {
        auth,
        set_cookies: Vec::new(),
    };

    // H1–H4: a bearer token wins over cookies, and is never rescued by a handshake.
    if let Some(token) = bearer_token(headers) {
        return resolved(match verifier.verify(&token).await {
            Ok(claims) => Auth::SignedIn {
                claims: Box::new(claims),
            },
            Err(error) => Auth::signed_out(error.reason()),
        });
    }

    let cookies = Cookies::parse(headers);
    let suffix = publishable_key.cookie_suffix();

    // C1: the browser is back from a handshake.
    let handshake = cookies
        .get("__clerk_handshake")
        .map(str::to_owned)
        .or_else(|| query_param(request.uri.query(), "__clerk_handshake"));
    if let Some(handshake) = handshake {
        match resolve_handshake(verifier, &handshake).await {
            Ok((auth, mut set_cookies)) => {
                // The handshake payload is single-use.
                set_cookies.push("__clerk_handshake=; Path=/; Max-Age=0; SameSite=Lax".into());
                return Outcome::Resolved { auth, set_cookies };
            }
            Err(reason) => {
                tracing::debug!(%reason, "handshake payload refused");
                // Production behaviour: fall through to the cookies.
            }
        }
    }

    let session = cookies
        .get(&format!("__session_{suffix}"))
        .or_else(|| cookies.get("__session"))
        .filter(|token| !token.is_empty());
    let client_uat: i64 = cookies
        .get(&format!("__client_uat_{suffix}"))
        .or_else(|| cookies.get("__client_uat"))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let eligible =
        is_handshake_eligible(request) && redirect_count(&cookies) < MAX_HANDSHAKE_REDIRECTS;
    let handshake_or_signed_out = |reason: &str| {
        if eligible {
            Outcome::Handshake {
                reason: reason.to_owned(),
            }
        } else {
            resolved(Auth::signed_out(reason))
        }
    };

    match (session, client_uat) {
        (None, 0) => resolved(Auth::signed_out("session-token-and-uat-missing")),
        (Some(_), 0) => handshake_or_signed_out("session-token-but-no-client-uat"),
        (None, _) => handshake_or_signed_out("client-uat-but-no-session-token"),
        (Some(token), client_uat) => match verifier.verify(token).await {
            Ok(claims) if claims.iat.is_some_and(|iat| iat < client_uat) => {
                handshake_or_signed_out("session-token-iat-before-client-uat")
            }
            Ok(claims) => resolved(Auth::SignedIn {
                claims: Box::new(claims),
            }),
            Err(error) if error.is_time_related() => {
                let reason = match error {
                    TokenError::Expired => "session-token-expired".to_owned(),
                    other => other.reason(),
                };
                handshake_or_signed_out(&reason)
            }
            Err(error) => resolved(Auth::signed_out(error.reason())),
        },
    }
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

pub fn redirect_count(cookies: &Cookies) -> u32 {
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
