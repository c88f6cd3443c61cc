//! Backend API subset: `/v1/jwks`, `/v1/users…` with secret-key auth and Clerk's error bodies.

use crate::api_error::{json_response, ApiError};
use crate::core::{CreateUser, ListQuery, MetadataPatch, ReqInfo, UpdateUser};
use crate::util::query_pairs;
use crate::Emulator;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use serde_json::{json, Map, Value};

/// API version this emulator speaks (what `@clerk/backend` 3.x sends).
pub(crate) const LATEST_API_VERSION: &str = "2026-05-12";

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

/// Secret-key auth + `Clerk-API-Version` check. Returns the API version in force.
fn authenticate(emu: &Emulator, headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::header_format_invalid());
    };
    let raw = raw
        .to_str()
        .map_err(|_| ApiError::header_format_invalid())?;
    let Some(token) = raw.strip_prefix("Bearer ") else {
        return Err(ApiError::header_format_invalid());
    };
    let expected = emu.config().secret_key.as_bytes();
    let given = token.trim().as_bytes();
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(ApiError::key_invalid());
    }
    match headers.get("clerk-api-version") {
        None => Ok(LATEST_API_VERSION.to_string()),
        Some(v) => {
            let v = v.to_str().unwrap_or("").trim();
            let well_formed = v.len() == 10
                && v.chars().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !well_formed {
                return Err(ApiError::api_version_invalid(&format!(
                    "{v:?} is not a valid version, expected a date like {LATEST_API_VERSION}"
                )));
            }
            if !("2021-02-05"..=LATEST_API_VERSION).contains(&v) {
                return Err(ApiError::api_version_invalid(&format!(
                    "version {v} is not supported"
                )));
            }
            Ok(v.to_string())
        }
    }
}

fn injected_failure(status: u16) -> ApiError {
    if status == 429 {
        ApiError::too_many_requests(1)
    } else {
        ApiError::internal(status)
    }
}

/// Auth, then fault injection.
fn guard(emu: &Emulator, headers: &HeaderMap) -> Result<String, ApiError> {
    let version = authenticate(emu, headers)?;
    if let Some(status) = emu.faults().take_bapi_failure() {
        return Err(injected_failure(status));
    }
    Ok(version)
}

fn rate_limit(emu: &Emulator, user_id: &str) -> Result<(), ApiError> {
    emu.faults()
        .check_metadata_write(user_id)
        .map_err(ApiError::too_many_requests)
}

fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::unsupported_content_type(mime));
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::body_invalid()),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// absent → None, null → Some(None), string → Some(Some(s)).
fn opt_str(m: &Map<String, Value>, k: &str) -> Result<Option<Option<String>>, ApiError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(other) => Err(ApiError::param_type_invalid(k, type_name(other), "string")),
    }
}

fn opt_bool(m: &Map<String, Value>, k: &str) -> Result<Option<bool>, ApiError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::param_type_invalid(k, type_name(other), "boolean")),
    }
}

fn str_array(m: &Map<String, Value>, k: &str) -> Result<Vec<String>, ApiError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(ApiError::param_type_invalid(k, type_name(other), "string")),
            })
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(ApiError::param_type_invalid(k, type_name(other), "array")),
    }
}

fn reject_unknown(m: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::param_unknown(k));
        }
    }
    Ok(())
}

async fn jwks(State(emu): State<Emulator>, headers: HeaderMap) -> Result<Response, ApiError> {
    authenticate(&emu, &headers)?;
    if let Some(status) = emu.faults().take_jwks_failure() {
        return Err(injected_failure(status));
    }
    Ok(ok(&emu.jwks()))
}

const ORDER_FIELDS: &[&str] = &[
    "created_at",
    "updated_at",
    "email_address",
    "web3wallet",
    "first_name",
    "last_name",
    "phone_number",
    "username",
    "last_active_at",
    "last_sign_in_at",
];

fn list_query(raw: Option<&str>, paging: bool) -> Result<ListQuery, ApiError> {
    let pairs = query_pairs(raw);
    let mut q = ListQuery::default();
    for (k, v) in &pairs {
        let key = k.trim_end_matches("[]");
        match key {
            "limit" if paging => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| {
                        ApiError::param_value_invalid(
                            "limit",
                            "limit must be an integer between 1 and 500.",
                        )
                    })?;
            }
            "offset" if paging => {
                q.offset = v.parse::<usize>().map_err(|_| {
                    ApiError::param_value_invalid(
                        "offset",
                        "offset must be an integer greater or equal to zero.",
                    )
                })?;
            }
            "order_by" if paging => {
                let (desc, field) = match v.as_bytes().first() {
                    Some(b'-') => (true, &v[1..]),
                    Some(b'+') => (false, &v[1..]),
                    _ => (false, v.as_str()),
                };
                if !ORDER_FIELDS.contains(&field) {
                    return Err(ApiError::param_value_invalid(
                        "order_by",
                        &format!(
                            "{v} does not match one of the allowed values for parameter order_by"
                        ),
                    ));
                }
                q.order_field = field.to_string();
                q.order_desc = desc;
            }
            "query" if !v.is_empty() => q.query = Some(v.clone()),
            "email_address" => q.email_addresses.push(v.clone()),
            "user_id" => q
                .user_ids
                .push(v.trim_start_matches(['+', '-']).to_string()),
            "username" => q.usernames.push(v.clone()),
            "external_id" => q
                .external_ids
                .push(v.trim_start_matches(['+', '-']).to_string()),
            _ => {}
        }
    }
    for (name, list) in [
        ("email_address", &q.email_addresses),
        ("user_id", &q.user_ids),
        ("username", &q.usernames),
        ("external_id", &q.external_ids),
    ] {
        if list.len() > 100 {
            return Err(ApiError::param_value_invalid(
                name,
                &format!("{name} accepts at most 100 values."),
            ));
        }
    }
    Ok(q)
}

async fn list_users(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let q = list_query(raw.as_deref(), true)?;
    let (users, _) = emu.op_list(&q);
    Ok(ok(&to_json(&users)))
}

async fn count_users(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let mut q = list_query(raw.as_deref(), false)?;
    q.limit = usize::MAX;
    let (_, total) = emu.op_list(&q);
    Ok(ok(&json!({"object": "total_count", "total_count": total})))
}

async fn get_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    match emu.get_user(&user_id).await {
        Some(u) => Ok(ok(&to_json(&u))),
        None => Err(ApiError::user_not_found(&user_id)),
    }
}

const CREATE_KEYS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "email_address",
    "email_address_identification_status",
    "phone_number",
    "phone_number_identification_status",
    "web3_wallet",
    "username",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "skip_password_requirement",
    "totp_secret",
    "backup_codes",
    "public_metadata",
    "private_metadata",
    "unsafe_metadata",
    "delete_self_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "skip_user_requirement",
    "create_organization_enabled",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
];

async fn create_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let m = json_body(&headers, &body)?;
    reject_unknown(&m, CREATE_KEYS)?;
    for unsupported in ["phone_number", "web3_wallet"] {
        if !str_array(&m, unsupported)?.is_empty() {
            return Err(ApiError::param_value_invalid(
                unsupported,
                &format!("{unsupported} is not supported by this Clerk emulator."),
            ));
        }
    }
    let input = CreateUser {
        email_addresses: str_array(&m, "email_address")?,
        first_name: opt_str(&m, "first_name")?.flatten(),
        last_name: opt_str(&m, "last_name")?.flatten(),
        username: opt_str(&m, "username")?.flatten(),
        external_id: opt_str(&m, "external_id")?.flatten(),
        image_url: None,
        public_metadata: m.get("public_metadata").cloned(),
        private_metadata: m.get("private_metadata").cloned(),
        unsafe_metadata: m.get("unsafe_metadata").cloned(),
        delete_self_enabled: opt_bool(&m, "delete_self_enabled")?,
        create_organization_enabled: opt_bool(&m, "create_organization_enabled")?,
    };
    let user = emu.op_create_user(input, &ReqInfo::from_headers(&headers))?;
    Ok(ok(&to_json(&user)))
}

const UPDATE_KEYS: &[&str] = &[
    "external_id",
    "first_name",
    "last_name",
    "locale",
    "primary_email_address_id",
    "notify_primary_email_address_changed",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "username",
    "profile_image_id",
    "password",
    "password_digest",
    "password_hasher",
    "skip_password_checks",
    "sign_out_of_other_sessions",
    "totp_secret",
    "backup_codes",
    "delete_self_enabled",
    "create_organization_enabled",
    "legal_accepted_at",
    "skip_legal_checks",
    "create_organizations_limit",
    "created_at",
    "bypass_client_trust",
];

async fn update_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let version = guard(&emu, &headers)?;
    let m = json_body(&headers, &body)?;
    // Metadata on PATCH /users/{id} was removed in API version 2026-05-12.
    let legacy = version.as_str() < LATEST_API_VERSION;
    let metadata_keys = ["public_metadata", "private_metadata", "unsafe_metadata"];
    for k in m.keys() {
        if !(UPDATE_KEYS.contains(&k.as_str()) || (legacy && metadata_keys.contains(&k.as_str()))) {
            return Err(ApiError::param_unknown(k));
        }
    }
    let limit = match m.get("create_organizations_limit") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => match v.as_i64() {
            Some(n) => Some(Some(n)),
            None => {
                return Err(ApiError::param_type_invalid(
                    "create_organizations_limit",
                    type_name(v),
                    "integer",
                ))
            }
        },
    };
    let upd = UpdateUser {
        first_name: opt_str(&m, "first_name")?,
        last_name: opt_str(&m, "last_name")?,
        username: opt_str(&m, "username")?,
        external_id: opt_str(&m, "external_id")?,
        locale: opt_str(&m, "locale")?,
        primary_email_address_id: opt_str(&m, "primary_email_address_id")?.flatten(),
        primary_email: None,
        image_url: None,
        delete_self_enabled: opt_bool(&m, "delete_self_enabled")?,
        create_organization_enabled: opt_bool(&m, "create_organization_enabled")?,
        create_organizations_limit: limit,
        public_metadata: m.get("public_metadata").cloned(),
        private_metadata: m.get("private_metadata").cloned(),
        unsafe_metadata: m.get("unsafe_metadata").cloned(),
    };
    if emu.get_user(&user_id).await.is_none() {
        return Err(ApiError::user_not_found(&user_id));
    }
    rate_limit(&emu, &user_id)?;
    let user = emu.op_update_user(&user_id, upd, &ReqInfo::from_headers(&headers))?;
    Ok(ok(&to_json(&user)))
}

async fn metadata(
    emu: Emulator,
    headers: HeaderMap,
    user_id: String,
    body: Bytes,
    replace: bool,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let m = json_body(&headers, &body)?;
    reject_unknown(
        &m,
        &["public_metadata", "private_metadata", "unsafe_metadata"],
    )?;
    if emu.get_user(&user_id).await.is_none() {
        return Err(ApiError::user_not_found(&user_id));
    }
    rate_limit(&emu, &user_id)?;
    let p = MetadataPatch {
        public_metadata: m.get("public_metadata").cloned(),
        private_metadata: m.get("private_metadata").cloned(),
        unsafe_metadata: m.get("unsafe_metadata").cloned(),
    };
    let user = emu.op_update_metadata(&user_id, p, replace, &ReqInfo::from_headers(&headers))?;
    Ok(ok(&to_json(&user)))
}

async fn patch_metadata(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    metadata(emu, headers, user_id, body, false).await
}

async fn put_metadata(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    metadata(emu, headers, user_id, body, true).await
}

async fn delete_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let data = emu.op_delete_user(&user_id, &ReqInfo::from_headers(&headers))?;
    Ok(ok(&data))
}

impl IntoResponse for crate::EmulatorError {
    fn into_response(self) -> Response {
        ApiError::internal(500).into_response()
    }
}
