//! Route protection for pages (UX only: every server function checks for itself).
//!
//! `/profile` needs a signed-in user (else: to sign-in, and back); `/admin…` needs the admin
//! role from the database (else: the 403 page). A signed-in person we have not synced yet goes
//! through the sync route and comes back.

use crate::app::paths::{sign_in_url, sync_url};
use crate::app::render::render_error_page;
use crate::app::state::AppState;
use crate::clerk::request::Auth;
use crate::error::AppError;
use crate::models::Role;
use crate::server::routes::{page_access, PageAccess};
use crate::users::current::{resolve, Resolution};
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Redirect, Response};
use std::future::Future;

pub async fn layer<F, Fut>(state: &AppState, request: Request<Body>, next: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    let need = page_access(request.uri().path());
    if need == PageAccess::Anyone {
        return next(request).await;
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let here = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let claims = parts.extensions.get::<Auth>().and_then(Auth::claims);
    let resolution = match resolve(&state.users, claims).await {
        Ok(resolution) => resolution,
        Err(error) => return render_error_page(state, parts, error.into()).await,
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
        (Resolution::Active(user), PageAccess::Admin) if user.role != Role::Admin => Some(refuse(
            AppError::Forbidden("This page is for admins. Ask an admin if you need access.".into()),
        )),
        _ => None,
    };
    if let Some((error, parts)) = refusal {
        return render_error_page(state, parts, error).await;
    }
    parts.extensions.insert(resolution);
    next(Request::from_parts(parts, body)).await
}
