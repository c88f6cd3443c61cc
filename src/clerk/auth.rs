//! The auth layer: every request gets its Clerk auth state (`clerkMiddleware`), following
//! Clerk's `authenticateRequest` decision table for a production instance (`shared/clerk` §2.4).
//!
//! It never rejects a request. It either attaches an [`Auth`] to the request, or, for a page
//! navigation whose session token merely needs refreshing, answers with Clerk's handshake
//! redirect so that the Frontend API can mint a fresh token and send the browser straight back.
//! That is what keeps a person signed in although session tokens live only 60 seconds.
//! API calls, form posts and server functions never get a handshake: with a stale token they
//! are signed out, and whatever they asked for answers 401.

use crate::clerk::session::{SessionClaims, TokenError};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// The auth state of one request.
#[derive(Debug, Clone)]
pub enum Auth {
    SignedIn { claims: Box<SessionClaims> },
    SignedOut { reason: String },
}

impl Auth {
    fn signed_out(reason: impl Into<String>) -> Auth {
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

    fn status(&self) -> &'static str {
        match self {
            Auth::SignedIn { .. } => "signed-in",
            Auth::SignedOut { .. } => "signed-out",
        }
    }

    fn reason(&self) -> &str {
        match self {
            Auth::SignedIn { .. } => "",
            Auth::SignedOut { reason } => reason,
        }
    }
}

const MAX_HANDSHAKE_REDIRECTS: u32 = 3;

/// Paths that need no auth state: static files, health, webhooks, the local provider.
fn skips_auth(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/favicon.svg"
        || path == "/health"
        || path == "/metrics"
        || path.starts_with("/api/webhooks/")
        || path.starts_with(crate::clerk::LOCAL_PROVIDER_PATH)
}

enum Outcome {
    Resolved {
        auth: Auth,
        set_cookies: Vec<String>,
    },
    Handshake {
        reason: String,
    },
}

pub async fn layer(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    if skips_auth(request.uri().path()) {
        return next.run(request).await;
    }
    // The body is not `Sync`: authenticate on the head alone.
    let (parts, body) = request.into_parts();
    let outcome = authenticate(&state, &parts).await;
    let mut request = Request::from_parts(parts, body);
    match outcome {
        Outcome::Handshake { reason } => {
            tracing::debug!(%reason, path = request.uri().path(), "handshake with Clerk");
            handshake_redirect(&state, &request, &reason)
        }
        Outcome::Resolved { auth, set_cookies } => {
            if let Auth::SignedOut { reason } = &auth {
                if !reason.is_empty() && reason != "session-token-and-uat-missing" {
                    tracing::debug!(%reason, "request is signed out");
                }
            }
            let status = auth.status();
            let reason = auth.reason().to_owned();
            request.extensions_mut().insert(auth);
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            for cookie in set_cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    headers.append(header::SET_COOKIE, value);
                }
            }
            headers.insert("x-clerk-auth-status", HeaderValue::from_static(status));
            if let Ok(value) = HeaderValue::from_str(&reason) {
                if !reason.is_empty() {
                    headers.insert("x-clerk-auth-reason", value);
                }
            }
            response
        }
    }
}

async fn authenticate(state: &AppState, request: &Parts) -> Outcome {
    let headers = &request.headers;
    let verifier = &state.session;
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
    let suffix = state.clerk.publishable_key.cookie_suffix();

    // C1: the browser is back from a handshake.
    let handshake = cookies
        .get("__clerk_handshake")
        .map(str::to_owned)
        .or_else(|| query_param(request.uri.query(), "__clerk_handshake"));
    if let Some(handshake) = handshake {
        match resolve_handshake(state, &handshake).await {
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

fn redirect_count(cookies: &Cookies) -> u32 {
    cookies
        .get("__clerk_redirect_count")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// Clerk's handshake redirect (`shared/clerk` §2.5), asking for the token format.
fn handshake_redirect(state: &AppState, request: &Request<Body>, reason: &str) -> Response {
    let current = format!(
        "{}{}",
        state.config.app_origin,
        request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/")
    );
    let mut location = match url::Url::parse(&format!(
        "{}/v1/client/handshake",
        state.clerk.frontend_api_url.trim_end_matches('/')
    )) {
        Ok(url) => url,
        Err(error) => {
            tracing::error!(%error, "the Frontend API URL is not a URL");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    location
        .query_pairs_mut()
        .append_pair("redirect_url", &current)
        .append_pair("__clerk_api_version", crate::clerk::api::API_VERSION)
        .append_pair("suffixed_cookies", "false")
        .append_pair("__clerk_hs_reason", reason)
        .append_pair("format", "token");
    let count = redirect_count(&Cookies::parse(request.headers())) + 1;
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location.as_str()) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "__clerk_redirect_count={count}; Path=/; SameSite=Lax; HttpOnly; Max-Age=2"
    )) {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert("x-clerk-auth-status", HeaderValue::from_static("handshake"));
    if let Ok(value) = HeaderValue::from_str(reason) {
        headers.insert("x-clerk-auth-reason", value);
    }
    response
}

/// Verifies the handshake JWT (signed by the instance key; only alg, signature and payload are
/// checked, as in Clerk's SDK) and applies its cookie directives.
async fn resolve_handshake(state: &AppState, token: &str) -> Result<(Auth, Vec<String>), String> {
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
    let key = state
        .session
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
        Some(token) => match state.session.verify(&token).await {
            Ok(claims) => Auth::SignedIn {
                claims: Box::new(claims),
            },
            Err(error) => Auth::signed_out(error.reason()),
        },
    };
    Ok((auth, directives))
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
