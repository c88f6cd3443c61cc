//! The delivering side of the outbox: claims due jobs, writes Clerk's metadata, and retries,
//! parks or drops them by the policy of the module above.

use super::{metadata_for, OutboxConfig};
use crate::clerk::api::ClerkApi;
use crate::models::UserId;
use crate::users::UserStore;
use sqlx::PgPool;
use tokio::task::JoinHandle;

/// A claimed job.
#[derive(Debug, sqlx::FromRow)]
struct Job {
    id: i64,
    user_id: UserId,
    generation: i32,
    attempts: i32,
}

/// The delivering side of the outbox.
#[derive(Clone)]
pub struct Outbox {
    pool: PgPool,
    users: UserStore,
    api: ClerkApi,
    config: OutboxConfig,
}

impl Outbox {
    pub fn new(users: UserStore, api: ClerkApi, config: OutboxConfig) -> Outbox {
        Outbox {
            pool: users.pool().clone(),
            users,
            api,
            config,
        }
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
        let outcome = self.attempt(job).await?;
        metrics::counter!("warden_outbox_delivery_attempts_total", "outcome" => outcome)
            .increment(1);
        Ok(())
    }

    /// Delivers one job; returns what became of the attempt: `delivered` (Clerk took the
    /// write), `retry`, `parked` or `dropped`.
    async fn attempt(&self, job: Job) -> Result<&'static str, sqlx::Error> {
        // The current row, not a payload: the job delivers whatever the database holds now.
        let target = match self.users.get_stored(job.user_id).await? {
            Some(target) if !target.is_deleted() => target,
            _ => {
                tracing::info!(job = job.id, user = %job.user_id, "outbox job dropped: the user was deleted");
                self.finish(&job, "dropped", Some("the user was deleted"))
                    .await?;
                return Ok("dropped");
            }
        };
        let metadata = metadata_for(job.user_id, target.role);
        match self
            .api
            .merge_public_metadata(&target.clerk_user_id, metadata)
            .await
        {
            Ok(_) => self.succeed(&job).await.map(|()| "delivered"),
            Err(error) if error.status() == Some(404) => {
                tracing::info!(job = job.id, clerk_user = %target.clerk_user_id, "outbox job dropped: Clerk no longer has the user");
                self.finish(&job, "dropped", Some(&error.to_string()))
                    .await
                    .map(|()| "dropped")
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
                Ok("retry")
            }
            Err(error) => {
                tracing::error!(job = job.id, clerk_user = %target.clerk_user_id, attempt = job.attempts,
                    %error, trace_id = error.trace_id(), "metadata write parked: needs attention");
                self.finish(&job, "parked", Some(&error.to_string()))
                    .await
                    .map(|()| "parked")
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

    /// Runs the worker loop in a task until [`OutboxWorker::shutdown`].
    pub fn spawn(self) -> OutboxWorker {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
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
