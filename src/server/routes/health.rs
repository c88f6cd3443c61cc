//! The probes: `/livez` (and its alias `/healthz`) says the process serves, `/readyz` that it
//! can do its work (the database answers), and `/health`, the older name, checks the database
//! as `/readyz` does.

use crate::app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use std::time::Duration;

/// How long `/readyz` waits for the database: an orchestrator's probe gives up after a few
/// seconds, and an answer (503) is more use to it than its own timeout.
const READY_TIMEOUT: Duration = Duration::from_millis(1500);

/// Liveness: touches nothing, so a slow or absent database never gets the process restarted.
pub async fn live() -> &'static str {
    "ok"
}

/// Readiness: 200 while the database answers within [`READY_TIMEOUT`], 503 meanwhile.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let check = sqlx::query("SELECT 1").execute(&state.pool);
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "readiness check failed");
            unavailable()
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "readiness check timed out");
            unavailable()
        }
    }
}

/// 200 when the database answers, 503 when it does not (kept for existing monitors).
pub async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "health check failed");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, &'static str) {
    (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
}
