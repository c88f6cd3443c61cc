//! "Download my data": everything we hold about one person, as JSON.

use crate::admin::roles::{role_changes_by, role_history};
use crate::admin::AdminError;
use crate::models::overview::UserDataExport;
use crate::models::UserId;
use crate::users::UserStore;
use time::OffsetDateTime;

/// The export of `user_id`. Read from the database, not the cache: a copy of someone's data
/// should be exactly what is stored.
pub async fn export_user_data(
    users: &UserStore,
    user_id: UserId,
) -> Result<UserDataExport, AdminError> {
    let user = users
        .get_stored(user_id)
        .await?
        .ok_or_else(|| AdminError::NotFound("There is no user with this id.".into()))?;
    Ok(UserDataExport {
        exported_at: OffsetDateTime::now_utc(),
        user,
        role_history: role_history(users.pool(), user_id).await?,
        role_changes_made: role_changes_by(users.pool(), user_id).await?,
    })
}
