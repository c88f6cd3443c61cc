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
use sqlx::{PgConnection, PgPool};
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

/// What a deleted user's PII becomes (the tombstone keeps only ids and dates).
const REDACTED_NAME: &str = "Deleted User";
const REDACTED_EMAIL: &str = "redacted@deleted.com";

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
        self.invalidate_user(user.id, &user.clerk_user_id);
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

    /// Creates the user or updates name, email and image of the active user with this Clerk id.
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

    /// Applies one version of a Clerk user (`version` = Clerk's `updated_at`, ms) inside the
    /// caller's transaction, only if it is newer than the version the row holds: the upsert
    /// for events that arrive in any order. Name, email and image follow the version; the role
    /// is `role_if_new` only when the row is created (the database owns it afterwards).
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
        let sql = format!(
            "INSERT INTO users (clerk_user_id, name, email, image_url, role, clerk_updated_at)
             VALUES ($1, $2, $3, $4, COALESCE($5, 'user'::user_role), $6)
             ON CONFLICT (clerk_user_id) DO UPDATE
                SET name = EXCLUDED.name, email = EXCLUDED.email, image_url = EXCLUDED.image_url,
                    clerk_updated_at = EXCLUDED.clerk_updated_at
                WHERE users.deleted_at IS NULL
                  AND (users.clerk_updated_at IS NULL
                       OR users.clerk_updated_at < EXCLUDED.clerk_updated_at)
             RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted"
        );
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
        let mut conn = self.pool.acquire().await?;
        Ok(matches!(
            why_missing(&mut conn, clerk_user_id).await?,
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

/// A row with `(xmax = 0) AS inserted`: true when the upsert inserted it.
#[derive(sqlx::FromRow)]
struct WithInserted {
    #[sqlx(flatten)]
    user: User,
    inserted: bool,
}

async fn why_missing(
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
