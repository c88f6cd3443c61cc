//! The app's stylesheet and the files of `public/`, served by the server itself so that plain
//! `cargo run` shows a styled page (cargo-leptos is a convenience, not a requirement).

use crate::app::render::render_page;
use crate::app::state::AppState;
use crate::app::style::STYLESHEET;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A file of the browser bundle. Its name changes with its content, so browsers may keep it for
/// good; only the bundle's own files are served (not its manifest, nor anything else in the
/// folder), and gzip-compressed when the build left a `.gz` beside the file.
pub async fn bundle_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: Request<Body>,
) -> Response {
    let Some(bundle) = state
        .bundle
        .as_ref()
        .filter(|bundle| bundle.has_file(&file))
    else {
        return (StatusCode::NOT_FOUND, "There is no such file.").into_response();
    };
    let served = ServeFile::new(bundle.dir.join(&file))
        .precompressed_gzip()
        .oneshot(request)
        .await;
    let mut response = match served {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    response
}

/// A file from the assets folder, or `None` when there is no such file.
pub async fn public_file(
    state: &AppState,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
) -> Option<Response> {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return None;
    }
    let probe = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .ok()?;
    let response = ServeDir::new(&state.config.assets_dir)
        .oneshot(probe)
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let mut response = response.map(Body::new);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Some(response)
}

/// Unknown paths: a file from `public/`, else the app's designed 404 page.
pub async fn fallback(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (method, uri) = (request.method().clone(), request.uri().clone());
    if let Some(file) = public_file(&state, &method, &uri).await {
        return file;
    }
    render_page(&state, request).await
}
