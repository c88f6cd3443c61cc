//! The sync on sign-in (the seed's `syncUsers`): copy a person from Clerk's Backend API into
//! our database, and write `{dbId, role}` back into their Clerk `public_metadata` when Clerk's
//! copy differs (a merge: other keys are kept). A person waits for it, so the metadata is
//! written at once (with Clerk's retry etiquette) rather than queued.

use crate::clerk::api::{with_retries, ClerkApi, ClerkApiError, RetryPolicy};
use crate::error::AppError;
use crate::models::{ClerkUserId, User};
use crate::sync::apply::{apply_clerk_user, ApplyError, MetadataMirror};
use crate::sync::outbox::{metadata_for, metadata_matches};
use crate::users::{UserStore, VersionedUpsert};

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Clerk failed while {what}: {error}")]
    Clerk {
        what: &'static str,
        error: ClerkApiError,
    },
    #[error("the user is deleted here")]
    Deleted,
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

impl From<SyncError> for AppError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Clerk { what, error } => clerk_failure(what, error),
            SyncError::Deleted => AppError::Forbidden("This account has been deleted.".into()),
            SyncError::Apply(ApplyError::NoEmail) => AppError::Unprocessable(
                "Your Clerk account has no email address. Add one to your account, then try again."
                    .into(),
            ),
            SyncError::Apply(ApplyError::Rejected(message)) => AppError::Unprocessable(message),
            SyncError::Apply(ApplyError::Database(error)) => error.into(),
        }
    }
}

/// Fetches the user from Clerk, applies them (versioned like the webhooks, so that a delayed
/// older event cannot undo this sync), and mirrors `{dbId, role}` into Clerk when needed.
pub async fn sync_from_clerk(
    users: &UserStore,
    api: &ClerkApi,
    clerk_user_id: &ClerkUserId,
) -> Result<User, SyncError> {
    let policy = RetryPolicy::default();
    let clerk_user = with_retries(policy, || api.get_user(clerk_user_id))
        .await
        .map_err(|error| SyncError::Clerk {
            what: "fetching the user",
            error,
        })?;
    let applied = apply_clerk_user(users, &clerk_user, MetadataMirror::Leave).await?;
    let user = match applied.upsert {
        // Stale: we already hold this version or a newer one (a webhook got here first).
        VersionedUpsert::Created(user)
        | VersionedUpsert::Updated(user)
        | VersionedUpsert::Stale(user) => user,
        VersionedUpsert::Deleted(_) => return Err(SyncError::Deleted),
    };
    if !metadata_matches(&clerk_user.public_metadata, user.id, user.role) {
        let metadata = metadata_for(user.id, user.role);
        with_retries(policy, || {
            api.merge_public_metadata(clerk_user_id, metadata.clone())
        })
        .await
        .map_err(|error| SyncError::Clerk {
            what: "writing the user's metadata",
            error,
        })?;
    }
    Ok(user)
}

fn clerk_failure(what: &str, error: ClerkApiError) -> AppError {
    tracing::error!(
        %error,
        trace_id = error.trace_id(),
        status = error.status(),
        "Clerk failed while {what}"
    );
    match error.status() {
        Some(404) => AppError::NotFound("Clerk does not know this account any more.".into()),
        Some(401) | Some(403) => AppError::internal("Clerk refused our secret key"),
        _ => AppError::BadGateway(
            "Clerk could not be reached just now. Nothing was lost: please try again.".into(),
        ),
    }
}
