//! The page cache's HTTP side: which requests may be answered with a kept render (see
//! [`crate::app::page_cache`]). It runs inside the route guard, so access is decided on every
//! request before anything kept is served.

use crate::app::state::AppState;
use crate::server::routes::is_kept_page;
use crate::users::current::Resolution;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::Response;
use std::future::Future;

pub async fn layer<F, Fut>(state: &AppState, request: Request<Body>, next: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    if request.method() != Method::GET
        || request.uri().query().is_some()
        || !is_kept_page(request.uri().path())
    {
        return next(request).await;
    }
    // Only the guard's own verdict counts: no resolution, no cache.
    let user_id = match request.extensions().get::<Resolution>() {
        Some(Resolution::Active(user)) => user.user_id,
        _ => return next(request).await,
    };
    state.pages.get_or_render(user_id, request, next).await
}
