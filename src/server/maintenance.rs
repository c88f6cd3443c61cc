//! The periodic housekeeping of a running app: forgetting processed webhook ids and finished
//! outbox jobs once nobody can need them. Safe with several instances on one database (each
//! prune is one idempotent `DELETE`).

use crate::sync::outbox;
use crate::webhooks;
use sqlx::PgPool;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct MaintenanceConfig {
    /// How often the prunes run.
    pub interval: Duration,
    /// How long processed `svix-id`s are remembered.
    pub webhook_retention: Duration,
    /// How long delivered and dropped outbox jobs are kept (parked ones stay).
    pub outbox_retention: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            interval: Duration::from_secs(600),
            webhook_retention: webhooks::PROCESSED_EVENT_RETENTION,
            outbox_retention: webhooks::PROCESSED_EVENT_RETENTION,
        }
    }
}

/// What one round removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub webhook_events: u64,
    pub outbox_jobs: u64,
}

/// One round of every prune.
pub async fn prune_once(pool: &PgPool, config: &MaintenanceConfig) -> Result<Pruned, sqlx::Error> {
    Ok(Pruned {
        outbox_jobs: outbox::prune_finished(pool, config.outbox_retention).await?,
        webhook_events: webhooks::prune_processed_events(pool, config.webhook_retention).await?,
    })
}

/// Runs [`prune_once`] now and every `interval` until the task is aborted.
pub fn spawn(pool: PgPool, config: MaintenanceConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(config.interval);
        loop {
            ticks.tick().await;
            match prune_once(&pool, &config).await {
                Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                    webhook_events = pruned.webhook_events,
                    outbox_jobs = pruned.outbox_jobs,
                    "pruned old webhook ids and outbox jobs"
                ),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %crate::db::describe_error(&error), "pruning failed")
                }
            }
        }
    })
}
