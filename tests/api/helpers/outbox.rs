//! The metadata outbox: a quick worker, its jobs, and waiting until deliveries and jobs settle.

use super::database::count;
use sqlx::PgPool;
use std::time::Duration;
use warden::app::state::AppState;
use warden::sync::outbox::{Outbox, OutboxConfig, OutboxWorker};

/// How long a test waits for webhooks and jobs before it fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// Outbox settings for tests: quick polls and short backoff.
pub fn fast_outbox() -> OutboxConfig {
    OutboxConfig {
        poll_interval: Duration::from_millis(50),
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        max_attempts: 30,
        ..OutboxConfig::default()
    }
}

pub fn start_worker(state: &AppState, config: OutboxConfig) -> OutboxWorker {
    Outbox::new(state.users.clone(), state.clerk.api.0.clone(), config).spawn()
}

/// The outbox's jobs: (pending, delivered, parked).
pub async fn job_counts(pool: &PgPool) -> (i64, i64, i64) {
    let pending = count(
        pool,
        "SELECT count(*) FROM metadata_outbox WHERE status = 'pending'",
    )
    .await;
    let delivered = count(
        pool,
        "SELECT count(*) FROM metadata_outbox WHERE status = 'delivered'",
    )
    .await;
    let parked = count(
        pool,
        "SELECT count(*) FROM metadata_outbox WHERE status = 'parked'",
    )
    .await;
    (pending, delivered, parked)
}

/// Waits until the provider has nothing in flight and the outbox nothing pending, three times
/// in a row (a delivery can enqueue a job that produces a delivery).
pub async fn settle(provider: &clerk_emulator::Emulator, pool: &PgPool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut quiet = 0;
    while quiet < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for webhooks and outbox to settle"
        );
        tokio::time::timeout(WAIT, provider.webhooks_idle())
            .await
            .expect("webhooks idle");
        quiet = if job_counts(pool).await.0 == 0 {
            quiet + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits until `check` holds (polling), or panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
