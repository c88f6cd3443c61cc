//! Probes for orchestrators and load balancers.
//!
//! - `/livez` (and `/healthz`, the name some expect): the process serves requests. It touches
//!   nothing, so a database outage never gets a healthy process restarted.
//! - `/readyz`: send traffic here. The database answers within [`READY_TIMEOUT`], else 503, so
//!   a load balancer drains this instance while its database is away and takes it back after.
//! - `/health`: the older name of `/readyz`, kept for deployments that use it.

use crate::app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use std::time::Duration;

/// Longer than a healthy database ever takes, shorter than a probe's own timeout.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn live() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

/// 200 when the database answers in time, 503 when it does not.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let check = sqlx::query("SELECT 1").execute(&state.pool);
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
