//! Writes without a Clerk version: create-or-update, update and soft delete as they were before
//! versions existed. The app itself writes through [`crate::users::versioned`]; these remain
//! for the test suite's set-up and are candidates for removal.

use crate::models::{ClerkUserId, Role, User, UserProfile};
use crate::users::store::{validate, why_missing, REDACTED_EMAIL, REDACTED_NAME, USER_COLUMNS};
use crate::users::{UserError, UserStore};
use sqlx::PgConnection;

impl UserStore {
    fn invalidate(&self, user: &User) {
        self.invalidate_user(user.id, &user.clerk_user_id);
    }

    /// `role_if_new` is applied only when the row is created: afterwards the database owns the
    /// role. Returns [`UserError::Deleted`] for a deleted user, and changes nothing then.
    pub async fn insert_user(
        &self,
        profile: &UserProfile,
        role_if_new: Option<Role>,
    ) -> Result<User, UserError> {
        let mut conn = self.pool.acquire().await?;
        let user = self.insert_user_in(&mut conn, profile, role_if_new).await?;
        self.invalidate(&user);
        Ok(user)
    }

    /// [`UserStore::insert_user`] inside the caller's transaction; the caller invalidates the
    /// cache after its commit ([`UserStore::invalidate_user`]).
    pub async fn insert_user_in(
        &self,
        conn: &mut PgConnection,
        profile: &UserProfile,
        role_if_new: Option<Role>,
    ) -> Result<User, UserError> {
        validate(profile)?;
        let sql = format!(
            "INSERT INTO users (clerk_user_id, name, email, image_url, role)
             VALUES ($1, $2, $3, $4, COALESCE($5, 'user'::user_role))
             ON CONFLICT (clerk_user_id) DO UPDATE
                SET name = EXCLUDED.name, email = EXCLUDED.email, image_url = EXCLUDED.image_url
                WHERE users.deleted_at IS NULL
             RETURNING {USER_COLUMNS}"
        );
        let row: Option<User> = sqlx::query_as(&sql)
            .bind(&profile.clerk_user_id)
            .bind(&profile.name)
            .bind(&profile.email)
            .bind(&profile.image_url)
            .bind(role_if_new)
            .fetch_optional(&mut *conn)
            .await?;
        // None: the conflict's WHERE filtered the row out, it is a tombstone.
        row.ok_or(UserError::Deleted)
    }

    /// Updates name, email and image of an existing active user.
    pub async fn update_user(&self, profile: &UserProfile) -> Result<User, UserError> {
        let mut conn = self.pool.acquire().await?;
        let user = self.update_user_in(&mut conn, profile).await?;
        self.invalidate(&user);
        Ok(user)
    }

    /// [`UserStore::update_user`] inside the caller's transaction (invalidate after commit).
    pub async fn update_user_in(
        &self,
        conn: &mut PgConnection,
        profile: &UserProfile,
    ) -> Result<User, UserError> {
        validate(profile)?;
        let sql = format!(
            "UPDATE users SET name = $2, email = $3, image_url = $4
             WHERE clerk_user_id = $1 AND deleted_at IS NULL
             RETURNING {USER_COLUMNS}"
        );
        let row: Option<User> = sqlx::query_as(&sql)
            .bind(&profile.clerk_user_id)
            .bind(&profile.name)
            .bind(&profile.email)
            .bind(&profile.image_url)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(user) => Ok(user),
            None => Err(why_missing(conn, &profile.clerk_user_id).await?),
        }
    }

    /// Soft-deletes the user: sets `deleted_at`, redacts PII and retires the Clerk id for good.
    pub async fn delete_user(&self, clerk_user_id: &ClerkUserId) -> Result<User, UserError> {
        let mut conn = self.pool.acquire().await?;
        let user = self.delete_user_in(&mut conn, clerk_user_id).await?;
        self.invalidate(&user);
        Ok(user)
    }

    /// [`UserStore::delete_user`] inside the caller's transaction (invalidate after commit).
    pub async fn delete_user_in(
        &self,
        conn: &mut PgConnection,
        clerk_user_id: &ClerkUserId,
    ) -> Result<User, UserError> {
        let sql = format!(
            "UPDATE users
                SET deleted_at = now(), name = $2, email = $3, image_url = NULL
             WHERE clerk_user_id = $1 AND deleted_at IS NULL
             RETURNING {USER_COLUMNS}"
        );
        let row: Option<User> = sqlx::query_as(&sql)
            .bind(clerk_user_id)
            .bind(REDACTED_NAME)
            .bind(REDACTED_EMAIL)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(user) => Ok(user),
            None => Err(why_missing(conn, clerk_user_id).await?),
        }
    }
}
