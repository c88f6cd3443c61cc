//! Rendering the app for requests that do not come through the Leptos routes: the designed
//! error page of a handler or the route guard, and the 404 page of unknown paths.

use crate::app::state::AppState;
use crate::app::{shell, ForcedError};
use crate::error::AppError;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, Request};
use axum::response::Response;

/// The page the app's router gives `request` (for an unknown path: the designed 404).
pub async fn render_page(state: &AppState, request: Request<Body>) -> Response {
    render(state, None, request).await
}

/// A designed error page, with its status, in place of whatever `parts` asked for.
pub async fn render_error_page(state: &AppState, parts: Parts, error: AppError) -> Response {
    let mut request = Request::from_parts(parts, Body::empty());
    *request.method_mut() = Method::GET;
    render(state, Some(error), request).await
}

async fn render(state: &AppState, error: Option<AppError>, request: Request<Body>) -> Response {
    // These pages do not hydrate: the browser's app would route the address to the page the
    // error stands in for, and there is nothing on them to make interactive.
    let mut options = state.leptos_options.clone();
    options.hash_files = false;
    let render = leptos_axum::render_app_async_with_context(
        {
            let state = state.clone();
            move || {
                leptos::prelude::provide_context(state.clone());
                crate::app::provide_request_nonce();
                if let Some(error) = error.clone() {
                    leptos::prelude::provide_context(ForcedError(error));
                }
            }
        },
        move || shell(options.clone()),
    );
    render(request).await
}
