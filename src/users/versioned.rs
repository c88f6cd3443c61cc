//! Versioned writes: each applies one version of a Clerk user (Clerk's `updated_at`), in any
//! order of arrival, so that webhooks, the sync route and a reconcile can all write without
//! undoing each other.

use crate::models::{ClerkUserId, Role, User, UserProfile};
use crate::users::store::{validate, REDACTED_EMAIL, REDACTED_NAME, USER_COLUMNS};
use crate::users::{UserError, UserStore};
use sqlx::PgConnection;

/// What a versioned upsert ([`UserStore::upsert_clerk_version_in`]) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionedUpsert {
    /// A new row (its role seeded from `role_if_new`).
    Created(User),
    /// The active row took the newer version.
    Updated(User),
    /// The row already holds this version or a newer one: nothing changed.
    Stale(User),
    /// The row is a tombstone: nothing changed, nothing ever will.
    Deleted(User),
}

/// What a versioned deletion ([`UserStore::delete_clerk_version_in`]) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionedDelete {
    /// The active row was soft-deleted and redacted.
    Deleted(User),
    /// We had never seen the user: a tombstone now stands in for it, so that a late creation
    /// event finds it and creates nothing.
    Tombstoned(User),
    /// It was deleted already: nothing changed.
    AlreadyDeleted,
}

impl UserStore {
    /// Tombstones never change. The caller invalidates the cache after its commit.
    ///
    /// One statement in the common case: `ON CONFLICT … DO UPDATE … WHERE` locks the existing
    /// row, so concurrent events for one user are applied one after the other, each compared
    /// with what the previous one left.
    pub async fn upsert_clerk_version_in(
        &self,
        conn: &mut PgConnection,
        profile: &UserProfile,
        role_if_new: Option<Role>,
        version: i64,
    ) -> Result<VersionedUpsert, UserError> {
        validate(profile)?;
        let sql = upsert_clerk_version_sql();
        let row: Option<WithInserted> = sqlx::query_as(&sql)
            .bind(&profile.clerk_user_id)
            .bind(&profile.name)
            .bind(&profile.email)
            .bind(&profile.image_url)
            .bind(role_if_new)
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(WithInserted { user, inserted }) = row {
            return Ok(if inserted {
                VersionedUpsert::Created(user)
            } else {
                VersionedUpsert::Updated(user)
            });
        }
        // The WHERE filtered the existing row out (and the statement locked it): say why.
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE clerk_user_id = $1");
        let user: User = sqlx::query_as(&sql)
            .bind(&profile.clerk_user_id)
            .fetch_one(&mut *conn)
            .await?;
        Ok(if user.is_deleted() {
            VersionedUpsert::Deleted(user)
        } else {
            VersionedUpsert::Stale(user)
        })
    }

    /// Deletes the user Clerk deleted (`version` = the event's timestamp, ms) inside the
    /// caller's transaction: soft delete with redaction, or a tombstone when we never saw the
    /// user, so that its late `user.created` creates nothing. A deletion is final in Clerk (no
    /// later version of the user can exist), so it always applies; `clerk_updated_at` only
    /// moves forward. The caller invalidates the cache after its commit.
    pub async fn delete_clerk_version_in(
        &self,
        conn: &mut PgConnection,
        clerk_user_id: &ClerkUserId,
        version: i64,
    ) -> Result<VersionedDelete, UserError> {
        if clerk_user_id.as_str().trim().is_empty() {
            return Err(UserError::Invalid("A Clerk user id is required.".into()));
        }
        let sql = format!(
            "INSERT INTO users (clerk_user_id, name, email, image_url, deleted_at, clerk_updated_at)
             VALUES ($1, $2, $3, NULL, now(), $4)
             ON CONFLICT (clerk_user_id) DO UPDATE
                SET deleted_at = now(), name = EXCLUDED.name, email = EXCLUDED.email,
                    image_url = NULL,
                    clerk_updated_at = GREATEST(users.clerk_updated_at, EXCLUDED.clerk_updated_at)
                WHERE users.deleted_at IS NULL
             RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted"
        );
        let row: Option<WithInserted> = sqlx::query_as(&sql)
            .bind(clerk_user_id)
            .bind(REDACTED_NAME)
            .bind(REDACTED_EMAIL)
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(match row {
            Some(WithInserted {
                user,
                inserted: true,
            }) => VersionedDelete::Tombstoned(user),
            Some(WithInserted { user, .. }) => VersionedDelete::Deleted(user),
            None => VersionedDelete::AlreadyDeleted,
        })
    }

    /// [`UserStore::upsert_clerk_version_in`] in a transaction of its own, with the cache
    /// invalidated after the commit when the row changed.
    pub async fn upsert_clerk_version(
        &self,
        profile: &UserProfile,
        role_if_new: Option<Role>,
        version: i64,
    ) -> Result<VersionedUpsert, UserError> {
        let mut tx = self.pool.begin().await?;
        let upserted = self
            .upsert_clerk_version_in(&mut tx, profile, role_if_new, version)
            .await?;
        tx.commit().await?;
        if let VersionedUpsert::Created(user) | VersionedUpsert::Updated(user) = &upserted {
            self.invalidate_user(user.id, &user.clerk_user_id);
        }
        Ok(upserted)
    }

    /// [`UserStore::delete_clerk_version_in`] in a transaction of its own, with the cache
    /// invalidated after the commit.
    pub async fn delete_clerk_version(
        &self,
        clerk_user_id: &ClerkUserId,
        version: i64,
    ) -> Result<VersionedDelete, UserError> {
        let mut tx = self.pool.begin().await?;
        let deleted = self
            .delete_clerk_version_in(&mut tx, clerk_user_id, version)
            .await?;
        tx.commit().await?;
        if let VersionedDelete::Deleted(user) | VersionedDelete::Tombstoned(user) = &deleted {
            self.invalidate_user(user.id, &user.clerk_user_id);
        }
        Ok(deleted)
    }
}

/// A row with `(xmax = 0) AS inserted`: true when the upsert inserted it.
#[derive(sqlx::FromRow)]
struct WithInserted {
    #[sqlx(flatten)]
    user: User,
    inserted: bool,
}

/// The statement of [`UserStore::upsert_clerk_version_in`], `$1`–`$6` being the Clerk user id,
/// name, email, image URL, role if new and Clerk's version. Public so that the webhooks bench
/// can run this very statement through pgbench as its ceiling.
#[doc(hidden)]
pub fn upsert_clerk_version_sql() -> String {
    format!(
        "INSERT INTO users (clerk_user_id, name, email, image_url, role, clerk_updated_at)
             VALUES ($1, $2, $3, $4, COALESCE($5, 'user'::user_role), $6)
             ON CONFLICT (clerk_user_id) DO UPDATE
                SET name = EXCLUDED.name, email = EXCLUDED.email, image_url = EXCLUDED.image_url,
                    clerk_updated_at = EXCLUDED.clerk_updated_at
                WHERE users.deleted_at IS NULL
                  AND (users.clerk_updated_at IS NULL
                       OR users.clerk_updated_at < EXCLUDED.clerk_updated_at)
             RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted"
    )
}
