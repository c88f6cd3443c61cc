//! The users we hold that the walk did not list: confirmed with Clerk one by one, reported, and
//! soft-deleted with `--apply` exactly as a `user.deleted` webhook would.

use super::{
    apply_one, MissingUser, ReconcileError, ReconcileEvent, ReconcileOptions, ReconcileReport,
    MASS_DELETE_MIN,
};
use crate::clerk::api::{with_retries, ClerkApi};
use crate::models::ClerkUserId;
use crate::sync::outbox;
use crate::users::{UserStore, VersionedDelete};
use std::collections::HashSet;

pub(super) async fn settle_unlisted(
    users: &UserStore,
    api: &ClerkApi,
    options: &ReconcileOptions,
    progress: &mut impl FnMut(ReconcileEvent),
    seen: &HashSet<String>,
    report: &mut ReconcileReport,
) -> Result<(), ReconcileError> {
    let active = users.active_clerk_ids().await?;
    let held = active.len();
    let candidates: Vec<ClerkUserId> = active
        .into_iter()
        .filter(|id| !seen.contains(id.as_str()))
        .collect();
    progress(ReconcileEvent::Confirming {
        candidates: candidates.len(),
    });
    let mut confirmed = Vec::new();
    for clerk_user_id in candidates {
        match with_retries(options.retry, || api.get_user(&clerk_user_id)).await {
            // Not listed, yet Clerk has them: the walk's offsets moved, or they were created
            // after it. Apply them like any other.
            Ok(clerk_user) => apply_one(users, &clerk_user, report).await?,
            Err(error) if error.status() == Some(404) => confirmed.push(clerk_user_id),
            Err(error) => {
                return Err(ReconcileError::Clerk {
                    what: "checking a user it did not list",
                    error,
                })
            }
        }
    }
    for clerk_user_id in &confirmed {
        // None: a webhook deleted the user meanwhile, which leaves nothing to report.
        if let Some(user) = users.get_user_by_clerk_id(clerk_user_id).await? {
            report.missing.push(MissingUser {
                clerk_user_id: user.clerk_user_id,
                name: user.name,
                email: user.email,
            });
        }
    }
    if !options.apply || report.missing.is_empty() {
        return Ok(());
    }
    // A secret key of the wrong instance lists nobody and 404s everybody: most of our users
    // "missing" is far likelier a mistake than a fact, so it needs saying twice.
    if report.missing.len() >= MASS_DELETE_MIN
        && report.missing.len() * 2 > held
        && !options.allow_mass_delete
    {
        report.mass_delete_refused = true;
        return Ok(());
    }
    for missing in &report.missing {
        if soft_delete(users, &missing.clerk_user_id).await? {
            report.soft_deleted += 1;
        }
    }
    Ok(())
}

/// The deletion of a `user.deleted` webhook: soft delete with redaction, the pending metadata
/// job dropped, in one transaction; the cache after the commit. True when this run deleted it.
async fn soft_delete(
    users: &UserStore,
    clerk_user_id: &ClerkUserId,
) -> Result<bool, ReconcileError> {
    // Clerk's deletion has no timestamp we can read; now is after any version we saw.
    let version = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let version = i64::try_from(version).unwrap_or(i64::MAX);
    let mut tx = users.pool().begin().await?;
    let deleted = users
        .delete_clerk_version_in(&mut tx, clerk_user_id, version)
        .await?;
    if let VersionedDelete::Deleted(user) = &deleted {
        outbox::drop_pending_in(&mut tx, user.id).await?;
    }
    tx.commit().await?;
    Ok(match deleted {
        VersionedDelete::Deleted(user) | VersionedDelete::Tombstoned(user) => {
            users.invalidate_user(user.id, &user.clerk_user_id);
            true
        }
        VersionedDelete::AlreadyDeleted => false,
    })
}
