//! The page cache's HTTP side: which requests may be answered with a kept render (see
//! [`crate::app::page_cache`]). It runs inside the route guard, so access is decided on every
//! request before anything kept is served.

use crate::app::state::AppState;
use crate::server::routes::is_kept_page;
use crate::users::current::Resolution;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn layer(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    if request.method() != Method::GET
        || request.uri().query().is_some()
        || !is_kept_page(request.uri().path())
    {
        return next.run(request).await;
    }
    // Only the guard's own verdict counts: no resolution, no cache.
    let user = match request.extensions().get::<Resolution>() {
        Some(Resolution::Active(user)) => user.clone(),
        _ => return next.run(request).await,
    };
    state
        .pages
        .get_or_render(&user, request, |request| next.run(request))
        .await
}
