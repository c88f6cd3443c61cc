//! Route protection for pages (UX only: every server function checks for itself).
//!
//! `/profile` needs a signed-in user (else: to sign-in, and back); `/admin…` needs the admin
//! role from the database (else: the 403 page). A signed-in person we have not synced yet goes
//! through the sync route and comes back.

use crate::clerk::auth::Auth;
use crate::clerk::current_user::{resolve, sync_url, Resolution};
use crate::error::AppError;
use crate::state::AppState;
use crate::users::Role;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

enum Need {
    SignedIn,
    Admin,
}

fn need_for(path: &str) -> Option<Need> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/admin") {
        Some(Need::Admin)
    } else if under("/profile") {
        Some(Need::SignedIn)
    } else {
        None
    }
}

pub async fn layer(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let Some(need) = need_for(request.uri().path()) else {
        return next.run(request).await;
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let here = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let resolution = match resolve(&state, parts.extensions.get::<Auth>()).await {
        Ok(resolution) => resolution,
        Err(error) => return crate::server::render_error_page(&state, parts, error).await,
    };
    let refuse = |error: AppError| (error, parts.clone());
    let refusal = match (&resolution, need) {
        (Resolution::SignedOut, _) => {
            return Redirect::to(&sign_in_url(&here)).into_response();
        }
        (Resolution::NotSynced(_), _) => return Redirect::to(&sync_url(&here)).into_response(),
        (Resolution::Deleted, _) => Some(refuse(AppError::Forbidden(
            "This account has been deleted.".into(),
        ))),
        (Resolution::Active(user), Need::Admin) if user.role != Role::Admin => Some(refuse(
            AppError::Forbidden("This page is for admins. Ask an admin if you need access.".into()),
        )),
        _ => None,
    };
    if let Some((error, parts)) = refusal {
        return crate::server::render_error_page(&state, parts, error).await;
    }
    parts.extensions.insert(resolution);
    next.run(Request::from_parts(parts, body)).await
}

/// Our sign-in route, which hands over to Clerk and brings the person back to `return_to`.
pub fn sign_in_url(return_to: &str) -> String {
    let mut url = String::from("/sign-in?redirect_url=");
    url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
    url
}
