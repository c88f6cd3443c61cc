//! Applying a Clerk user to our database: the rules every way in shares.

use crate::clerk::api::ClerkUser;
use crate::models::Role;
use crate::sync::outbox;
use crate::users::{UserError, UserStore, VersionedUpsert};
use sqlx::PgConnection;

/// Whether applying also queues the `{dbId, role}` mirror for Clerk when Clerk's copy differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataMirror {
    /// Through the outbox, in the same transaction (webhooks, reconciling).
    Queue,
    /// The caller writes it itself (the sync route, whose person waits for it).
    Leave,
}

/// What applying a Clerk user did.
#[derive(Debug, Clone)]
pub struct AppliedUser {
    pub upsert: VersionedUpsert,
    /// A metadata job was queued.
    pub mirror_queued: bool,
}

/// Why a Clerk user could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The seed's rules need an email; no retry of the same data could supply one.
    #[error("the user has no email address")]
    NoEmail,
    /// Our rules reject the profile (e.g. a 500-character name).
    #[error("the profile was rejected: {0}")]
    Rejected(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<UserError> for ApplyError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Database(error) => ApplyError::Database(error),
            other => ApplyError::Rejected(other.to_string()),
        }
    }
}

/// Applies one version of a Clerk user inside the caller's transaction: name, email and image
/// follow Clerk when the version is newer than ours; a tombstone never changes; Clerk's
/// `public_metadata.role` seeds the role only when the row is created (afterwards the database
/// owns it; see README, "Role ownership"). The caller commits, then invalidates the user
/// ([`UserStore::invalidate_user`]) when the row changed.
pub async fn apply_clerk_user_in(
    conn: &mut PgConnection,
    users: &UserStore,
    clerk_user: &ClerkUser,
    mirror: MetadataMirror,
) -> Result<AppliedUser, ApplyError> {
    let profile = clerk_user.to_profile().map_err(|_| ApplyError::NoEmail)?;
    let role_if_new = clerk_user
        .metadata_str("role")
        .and_then(|role| role.parse::<Role>().ok());
    let upsert = users
        .upsert_clerk_version_in(conn, &profile, role_if_new, clerk_user.updated_at)
        .await?;
    let mut mirror_queued = false;
    // Only an applied version speaks for Clerk's current metadata: a stale one may predate the
    // write that already fixed it.
    if let VersionedUpsert::Created(user) | VersionedUpsert::Updated(user) = &upsert {
        if mirror == MetadataMirror::Queue
            && !outbox::metadata_matches(&clerk_user.public_metadata, user.id, user.role)
        {
            outbox::enqueue_metadata(conn, user.id).await?;
            mirror_queued = true;
        }
    }
    Ok(AppliedUser {
        upsert,
        mirror_queued,
    })
}

/// [`apply_clerk_user_in`] in a transaction of its own, with the cache invalidated after the
/// commit when the row changed.
pub async fn apply_clerk_user(
    users: &UserStore,
    clerk_user: &ClerkUser,
    mirror: MetadataMirror,
) -> Result<AppliedUser, ApplyError> {
    let mut tx = users.pool().begin().await?;
    let applied = apply_clerk_user_in(&mut tx, users, clerk_user, mirror).await?;
    tx.commit().await?;
    if let VersionedUpsert::Created(user) | VersionedUpsert::Updated(user) = &applied.upsert {
        users.invalidate_user(user.id, &user.clerk_user_id);
    }
    Ok(applied)
}
