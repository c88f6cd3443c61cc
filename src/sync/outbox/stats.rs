//! What the outbox holds, for the admin overview and `/metrics`.

use crate::models::UserId;
use sqlx::PgPool;
use std::time::Duration;

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
