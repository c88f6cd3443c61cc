//! `GET /profile/data.json`: "Download my data" as a JSON attachment (a plain link works with
//! JavaScript off). Signed out: 401; deleted: 403 (the extractor decides).

use crate::admin::export::export_user_data;
use crate::app::state::AppState;
use crate::error::AppError;
use crate::models::CurrentUser;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn download_my_data(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Response, AppError> {
    let export = export_user_data(&state.users, me.user_id).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(AppError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"warden-my-data.json\"",
            ),
            // Personal data: never kept by a shared cache or the browser's.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
