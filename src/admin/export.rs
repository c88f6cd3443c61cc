//! "Download my data": everything we hold about one person, as JSON.

use crate::admin::model::UserDataExport;
use crate::admin::roles::{role_changes_by, role_history};
use crate::admin::AdminError;
use crate::users::{User, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

/// The export of `user_id`. Read from the database, not the cache: a copy of someone's data
/// should be exactly what is stored.
pub async fn export_user_data(
    pool: &PgPool,
    user_id: UserId,
) -> Result<UserDataExport, AdminError> {
    let user = stored_user(pool, user_id)
        .await?
        .ok_or_else(|| AdminError::NotFound("There is no user with this id.".into()))?;
    Ok(UserDataExport {
        exported_at: OffsetDateTime::now_utc(),
        user,
        role_history: role_history(pool, user_id).await?,
        role_changes_made: role_changes_by(pool, user_id).await?,
    })
}

/// The row of `users` with this id, deleted or not, read past the cache (the user store's reads
/// hide deleted users; admins and exports need to see them).
pub async fn stored_user(pool: &PgPool, user_id: UserId) -> Result<Option<User>, AdminError> {
    Ok(sqlx::query_as(
        "SELECT id, clerk_user_id, name, email, role, image_url, deleted_at, created_at, updated_at
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// `GET /profile/data.json`: the signed-in person's export as a JSON attachment (a plain link
/// works with JavaScript off). Signed out: 401; deleted: 403 (the extractor decides).
pub async fn download_my_data(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    me: crate::clerk::CurrentUser,
) -> Result<axum::response::Response, crate::error::AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let export = export_user_data(&state.pool, me.user_id).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(crate::error::AppError::internal)?;
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
