//! The users table: SQL and cache in one place.
//!
//! # How a deleted user stays deleted
//! Deletion is a soft delete that redacts PII (name, email, image) and **keeps** the Clerk id
//! on the tombstone row. `users.clerk_user_id` is `UNIQUE NOT NULL`, and the upsert only updates
//! rows whose `deleted_at IS NULL`, so a later upsert for the same Clerk id finds the tombstone,
//! changes nothing and reports [`UserError::Deleted`]. The unique constraint, not application
//! logic, is what prevents a second row: no race can bring a user back. Clerk never reuses ids,
//! so keeping a retired one costs nothing, and two deletions can never collide the way the
//! seed's literal `"deleted"` id did.
//!
//! # Cache
//! Reads by id and by Clerk id are cached under the user's tags; every mutation invalidates
//! `global:users`, the user's id tag and its Clerk-id tag after the statement has committed.

use crate::cache::{CacheTags, Tag, TaggedCache};
use crate::users::model::{ClerkUserId, Role, User, UserId, UserProfile};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user not found")]
    NotFound,
    #[error("the user was deleted; Clerk ids are never reused, so it cannot come back")]
    Deleted,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum UserKey {
    Id(UserId),
    Clerk(ClerkUserId),
}

/// Access to `users`, with a read-through cache.
#[derive(Clone)]
pub struct UserStore {
    pool: PgPool,
    tags: Arc<CacheTags>,
    cache: TaggedCache<UserKey, Option<User>>,
}

/// The channel on which the database announces every change to `users`.
pub const USERS_CHANGED_CHANNEL: &str = "warden_users_changed";

const USER_COLUMNS: &str =
    "id, clerk_user_id, name, email, role, image_url, deleted_at, created_at, updated_at";

/// Longest accepted name and email: generous for people, small enough for pages and indexes.
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_EMAIL_LEN: usize = 320;

impl UserStore {
    pub fn new(pool: PgPool, tags: Arc<CacheTags>, max_entries: u64, ttl: Duration) -> Self {
        UserStore {
            cache: TaggedCache::new(tags.clone(), max_entries, ttl),
            pool,
            tags,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn invalidate(&self, user: &User) {
        self.tags.invalidate(&[
            Tag::all_users(),
            Tag::user(user.id),
            Tag::clerk_user(&user.clerk_user_id),
        ]);
    }

    /// Creates the user or updates name, email and image of the active user with this Clerk id.
    /// `role_if_new` is applied only when the row is created: afterwards the database owns the
    /// role. Returns [`UserError::Deleted`] for a deleted user, and changes nothing then.
    pub async fn insert_user(
        &self,
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
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(user) => {
                self.invalidate(&user);
                Ok(user)
            }
            // The conflict's WHERE filtered the row out: it is a tombstone.
            None => Err(UserError::Deleted),
        }
    }

    /// Updates name, email and image of an existing active user.
    pub async fn update_user(&self, profile: &UserProfile) -> Result<User, UserError> {
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
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(user) => {
                self.invalidate(&user);
                Ok(user)
            }
            None => Err(self.why_missing(&profile.clerk_user_id).await?),
        }
    }

    /// Soft-deletes the user: sets `deleted_at`, redacts PII and retires the Clerk id for good.
    pub async fn delete_user(&self, clerk_user_id: &ClerkUserId) -> Result<User, UserError> {
        let sql = format!(
            "UPDATE users
                SET deleted_at = now(), name = 'Deleted User',
                    email = 'redacted@deleted.com', image_url = NULL
             WHERE clerk_user_id = $1 AND deleted_at IS NULL
             RETURNING {USER_COLUMNS}"
        );
        let row: Option<User> = sqlx::query_as(&sql)
            .bind(clerk_user_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(user) => {
                self.invalidate(&user);
                Ok(user)
            }
            None => Err(self.why_missing(clerk_user_id).await?),
        }
    }

    async fn why_missing(&self, clerk_user_id: &ClerkUserId) -> Result<UserError, sqlx::Error> {
        let deleted: Option<bool> =
            sqlx::query_scalar("SELECT deleted_at IS NOT NULL FROM users WHERE clerk_user_id = $1")
                .bind(clerk_user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match deleted {
            Some(true) => UserError::Deleted,
            _ => UserError::NotFound,
        })
    }

    /// The active user with this id (cached). Deleted users are `None`.
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
        Ok(matches!(
            self.why_missing(clerk_user_id).await?,
            UserError::Deleted
        ))
    }

    /// Follows `warden_users_changed` (see the migration that announces every change to
    /// `users`) and invalidates this process's cache for each change made elsewhere: by another
    /// app instance, the CLI, or plain SQL. Runs until the task is aborted.
    pub fn follow_database_changes(&self) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        let tags = self.tags.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for user changes; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(error) = listener.listen(USERS_CHANGED_CHANNEL).await {
                    tracing::warn!(%error, "cannot listen for user changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // Anything may have changed while nobody was listening.
                tags.invalidate_everything();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            let mut ids = notification.payload().splitn(2, ' ');
                            match (ids.next(), ids.next()) {
                                (Some(id), Some(clerk_user_id)) => tags.invalidate(&[
                                    Tag::all_users(),
                                    Tag::user(id),
                                    Tag::clerk_user(clerk_user_id),
                                ]),
                                _ => tags.invalidate_everything(),
                            }
                        }
                        // The connection dropped and was re-established: changes were missed.
                        Ok(None) => tags.invalidate_everything(),
                        Err(error) => {
                            tracing::warn!(%error, "listening for user changes failed; reconnecting");
                            tags.invalidate_everything();
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        })
    }

    /// Active users, for pages that show a count.
    pub async fn count_active(&self) -> Result<i64, UserError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM users WHERE deleted_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

fn validate(profile: &UserProfile) -> Result<(), UserError> {
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
