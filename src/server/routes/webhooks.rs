//! `POST /api/webhooks/clerk`: Clerk's webhooks, delivered by Svix (the rules are `webhooks`').

use crate::app::state::AppState;
use crate::error::AppError;
use crate::webhooks::verify::{now_secs, Verifier};
use crate::webhooks::{parse_event, process};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where Clerk's dashboard points the webhook endpoint.
pub const WEBHOOK_PATH: &str = "/api/webhooks/clerk";

/// `POST /api/webhooks/clerk`: verify, parse, apply; 2xx only after the commit.
pub async fn clerk_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verifier = match Verifier::new(state.clerk.webhook_signing_secret.expose()) {
        Ok(verifier) => verifier,
        Err(error) => return AppError::internal(error).into_response(),
    };
    let verified = match verifier.verify(&headers, &body, now_secs()) {
        Ok(verified) => verified,
        Err(rejection) => {
            count("unverified", "rejected");
            return reject(rejection.to_string(), None);
        }
    };
    let svix_id = verified.svix_id.as_str();
    let (event_type, event) = match parse_event(&body, verified.timestamp) {
        Ok(parsed) => parsed,
        Err(error) => {
            count("unparsed", "rejected");
            return reject(error.to_string(), Some(svix_id));
        }
    };
    let Some(event) = event else {
        count(&event_type, "ignored");
        tracing::info!(
            svix_id,
            event_type,
            "ignored a Clerk event of a type we do not handle"
        );
        return (StatusCode::OK, "ignored").into_response();
    };
    match process(&state.pool, &state.users, svix_id, &event_type, &event).await {
        Ok(applied) => {
            count(&event_type, applied.outcome.as_str());
            tracing::info!(
                svix_id,
                event_type,
                outcome = applied.outcome.as_str(),
                enqueued = applied.enqueued,
                "processed a Clerk event"
            );
            (StatusCode::OK, applied.outcome.as_str()).into_response()
        }
        // 503 when the database is unreachable, an opaque 500 otherwise; the cause is logged
        // by the conversion. Either way Svix retries.
        Err(error) => {
            count(&event_type, "failed");
            AppError::from(error).into_response()
        }
    }
}

/// Counts a delivery by event type and what came of it. Event types are Clerk's (only a
/// verified body is read for one), so the label stays bounded.
fn count(event_type: &str, outcome: &'static str) {
    metrics::counter!(
        "warden_webhook_events_total",
        "event_type" => event_type.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

fn reject(reason: String, svix_id: Option<&str>) -> Response {
    tracing::warn!(svix_id, reason, "rejected a webhook delivery");
    (StatusCode::BAD_REQUEST, reason).into_response()
}
