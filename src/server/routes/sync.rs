//! `GET /api/clerk/syncUsers` (the seed's sync): copy the signed-in person from Clerk into our
//! database (`sync::from_clerk`), and return to where they were going, on our own origin only.

use crate::app::paths::{safe_return_path, sign_in_url};
use crate::app::render::render_error_page;
use crate::app::state::AppState;
use crate::clerk::request::Auth;
use crate::error::AppError;
use crate::models::ClerkUserId;
use crate::sync::from_clerk::sync_from_clerk;
use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SyncQuery {
    redirect_url: Option<String>,
}

pub async fn sync_users(
    State(state): State<AppState>,
    Query(query): Query<SyncQuery>,
    parts: Parts,
) -> Response {
    let target = return_target(&state, &query, &parts);
    let Some(claims) = parts.extensions.get::<Auth>().and_then(Auth::claims) else {
        return Redirect::to(&sign_in_url(&target)).into_response();
    };
    let clerk_user_id = ClerkUserId::new(&claims.sub);
    match sync_from_clerk(&state.users, &state.clerk.api, &clerk_user_id).await {
        Ok(_) => {
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => render_error_page(&state, parts, AppError::from(error)).await,
    }
}

/// `redirect_url` first, then a same-origin Referer, else `/`.
fn return_target(state: &AppState, query: &SyncQuery, parts: &Parts) -> String {
    let origin = &state.config.app_origin;
    query
        .redirect_url
        .as_deref()
        .and_then(|candidate| safe_return_path(candidate, origin))
        .or_else(|| {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|value| value.to_str().ok())
                .and_then(|referer| safe_return_path(referer, origin))
        })
        .unwrap_or_else(|| "/".to_owned())
}
