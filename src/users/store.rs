//! The users table: SQL and cache in one place.
//!
//! # How a deleted user stays deleted
//! Deletion is a soft delete that redacts PII (name, email, image) and **keeps** the Clerk id
//! on the tombstone row. `users.clerk_user_id` is `UNIQUE NOT NULL`, and the upsert only updates
//! rows whose `deleted_at IS NULL`, so a later upsert for the same Clerk id finds the tombstone,
//! changes nothing and reports it. The unique constraint, not application
//! logic, is what prevents a second row: no race can bring a user back. Clerk never reuses ids,
//! so keeping a retired one costs nothing, and two deletions can never collide the way the
//! seed's literal `"deleted"` id did.
//!
//! # Cache
//! Reads by id and by Clerk id are cached under the user's tags; every mutation invalidates
//! `global:users`, the user's id tag and its Clerk-id tag after the statement has committed.
//!
//! # One owner
//! This module holds every statement that writes `users`, and it is the only code that
//! invalidates cached users: callers never touch the cache tags, so no writer can forget them.

use crate::cache::{CacheTags, Tag, TaggedCache};
use crate::models::{ClerkUserId, Role, User, UserId, UserProfile};
use crate::users::catch_up::FeedSync;
use crate::users::UserError;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum UserKey {
    Id(UserId),
    Clerk(ClerkUserId),
}

/// Access to `users`, with a read-through cache.
#[derive(Clone)]
pub struct UserStore {
    pub(super) pool: PgPool,
    pub(super) tags: Arc<CacheTags>,
    cache: TaggedCache<UserKey, Option<User>>,
    pub(super) feed: Arc<FeedSync>,
}

pub(super) const USER_COLUMNS: &str =
    "id, clerk_user_id, name, email, role, image_url, deleted_at, created_at, updated_at";

/// Longest accepted name and email: generous for people, small enough for pages and indexes.
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_EMAIL_LEN: usize = 320;

/// What a deleted user's PII becomes (the tombstone keeps only ids and dates).
pub(super) const REDACTED_NAME: &str = "Deleted User";
pub(super) const REDACTED_EMAIL: &str = "redacted@deleted.com";

/// The target of a role change, locked until the caller's transaction ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedUser {
    pub clerk_user_id: ClerkUserId,
    pub name: String,
    pub role: Role,
    pub deleted_at: Option<time::OffsetDateTime>,
}

impl UserStore {
    pub fn new(pool: PgPool, tags: Arc<CacheTags>, max_entries: u64, ttl: Duration) -> Self {
        UserStore {
            cache: TaggedCache::new("users", tags.clone(), max_entries, ttl),
            pool,
            tags,
            feed: Arc::new(FeedSync::new()),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Makes the cached reads of this user stale. The `*_in` writes leave this to their caller,
    /// who must call it **after** the transaction committed (before, a reader could cache the
    /// old row again between the invalidation and the commit).
    pub fn invalidate_user(&self, id: UserId, clerk_user_id: &ClerkUserId) {
        self.tags.invalidate(&[
            Tag::all_users(),
            Tag::user(id),
            Tag::clerk_user(clerk_user_id),
        ]);
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>, UserError> {
        let user = self
            .cache
            .get_or_load(UserKey::Id(id), || async move {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                let user: Option<User> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                let tags = vec![Tag::user(id)];
                Ok::<_, UserError>((user, tags))
            })
            .await?;
        Ok(user.filter(|user| !user.is_deleted()))
    }

    /// The active user with this Clerk id (cached). Deleted users are `None`.
    pub async fn get_user_by_clerk_id(
        &self,
        clerk_user_id: &ClerkUserId,
    ) -> Result<Option<User>, UserError> {
        let key = UserKey::Clerk(clerk_user_id.clone());
        let user = self
            .cache
            .get_or_load(key, || async move {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE clerk_user_id = $1");
                let user: Option<User> = sqlx::query_as(&sql)
                    .bind(clerk_user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                let mut tags = vec![Tag::clerk_user(clerk_user_id)];
                if let Some(user) = &user {
                    tags.push(Tag::user(user.id));
                }
                Ok::<_, UserError>((user, tags))
            })
            .await?;
        Ok(user.filter(|user| !user.is_deleted()))
    }

    /// True when this Clerk id belongs to a deleted user (not cached: a rare path).
    pub async fn is_deleted(&self, clerk_user_id: &ClerkUserId) -> Result<bool, UserError> {
        let mut conn = self.pool.acquire().await?;
        Ok(matches!(
            why_missing(&mut conn, clerk_user_id).await?,
            UserError::Deleted
        ))
    }

    /// The row with this id, deleted or not, read past the cache: admins and exports must see
    /// exactly what is stored, tombstones included.
    pub async fn get_stored(&self, id: UserId) -> Result<Option<User>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The ids of the active users with this email (case-insensitive), at most two: enough to
    /// tell "one" from "several".
    pub async fn active_ids_by_email(&self, email: &str) -> Result<Vec<UserId>, UserError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL LIMIT 2",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The id of the user with this Clerk id, deleted or not.
    pub async fn id_by_clerk_id(
        &self,
        clerk_user_id: &ClerkUserId,
    ) -> Result<Option<UserId>, UserError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
                .bind(clerk_user_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The Clerk ids of every active user, for a reconcile to compare with what Clerk lists
    /// (ids only: at a million users the whole list is tens of megabytes, not gigabytes).
    pub async fn active_clerk_ids(&self) -> Result<Vec<ClerkUserId>, UserError> {
        Ok(
            sqlx::query_scalar("SELECT clerk_user_id FROM users WHERE deleted_at IS NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Active users, for pages that show a count.
    pub async fn count_active(&self) -> Result<i64, UserError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM users WHERE deleted_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Locks the row of `id` (`FOR UPDATE`) inside the caller's transaction, so that a
    /// concurrent soft delete or role change waits for it.
    pub async fn lock_in(
        &self,
        conn: &mut PgConnection,
        id: UserId,
    ) -> Result<Option<LockedUser>, UserError> {
        Ok(sqlx::query_as(
            "SELECT clerk_user_id, name, role, deleted_at FROM users WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
    }

    /// True when `id` is an active admin, as the caller's transaction sees it.
    pub async fn is_active_admin_in(
        &self,
        conn: &mut PgConnection,
        id: UserId,
    ) -> Result<bool, UserError> {
        let admin: Option<bool> = sqlx::query_scalar(
            "SELECT role = 'admin' AND deleted_at IS NULL FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(admin == Some(true))
    }

    /// Active admins, as the caller's transaction sees them.
    pub async fn count_active_admins_in(&self, conn: &mut PgConnection) -> Result<i64, UserError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM users WHERE role = 'admin' AND deleted_at IS NULL",
        )
        .fetch_one(&mut *conn)
        .await?)
    }

    /// Sets the role of `id` inside the caller's transaction. The rules (last admin, audit)
    /// are the role service's; the caller invalidates after its commit
    /// ([`UserStore::invalidate_user`]).
    pub async fn set_role_in(
        &self,
        conn: &mut PgConnection,
        id: UserId,
        role: Role,
    ) -> Result<(), UserError> {
        sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
            .bind(id)
            .bind(role)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// Why a Clerk id has no active row: deleted, or never seen.
pub(super) async fn why_missing(
    conn: &mut PgConnection,
    clerk_user_id: &ClerkUserId,
) -> Result<UserError, sqlx::Error> {
    let deleted: Option<bool> =
        sqlx::query_scalar("SELECT deleted_at IS NOT NULL FROM users WHERE clerk_user_id = $1")
            .bind(clerk_user_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match deleted {
        Some(true) => UserError::Deleted,
        _ => UserError::NotFound,
    })
}

pub(super) fn validate(profile: &UserProfile) -> Result<(), UserError> {
    if profile.clerk_user_id.as_str().trim().is_empty() {
        return Err(UserError::Invalid("A Clerk user id is required.".into()));
    }
    if profile.name.trim().is_empty() || profile.name.chars().count() > MAX_NAME_LEN {
        return Err(UserError::Invalid(format!(
            "A name must have between 1 and {MAX_NAME_LEN} characters."
        )));
    }
    if !profile.email.contains('@') || profile.email.len() > MAX_EMAIL_LEN {
        return Err(UserError::Invalid("An email address is required.".into()));
    }
    Ok(())
}
