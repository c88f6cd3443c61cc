//! What a reconcile did, counted: the report the command line prints.

use crate::clerk::api::ClerkApiError;
use crate::models::ClerkUserId;
use crate::sync::ApplyError;
use crate::users::{UserError, VersionedUpsert};

/// How many failures a report keeps the reason of (the count stays exact).
pub const FAILURE_SAMPLES: usize = 5;

/// The outcome of a reconcile run (or of the part of it that ran, see [`Interrupted`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Users Clerk said it had when the run began (`GET /v1/users/count`).
    pub clerk_total: u64,
    /// Users Clerk listed (or confirmed one by one) during this run.
    pub seen: u64,
    pub created: u64,
    pub updated: u64,
    /// We already held this version of the user, or a newer one.
    pub unchanged: u64,
    /// Clerk still lists them, but they are deleted here: the tombstone wins.
    pub kept_deleted: u64,
    /// Metadata jobs queued because Clerk's `{dbId, role}` differs from ours.
    pub metadata_queued: u64,
    /// Active users we hold that Clerk confirmed it no longer has.
    pub missing: Vec<MissingUser>,
    /// Whether the missing users were soft-deleted (`--apply`).
    pub applied: bool,
    pub soft_deleted: u64,
    /// Set when `--apply` was refused because the missing users were most of ours.
    pub mass_delete_refused: bool,
    pub failed: u64,
    /// The first [`FAILURE_SAMPLES`] failures, with their reasons.
    pub failures: Vec<Failure>,
}

/// An active user of ours that Clerk no longer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingUser {
    pub clerk_user_id: ClerkUserId,
    pub name: String,
    pub email: String,
}

/// A Clerk user that could not be applied, and why (never Clerk's whole record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub clerk_user_id: String,
    pub reason: String,
}

impl ReconcileReport {
    pub(super) fn count(&mut self, upsert: &VersionedUpsert, mirror_queued: bool) {
        match upsert {
            VersionedUpsert::Created(_) => self.created += 1,
            VersionedUpsert::Updated(_) => self.updated += 1,
            VersionedUpsert::Stale(_) => self.unchanged += 1,
            VersionedUpsert::Deleted(_) => self.kept_deleted += 1,
        }
        if mirror_queued {
            self.metadata_queued += 1;
        }
    }

    pub(super) fn fail(&mut self, clerk_user_id: &str, error: &ApplyError) {
        self.failed += 1;
        if self.failures.len() < FAILURE_SAMPLES {
            self.failures.push(Failure {
                clerk_user_id: clerk_user_id.to_owned(),
                reason: error.to_string(),
            });
        }
    }
}

/// Why a run stopped before the end.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("Clerk failed while {what}: {error}")]
    Clerk {
        what: &'static str,
        error: ClerkApiError,
    },
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Users(#[from] UserError),
}

/// A run that stopped before the end: why, and what it had done by then. Everything it did
/// is committed and safe to keep; running again finishes the job.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Interrupted {
    pub error: ReconcileError,
    pub partial: ReconcileReport,
}
