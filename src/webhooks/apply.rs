//! The whole effect of one event: dedupe record, user change and outbox job in one
//! transaction, the cache after the commit.

use crate::models::{ClerkUserId, UserId};
use crate::sync::{apply_clerk_user_in, outbox, ApplyError, MetadataMirror};
use crate::users::{UserError, UserStore, VersionedDelete, VersionedUpsert};
use crate::webhooks::dedupe;
use crate::webhooks::event::UserEvent;
use sqlx::{PgConnection, PgPool};

/// What processing an event did (also the 200's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The `svix-id` was processed before: nothing changed.
    Duplicate,
    Created,
    Updated,
    Deleted,
    /// Tombstone for a user deleted before we saw it.
    Tombstoned,
    /// Older than what the database holds: nothing changed.
    Stale,
    /// The user is deleted here: nothing changed.
    AlreadyDeleted,
    /// Acknowledged without a change (no email, profile rejected).
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Duplicate => "duplicate",
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Deleted => "deleted",
            Outcome::Tombstoned => "tombstoned",
            Outcome::Stale => "stale",
            Outcome::AlreadyDeleted => "already deleted",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The result of [`apply_event_in`]: the outcome, the user whose cache must be invalidated
/// after the commit, and whether a metadata job was queued.
#[derive(Debug, Clone)]
pub struct Applied {
    pub outcome: Outcome,
    pub touched: Option<(UserId, ClerkUserId)>,
    pub enqueued: bool,
}

/// The whole effect of one event, inside the caller's transaction: dedupe record, user change,
/// outbox job. The caller commits, then invalidates `touched`.
pub async fn apply_event_in(
    conn: &mut PgConnection,
    users: &UserStore,
    svix_id: &str,
    event_type: &str,
    event: &UserEvent,
) -> Result<Applied, sqlx::Error> {
    let first_time = dedupe::record_in(conn, svix_id, event_type).await?;
    let mut applied = Applied {
        outcome: Outcome::Duplicate,
        touched: None,
        enqueued: false,
    };
    if !first_time {
        return Ok(applied);
    }
    match event {
        UserEvent::Upsert(clerk_user) => {
            let result = apply_clerk_user_in(conn, users, clerk_user, MetadataMirror::Queue).await;
            let (outcome, user) = match result {
                Ok(user) => {
                    applied.enqueued = user.mirror_queued;
                    match user.upsert {
                        VersionedUpsert::Created(user) => (Outcome::Created, user),
                        VersionedUpsert::Updated(user) => (Outcome::Updated, user),
                        VersionedUpsert::Stale(user) => (Outcome::Stale, user),
                        VersionedUpsert::Deleted(user) => (Outcome::AlreadyDeleted, user),
                    }
                }
                Err(ApplyError::Database(error)) => return Err(error),
                Err(error) => {
                    // No retry of this message could ever pass it.
                    tracing::warn!(svix_id, clerk_user = %clerk_user.id, %error,
                        "acknowledged without storing");
                    applied.outcome = Outcome::Skipped;
                    return Ok(applied);
                }
            };
            applied.outcome = outcome;
            applied.touched = Some((user.id, user.clerk_user_id));
        }
        UserEvent::Deleted { id, at_ms } => {
            match users.delete_clerk_version_in(conn, id, *at_ms).await {
                Ok(VersionedDelete::Deleted(user)) => {
                    // Nothing left to tell Clerk about this user.
                    outbox::drop_pending_in(conn, user.id).await?;
                    applied.outcome = Outcome::Deleted;
                    applied.touched = Some((user.id, user.clerk_user_id));
                }
                Ok(VersionedDelete::Tombstoned(user)) => {
                    applied.outcome = Outcome::Tombstoned;
                    applied.touched = Some((user.id, user.clerk_user_id));
                }
                Ok(VersionedDelete::AlreadyDeleted) => applied.outcome = Outcome::AlreadyDeleted,
                Err(UserError::Database(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(svix_id, %error, "acknowledged without a change: bad deletion");
                    applied.outcome = Outcome::Skipped;
                }
            }
        }
    }
    Ok(applied)
}

/// One event in its own transaction, then the cache. Public for the benchmark and tests.
pub async fn process(
    pool: &PgPool,
    users: &UserStore,
    svix_id: &str,
    event_type: &str,
    event: &UserEvent,
) -> Result<Applied, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let applied = apply_event_in(&mut tx, users, svix_id, event_type, event).await?;
    tx.commit().await?;
    if let Some((id, clerk_user_id)) = &applied.touched {
        users.invalidate_user(*id, clerk_user_id);
    }
    Ok(applied)
}
