//! Reconciling: bringing every user of an existing Clerk instance in, and finding the users we
//! hold that Clerk no longer has (`warden users reconcile`).
//!
//! # Why it is safe to run at any time
//! Each listed user goes through [`apply_clerk_user_in`], the same versioned rules as the
//! webhooks, in a transaction of its own: a version older than ours changes nothing, a
//! tombstone never changes, and the role is seeded only when the row is created. Webhooks may
//! arrive during a run in any order; a run stopped half-way keeps what it committed, and the
//! next run finishes the job.
//!
//! # Why "missing" is confirmed one by one
//! Pages are walked oldest first by offset. Users created during the walk join the end, so none
//! is skipped for that; but a user deleted in Clerk during the walk shifts the later offsets by
//! one, and the user that slid into the gap is never listed. So a user counts as missing only
//! when the walk did not list them **and** `GET /v1/users/{id}` answers 404; one that Clerk
//! still has is applied then and there.

mod missing;
mod report;

pub use report::{
    Failure, Interrupted, MissingUser, ReconcileError, ReconcileReport, FAILURE_SAMPLES,
};

use crate::clerk::api::{with_retries, ClerkApi, ClerkUser, RetryPolicy, MAX_PAGE_SIZE};
use crate::sync::{apply_clerk_user_in, outbox, ApplyError, MetadataMirror};
use crate::users::{UserStore, VersionedUpsert};
use std::collections::HashSet;
use std::time::Duration;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// Soft-delete the users Clerk no longer has (otherwise they are only reported).
    pub apply: bool,
    /// Soft-delete them even when they are most of our users (see [`MASS_DELETE_MIN`]).
    pub allow_mass_delete: bool,
    /// Users per `GET /v1/users` page (at most 500).
    pub page_size: u32,
    pub retry: RetryPolicy,
}

/// Below this many missing users, `--apply` never needs `allow_mass_delete`.
pub const MASS_DELETE_MIN: usize = 10;

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions {
            apply: false,
            allow_mass_delete: false,
            page_size: MAX_PAGE_SIZE,
            retry: patient_retries(),
        }
    }
}

/// Nobody waits on a reconcile the way a person waits on a page, and a 429 during a walk of
/// thousands of users is expected: wait as long as Clerk asks (up to two minutes per answer)
/// and try more often than a request would.
pub fn patient_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(120),
    }
}

/// What a run tells its caller while it works (the command line draws it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileEvent {
    /// Clerk has `total` users.
    Started { total: u64 },
    /// A page was applied: `done` users so far (it can pass `total` when users are created
    /// during the run).
    Page { done: u64, total: u64 },
    /// The walk is over; `candidates` users we hold were not listed and are being checked.
    Confirming { candidates: usize },
}

/// Runs a reconcile (see the module's header). `progress` hears of each page.
pub async fn reconcile(
    users: &UserStore,
    api: &ClerkApi,
    options: &ReconcileOptions,
    progress: &mut impl FnMut(ReconcileEvent),
) -> Result<ReconcileReport, Interrupted> {
    let mut report = ReconcileReport {
        applied: options.apply,
        ..ReconcileReport::default()
    };
    match run(users, api, options, progress, &mut report).await {
        Ok(()) => Ok(report),
        Err(error) => Err(Interrupted {
            error,
            partial: report,
        }),
    }
}

async fn run(
    users: &UserStore,
    api: &ClerkApi,
    options: &ReconcileOptions,
    progress: &mut impl FnMut(ReconcileEvent),
    report: &mut ReconcileReport,
) -> Result<(), ReconcileError> {
    let policy = options.retry;
    report.clerk_total = with_retries(policy, || api.count_users())
        .await
        .map_err(|error| ReconcileError::Clerk {
            what: "counting the users",
            error,
        })?;
    progress(ReconcileEvent::Started {
        total: report.clerk_total,
    });
    let page_size = options.page_size.clamp(1, MAX_PAGE_SIZE);
    // Clerk's count only sizes the set: an absurd one must not become an absurd allocation.
    let capacity = usize::try_from(report.clerk_total.min(1_000_000)).unwrap_or(0);
    let mut seen: HashSet<String> = HashSet::with_capacity(capacity);
    let mut offset: u64 = 0;
    loop {
        let page = with_retries(policy, || api.list_users(page_size, offset))
            .await
            .map_err(|error| ReconcileError::Clerk {
                what: "listing the users",
                error,
            })?;
        let listed = page.len();
        for clerk_user in &page {
            // A user listed twice (offsets shift when Clerk deletes during the walk) is
            // counted once.
            if seen.insert(clerk_user.id.clone()) {
                apply_one(users, clerk_user, report).await?;
            }
        }
        offset += listed as u64;
        if listed > 0 {
            progress(ReconcileEvent::Page {
                done: report.seen,
                total: report.clerk_total.max(report.seen),
            });
        }
        if listed < page_size as usize {
            break;
        }
    }
    missing::settle_unlisted(users, api, options, progress, &seen, report).await
}

/// Applies one Clerk user in a transaction of its own and counts what happened. Only the
/// database failing stops the run; a user our rules reject is a counted failure.
async fn apply_one(
    users: &UserStore,
    clerk_user: &ClerkUser,
    report: &mut ReconcileReport,
) -> Result<(), ReconcileError> {
    report.seen += 1;
    match apply_in_own_transaction(users, clerk_user).await {
        Ok((upsert, mirror_queued)) => {
            report.count(&upsert, mirror_queued);
            Ok(())
        }
        Err(ApplyError::Database(error)) => Err(ReconcileError::Database(error)),
        Err(error) => {
            tracing::warn!(clerk_user = %clerk_user.id, %error, "reconcile: not applied");
            report.fail(&clerk_user.id, &error);
            Ok(())
        }
    }
}

async fn apply_in_own_transaction(
    users: &UserStore,
    clerk_user: &ClerkUser,
) -> Result<(VersionedUpsert, bool), ApplyError> {
    let mut tx = users.pool().begin().await?;
    let applied = apply_clerk_user_in(&mut tx, users, clerk_user, MetadataMirror::Queue).await?;
    let mut mirror_queued = applied.mirror_queued;
    // The webhook rule queues the mirror only for an applied version, because a delayed event
    // may predate the write that fixed Clerk's copy. A listed copy is Clerk's current one, so
    // for an unchanged user a difference is real drift (say, a job parked long ago); and the
    // job carries no payload (the worker reads the current row), so even a copy overtaken
    // meanwhile costs at most one redundant write.
    if let VersionedUpsert::Stale(user) = &applied.upsert {
        if !outbox::metadata_matches(&clerk_user.public_metadata, user.id, user.role) {
            outbox::enqueue_metadata(&mut tx, user.id).await?;
            mirror_queued = true;
        }
    }
    tx.commit().await?;
    if let VersionedUpsert::Created(user) | VersionedUpsert::Updated(user) = &applied.upsert {
        users.invalidate_user(user.id, &user.clerk_user_id);
    }
    Ok((applied.upsert, mirror_queued))
}
