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
//! * Finished jobs (delivered, dropped) are pruned by the server's maintenance loop
//!   ([`prune_finished`]); parked ones stay until someone looks at them.
//!
//! This module owns every statement on `metadata_outbox`.

mod stats;
mod worker;

pub use stats::{outbox_stats, parked_jobs, OutboxStats, ParkedJob};
pub use worker::{Outbox, OutboxWorker};

use crate::clerk::api::ClerkApiError;
use crate::models::{Role, UserId};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

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

/// Gives up the pending job of a user who was deleted, inside the caller's transaction: there is
/// nothing left to tell Clerk.
pub async fn drop_pending_in(conn: &mut PgConnection, user_id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE metadata_outbox SET status = 'dropped', finished_at = now(),
                last_error = 'the user was deleted'
         WHERE user_id = $1 AND status = 'pending'",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes finished jobs (delivered, dropped) older than `older_than`; returns how many.
pub async fn prune_finished(pool: &PgPool, older_than: Duration) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM metadata_outbox
         WHERE status IN ('delivered', 'dropped')
           AND finished_at < now() - make_interval(secs => $1)",
    )
    .bind(older_than.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
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
