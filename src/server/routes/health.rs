//! `GET /health`: liveness and readiness in one.

use crate::app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// 200 when the database answers, 503 when it does not.
pub async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
