//! `webhook_events`: the `svix-id`s already processed (this module owns the table).

use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// The statement of [`record_in`], `$1` being the `svix-id` and `$2` the event type. Public so
/// that the webhooks bench can run this very statement through pgbench as its ceiling.
#[doc(hidden)]
pub const RECORD_SQL: &str = "INSERT INTO webhook_events (svix_id, event_type) VALUES ($1, $2)
         ON CONFLICT (svix_id) DO NOTHING";

/// Records `svix_id` inside the caller's transaction; false when it was processed before.
pub async fn record_in(
    conn: &mut PgConnection,
    svix_id: &str,
    event_type: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(RECORD_SQL)
        .bind(svix_id)
        .bind(event_type)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// Forgets processed `svix-id`s older than `older_than`; returns how many.
pub async fn prune_processed_events(
    pool: &PgPool,
    older_than: Duration,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM webhook_events WHERE received_at < now() - make_interval(secs => $1)",
    )
    .bind(older_than.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}
