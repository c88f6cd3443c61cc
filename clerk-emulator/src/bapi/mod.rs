//! Backend API subset: `/v1/jwks`, `/v1/users…` with secret-key auth and Clerk's error bodies.

mod auth;
mod params;
mod users;

use crate::api_error::{json_response, ApiError};
use crate::Emulator;
use auth::{authenticate, guard, injected_failure};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use serde_json::{json, Value};
use users::{
    count_users, create_user, delete_user, get_user, list_users, patch_metadata, put_metadata,
    update_user,
};

pub(crate) fn routes() -> Router<Emulator> {
    Router::new()
        .route("/v1/jwks", get(jwks))
        .route("/v1/users", get(list_users).post(create_user))
        .route("/v1/users/count", get(count_users))
        .route(
            "/v1/users/{user_id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route(
            "/v1/users/{user_id}/metadata",
            patch(patch_metadata).put(put_metadata),
        )
        .route("/v1/sessions/{session_id}/revoke", post(revoke_session))
        .route("/v1/clients/handshake_payload", get(handshake_payload))
}

/// `GET /v1/clients/handshake_payload?nonce=…`: the directives of a `format=nonce` handshake,
/// handed over once.
async fn handshake_payload(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let q = crate::util::query_pairs(raw.as_deref());
    let nonce = crate::util::first(&q, "nonce").unwrap_or_default();
    match emu.op_take_handshake(nonce) {
        Some(directives) => Ok(ok(
            &json!({ "object": "handshake_payload", "directives": directives }),
        )),
        None => Err(ApiError::new(
            404,
            "resource_not_found",
            "not found",
            "No handshake payload was found for this nonce",
        )),
    }
}

/// `POST /v1/sessions/{id}/revoke`: how a server signs a person out (the browser's client keeps
/// its cookie, but the session behind it is gone, so the next handshake answers "signed out").
async fn revoke_session(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    if !emu.end_session(&session_id).await {
        return Err(ApiError::new(
            404,
            "resource_not_found",
            "not found",
            &format!("No session was found with id {session_id}"),
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Ok(ok(&json!({
        "object": "session",
        "id": session_id,
        "status": "revoked",
        "updated_at": now,
    })))
}

fn ok(v: &Value) -> Response {
    json_response(StatusCode::OK, v)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn jwks(State(emu): State<Emulator>, headers: HeaderMap) -> Result<Response, ApiError> {
    authenticate(&emu, &headers)?;
    if let Some(status) = emu.faults().take_jwks_failure() {
        return Err(injected_failure(status));
    }
    Ok(ok(&emu.jwks()))
}

impl IntoResponse for crate::EmulatorError {
    fn into_response(self) -> Response {
        ApiError::internal(500).into_response()
    }
}
