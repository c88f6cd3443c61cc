//! The session routes' middleware: one layer that runs each step in order, outermost first.
//!
//! 1. same-origin writes (`security::same_origin_writes`): a cross-site write stops here;
//! 2. Clerk auth state (`auth::layer`), or Clerk's handshake;
//! 3. the route guard (`auth::guard`, UX only: server functions authorise themselves);
//! 4. server-function statuses (`security::server_fn_status`);
//! 5. the page cache (`page_cache`): a kept page is answered here.
//!
//! One layer rather than five: each `axum::middleware::from_fn` clones and boxes the service
//! inside it on every request, and the session routes serve the app's busiest page.

use crate::app::state::AppState;
use crate::server::{auth, page_cache, security};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub async fn layer(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let state = &state;
    security::same_origin_writes(state, request, |request| {
        auth::layer::layer(state, request, |request| {
            auth::guard::layer(state, request, |request| {
                security::server_fn_status(request, |request| {
                    page_cache::layer(state, request, |request| next.run(request))
                })
            })
        })
    })
    .await
}
