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
