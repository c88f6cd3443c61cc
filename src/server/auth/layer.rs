//! The auth layer (`clerkMiddleware`): every request of the session routes gets its Clerk auth
//! state, or a page navigation with a stale token is sent through Clerk's handshake first (the
//! decision is `clerk::request`'s; this is its HTTP side).

use crate::app::state::AppState;
use crate::clerk::cookies::Cookies;
use crate::clerk::handshake::handshake_location;
use crate::clerk::request::{authenticate, redirect_count, Auth, Outcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn layer(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    // The body is not `Sync`: authenticate on the head alone.
    let (parts, body) = request.into_parts();
    let outcome = authenticate(&state.session, &state.clerk.publishable_key, &parts).await;
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

/// Clerk's handshake redirect, with the loop-breaking redirect counter.
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
    let location = match handshake_location(&state.clerk.frontend_api_url, &current, reason) {
        Ok(url) => url,
        Err(error) => {
            tracing::error!(%error, "the Frontend API URL is not a URL");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
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
