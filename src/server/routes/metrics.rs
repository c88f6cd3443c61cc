//! `GET /metrics`: Prometheus text format (version 0.0.4) gauges of the metadata outbox.

use crate::app::state::AppState;
use crate::error::AppError;
use crate::sync::outbox::{outbox_stats, OutboxStats};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn metrics(State(state): State<AppState>) -> Response {
    match outbox_stats(&state.pool).await {
        Ok(stats) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            render(&stats),
        )
            .into_response(),
        Err(error) => AppError::from(error).into_response(),
    }
}

/// The gauges, one `# HELP`/`# TYPE` pair each.
pub fn render(stats: &OutboxStats) -> String {
    let oldest = stats
        .oldest_pending_age
        .map(|age| age.as_secs_f64())
        .unwrap_or(0.0);
    let gauges: [(&str, &str, String); 4] = [
        (
            "warden_outbox_pending",
            "Metadata jobs waiting for delivery to Clerk.",
            stats.pending.to_string(),
        ),
        (
            "warden_outbox_parked",
            "Metadata jobs given up on; they need an admin.",
            stats.parked.to_string(),
        ),
        (
            "warden_outbox_delivered_recent",
            "Metadata jobs delivered in the last hour.",
            stats.delivered_recent.to_string(),
        ),
        (
            "warden_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending metadata job (0 when none).",
            format!("{oldest:.3}"),
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in gauges {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    text
}
