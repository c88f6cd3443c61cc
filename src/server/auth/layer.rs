//! The auth layer (`clerkMiddleware`): every request of the session routes gets its Clerk auth
//! state, or a page navigation with a stale token is sent through Clerk's handshake first (the
//! decision is `clerk::request`'s; this is its HTTP side).

use crate::app::state::AppState;
use crate::clerk::request::{authenticate, Auth, Instance, Outcome};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::future::Future;

pub async fn layer<F, Fut>(state: &AppState, request: Request<Body>, next: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    // The body is not `Sync`: authenticate on the head alone.
    let (parts, body) = request.into_parts();
    let instance = Instance {
        verifier: &state.session,
        api: &state.clerk.api,
        publishable_key: &state.clerk.publishable_key,
        frontend_api_url: &state.clerk.frontend_api_url,
        app_origin: &state.config.app_origin,
    };
    let outcome = authenticate(&instance, &parts).await;
    let mut request = Request::from_parts(parts, body);
    match outcome {
        Outcome::Redirect {
            status,
            reason,
            location,
            set_cookies,
        } => {
            tracing::debug!(%reason, path = request.uri().path(), status, "redirect for Clerk");
            let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            append_clerk_headers(headers, set_cookies, status, &reason);
            response
        }
        Outcome::Resolved { auth, set_cookies } => {
            if let Auth::SignedOut { reason } = &auth {
                if !reason.is_empty() && reason != "session-token-and-uat-missing" {
                    tracing::debug!(%reason, "request is signed out");
                }
            }
            if auth.claims().is_some() {
                // Before the request's first cached read of its user: whatever another
                // instance committed before this request arrived must be seen by it.
                state.users.catch_up().await;
            }
            let status = auth.status();
            let reason = auth.reason().to_owned();
            request.extensions_mut().insert(auth);
            let mut response = next(request).await;
            append_clerk_headers(response.headers_mut(), set_cookies, status, &reason);
            response
        }
    }
}

/// Clerk's cookies and its debugging headers (`x-clerk-auth-status`, `x-clerk-auth-reason`).
fn append_clerk_headers(
    headers: &mut HeaderMap,
    set_cookies: Vec<String>,
    status: &'static str,
    reason: &str,
) {
    for cookie in set_cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert("x-clerk-auth-status", HeaderValue::from_static(status));
    if !reason.is_empty() {
        if let Ok(value) = HeaderValue::from_str(reason) {
            headers.insert("x-clerk-auth-reason", value);
        }
    }
}
