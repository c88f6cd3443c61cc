//! The durable outbox that mirrors `{dbId, role}` into each user's Clerk `public_metadata`.
//!
//! # Why an outbox
//! The database owns `dbId` and `role`; Clerk carries a copy so that session tokens can hold
//! them. Writing to Clerk inside a request would either lose the write (Clerk down, process
//! killed) or hold a transaction open across the network. Instead, whoever changes what Clerk
//! must mirror calls [`enqueue_metadata`] **inside its own transaction**: the job commits with
//! the change or not at all, and a worker delivers it later. All state lives in the
//! `metadata_outbox` table, so jobs survive restarts.
//!
//! # Delivery policy
//! * Jobs are claimed with `FOR UPDATE SKIP LOCKED` and a lease (`leased_until`): several app
//!   instances never deliver the same job at once, and a job whose worker died is picked up
//!   again when its lease expires.
//! * The worker reads the user's **current** row when it delivers (the job holds no payload),
//!   and writes with `PATCH /v1/users/{id}/metadata`, a deep merge that keeps other keys.
//! * One pending job per user: a new enqueue coalesces into it and bumps its `generation`.
//!   A worker that delivered an older generation leaves the job pending (due at once), so a
//!   change committed during a delivery is always delivered too.
//! * Failures that retries can fix (5xx, 429, network) are retried with exponential backoff
//!   and full jitter (`base_delay · 2^(attempt-1)`, capped at `max_delay`, times a random
//!   factor in [0.5, 1]); a 429's `Retry-After` wins over the backoff.
//! * After `max_attempts` attempts, or at once for an answer retries cannot fix (401, 403,
//!   422, …), the job is **parked**: kept with its last error, counted by [`outbox_stats`] and
//!   `GET /metrics`, never retried by itself. A new enqueue for that user starts a new job.
//! * A job whose user was deleted meanwhile (here, or in Clerk: 404) is **dropped**.
//! * Finished jobs (delivered, dropped) are pruned after `retention`; parked ones stay until
//!   someone looks at them.

use crate::clerk::api::ClerkApiError;
use crate::clerk::ClerkContext;
use crate::state::AppState;
use crate::users::{ClerkUserId, Role, UserId};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Queues a metadata write for `user_id`, inside the caller's transaction. Coalesces with a
/// pending job of the same user. The public contract other modules code against.
pub async fn enqueue_metadata(conn: &mut PgConnection, user_id: UserId) -> Result<(), sqlx::Error> {
    // A job in backoff keeps its schedule (Clerk is failing; hurrying helps nobody); an idle
    // or leased one becomes due now, so that a change made during a delivery follows quickly.
    sqlx::query(
        "INSERT INTO metadata_outbox (user_id) VALUES ($1)
         ON CONFLICT (user_id) WHERE status = 'pending' DO UPDATE
            SET generation = metadata_outbox.generation + 1,
                next_attempt_at = CASE WHEN metadata_outbox.leased_until IS NULL
                                            AND metadata_outbox.attempts > 0
                                       THEN metadata_outbox.next_attempt_at
                                       ELSE now() END",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The metadata Clerk should hold for a user: `{dbId, role}`.
pub fn metadata_for(user_id: UserId, role: Role) -> Value {
    json!({ "dbId": user_id.to_string(), "role": role.as_str() })
}

/// True when Clerk's `public_metadata` already holds what [`metadata_for`] would write, i.e.
/// when a write would change nothing (and only trigger another `user.updated`).
pub fn metadata_matches(public_metadata: &Value, user_id: UserId, role: Role) -> bool {
    let db_id = public_metadata.get("dbId").and_then(Value::as_str);
    let clerk_role = public_metadata.get("role").and_then(Value::as_str);
    db_id == Some(user_id.to_string().as_str()) && clerk_role == Some(role.as_str())
}

/// Tuning of the worker. The defaults suit production; tests shorten the delays.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
    /// Jobs claimed (and delivered concurrently) per round.
    pub batch_size: i64,
    /// How long a claimed job belongs to its worker; longer than one Backend API call (10 s).
    pub lease: Duration,
    /// Attempts before a job is parked.
    pub max_attempts: i32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How long finished jobs and processed webhook ids are kept.
    pub retention: Duration,
    pub prune_interval: Duration,
}

impl Default for OutboxConfig {
    /// 12 attempts with delays of 2 s, 4 s, … capped at 10 min: about an hour of trying
    /// before a job is parked.
    fn default() -> Self {
        OutboxConfig {
            poll_interval: Duration::from_secs(1),
            batch_size: 16,
            lease: Duration::from_secs(60),
            max_attempts: 12,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            retention: crate::webhooks::PROCESSED_EVENT_RETENTION,
            prune_interval: Duration::from_secs(600),
        }
    }
}

impl OutboxConfig {
    /// Backoff before attempt `attempts + 1`, or Clerk's `Retry-After` when it sent one.
    pub fn retry_delay(&self, attempts: i32, error: &ClerkApiError) -> Duration {
        // A little jitter on Retry-After too, so that many jobs do not return in one burst.
        let jitter = rand::random::<f64>();
        if let Some(retry_after) = error.retry_after() {
            return retry_after + Duration::from_millis((jitter * 250.0) as u64);
        }
        let exponent = attempts.saturating_sub(1).clamp(0, 20) as u32;
        let exponential = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max_delay);
        exponential.mul_f64(0.5 + jitter / 2.0)
    }
}

/// A job that gave up after its attempts: Clerk's metadata for this user is out of step.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ParkedJob {
    pub user_id: UserId,
    pub name: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub parked_at: Option<time::OffsetDateTime>,
}

/// Counts for admins and `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxStats {
    pub pending: i64,
    pub parked: i64,
    /// Delivered in the last hour.
    pub delivered_recent: i64,
    /// Age of the oldest pending job, if any.
    pub oldest_pending_age: Option<Duration>,
}

pub async fn outbox_stats(pool: &PgPool) -> Result<OutboxStats, sqlx::Error> {
    let (pending, parked, delivered_recent, oldest): (i64, i64, i64, Option<f64>) =
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'pending'),
                    count(*) FILTER (WHERE status = 'parked'),
                    count(*) FILTER (WHERE status = 'delivered'
                                       AND finished_at > now() - interval '1 hour'),
                    EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8
             FROM metadata_outbox",
        )
        .fetch_one(pool)
        .await?;
    Ok(OutboxStats {
        pending,
        parked,
        delivered_recent,
        oldest_pending_age: oldest.map(|secs| Duration::from_secs_f64(secs.max(0.0))),
    })
}

/// A job that gave up, for the admin overview (newest first, at most `limit`).
pub async fn parked_jobs(pool: &PgPool, limit: i64) -> Result<Vec<ParkedJob>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.user_id, u.name, o.attempts, o.last_error, o.finished_at AS parked_at
         FROM metadata_outbox o JOIN users u ON u.id = o.user_id
         WHERE o.status = 'parked'
         ORDER BY o.finished_at DESC NULLS LAST, o.id DESC
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A claimed job.
#[derive(Debug, sqlx::FromRow)]
struct Job {
    id: i64,
    user_id: UserId,
    generation: i32,
    attempts: i32,
}

/// What the job writes to.
#[derive(sqlx::FromRow)]
struct Target {
    clerk_user_id: ClerkUserId,
    role: Role,
    deleted: bool,
}

/// The delivering side of the outbox.
#[derive(Clone)]
pub struct Outbox {
    pool: PgPool,
    clerk: Arc<ClerkContext>,
    config: OutboxConfig,
}

impl Outbox {
    pub fn new(pool: PgPool, clerk: Arc<ClerkContext>, config: OutboxConfig) -> Outbox {
        Outbox {
            pool,
            clerk,
            config,
        }
    }

    pub fn from_state(state: &AppState, config: OutboxConfig) -> Outbox {
        Outbox::new(state.pool.clone(), state.clerk.clone(), config)
    }

    /// Claims the due jobs (up to `batch_size`) and delivers them concurrently. Returns how
    /// many were claimed.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let jobs: Vec<Job> = sqlx::query_as(
            "WITH due AS (
                SELECT id FROM metadata_outbox
                WHERE status = 'pending' AND next_attempt_at <= now()
                  AND (leased_until IS NULL OR leased_until < now())
                ORDER BY next_attempt_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED)
             UPDATE metadata_outbox o
                SET attempts = o.attempts + 1,
                    leased_until = now() + make_interval(secs => $2)
             FROM due WHERE o.id = due.id
             RETURNING o.id, o.user_id, o.generation, o.attempts",
        )
        .bind(self.config.batch_size)
        .bind(self.config.lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        let claimed = jobs.len();
        let mut deliveries = tokio::task::JoinSet::new();
        for job in jobs {
            let outbox = self.clone();
            deliveries.spawn(async move { outbox.deliver(job).await });
        }
        let mut first_error = None;
        while let Some(result) = deliveries.join_next().await {
            match result {
                Ok(Ok(())) => {}
                // The job stays leased and is retried when the lease expires.
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                Err(join_error) => {
                    tracing::error!(error = %join_error, "an outbox delivery task failed");
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(claimed),
        }
    }

    async fn deliver(&self, job: Job) -> Result<(), sqlx::Error> {
        let target: Option<Target> = sqlx::query_as(
            "SELECT clerk_user_id, role, deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1",
        )
        .bind(job.user_id)
        .fetch_optional(&self.pool)
        .await?;
        let target = match target {
            Some(target) if !target.deleted => target,
            _ => {
                tracing::info!(job = job.id, user = %job.user_id, "outbox job dropped: the user was deleted");
                return self
                    .finish(&job, "dropped", Some("the user was deleted"))
                    .await;
            }
        };
        let metadata = metadata_for(job.user_id, target.role);
        match self
            .clerk
            .api
            .merge_public_metadata(&target.clerk_user_id, metadata)
            .await
        {
            Ok(_) => self.succeed(&job).await,
            Err(error) if error.status() == Some(404) => {
                tracing::info!(job = job.id, clerk_user = %target.clerk_user_id, "outbox job dropped: Clerk no longer has the user");
                self.finish(&job, "dropped", Some(&error.to_string())).await
            }
            Err(error) if error.is_retryable() && job.attempts < self.config.max_attempts => {
                let delay = self.config.retry_delay(job.attempts, &error);
                tracing::warn!(job = job.id, clerk_user = %target.clerk_user_id, attempt = job.attempts,
                    %error, trace_id = error.trace_id(), ?delay, "metadata write failed; will retry");
                sqlx::query(
                    "UPDATE metadata_outbox
                        SET leased_until = NULL, last_error = $2,
                            next_attempt_at = now() + make_interval(secs => $3)
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(job.id)
                .bind(error.to_string())
                .bind(delay.as_secs_f64())
                .execute(&self.pool)
                .await?;
                Ok(())
            }
            Err(error) => {
                tracing::error!(job = job.id, clerk_user = %target.clerk_user_id, attempt = job.attempts,
                    %error, trace_id = error.trace_id(), "metadata write parked: needs attention");
                self.finish(&job, "parked", Some(&error.to_string())).await
            }
        }
    }

    async fn succeed(&self, job: &Job) -> Result<(), sqlx::Error> {
        // A newer generation was enqueued while we delivered: keep the job, due now.
        sqlx::query(
            "UPDATE metadata_outbox
                SET status = CASE WHEN generation = $2 THEN 'delivered' ELSE 'pending' END,
                    finished_at = CASE WHEN generation = $2 THEN now() END,
                    attempts = CASE WHEN generation = $2 THEN attempts ELSE 0 END,
                    leased_until = NULL, last_error = NULL, next_attempt_at = now()
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(job.id)
        .bind(job.generation)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn finish(
        &self,
        job: &Job,
        status: &str,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE metadata_outbox
                SET status = $2, finished_at = now(), leased_until = NULL, last_error = $3
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(job.id)
        .bind(status)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes finished jobs and processed webhook ids older than `retention`. Returns how
    /// many rows of each went.
    pub async fn prune(&self) -> Result<(u64, u64), sqlx::Error> {
        let retention = self.config.retention.as_secs_f64();
        let jobs = sqlx::query(
            "DELETE FROM metadata_outbox
             WHERE status IN ('delivered', 'dropped')
               AND finished_at < now() - make_interval(secs => $1)",
        )
        .bind(retention)
        .execute(&self.pool)
        .await?
        .rows_affected();
        let events =
            crate::webhooks::prune_processed_events(&self.pool, self.config.retention).await?;
        Ok((jobs, events))
    }

    /// Runs the worker loop in a task until [`OutboxWorker::shutdown`].
    pub fn spawn(self) -> OutboxWorker {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut last_prune: Option<tokio::time::Instant> = None;
            loop {
                if last_prune.is_none_or(|at| at.elapsed() >= self.config.prune_interval) {
                    match self.prune().await {
                        Ok((jobs, events)) => {
                            last_prune = Some(tokio::time::Instant::now());
                            if jobs + events > 0 {
                                tracing::info!(
                                    jobs,
                                    events,
                                    "pruned old outbox jobs and webhook ids"
                                );
                            }
                        }
                        Err(error) => {
                            tracing::warn!(error = %crate::db::describe_error(&error), "pruning failed")
                        }
                    }
                }
                let busy = match self.run_once().await {
                    // A full batch: there may be more due right now.
                    Ok(claimed) => claimed as i64 >= self.config.batch_size,
                    Err(error) => {
                        tracing::warn!(error = %crate::db::describe_error(&error), "outbox round failed");
                        false
                    }
                };
                if !busy {
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = stopped.changed() => {}
                    }
                }
                if *stopped.borrow() {
                    break;
                }
            }
        });
        OutboxWorker { stop, task }
    }
}

/// A running worker; stops between two rounds (an in-flight delivery finishes first).
pub struct OutboxWorker {
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl OutboxWorker {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the outbox worker ended badly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_matches_only_the_same_id_and_role() {
        let id = UserId(uuid::Uuid::new_v4());
        let metadata = metadata_for(id, Role::Admin);
        assert!(metadata_matches(&metadata, id, Role::Admin));
        assert!(!metadata_matches(&metadata, id, Role::User));
        assert!(!metadata_matches(&json!({}), id, Role::Admin));
        assert!(!metadata_matches(
            &json!({"role": "admin"}),
            id,
            Role::Admin
        ));
        let mut extra = metadata.clone();
        extra["department"] = json!("engineering");
        assert!(
            metadata_matches(&extra, id, Role::Admin),
            "other keys do not matter"
        );
    }

    #[test]
    fn backoff_grows_is_capped_and_retry_after_wins() {
        let config = OutboxConfig::default();
        let server = ClerkApiError::Status {
            status: 500,
            code: None,
            message: String::new(),
            trace_id: None,
            retry_after: None,
        };
        let first = config.retry_delay(1, &server);
        assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
        let late = config.retry_delay(30, &server);
        assert!(late <= config.max_delay && late >= config.max_delay / 2);
        let limited = ClerkApiError::Status {
            status: 429,
            code: None,
            message: String::new(),
            trace_id: None,
            retry_after: Some(Duration::from_secs(7)),
        };
        let delay = config.retry_delay(1, &limited);
        assert!(delay >= Duration::from_secs(7) && delay < Duration::from_millis(7250));
    }
}
