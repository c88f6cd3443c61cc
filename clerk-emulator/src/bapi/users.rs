//! `/v1/users…` handlers.

use super::auth::{guard, rate_limit, LATEST_API_VERSION};
use super::params::{
    json_body, list_query, opt_bool, opt_str, reject_unknown, str_array, type_name,
};
use super::{ok, to_json};
use crate::api_error::ApiError;
use crate::core::{CreateUser, MetadataPatch, ReqInfo, UpdateUser};
use crate::Emulator;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

pub(super) async fn list_users(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let q = list_query(raw.as_deref(), true)?;
    let (users, _) = emu.op_list(&q);
    Ok(ok(&to_json(&users)))
}

pub(super) async fn count_users(
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

pub(super) async fn get_user(
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

pub(super) async fn create_user(
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

pub(super) async fn update_user(
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
    emu.count_metadata_write(&user_id);
    Ok(ok(&to_json(&user)))
}

pub(super) async fn patch_metadata(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    metadata(emu, headers, user_id, body, false).await
}

pub(super) async fn put_metadata(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    metadata(emu, headers, user_id, body, true).await
}

pub(super) async fn delete_user(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    guard(&emu, &headers)?;
    let data = emu.op_delete_user(&user_id, &ReqInfo::from_headers(&headers))?;
    Ok(ok(&data))
}
