//! Request parsing with Clerk's error codes: JSON bodies, typed fields, list query strings.

use crate::api_error::ApiError;
use crate::core::ListQuery;
use crate::util::query_pairs;
use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use serde_json::{Map, Value};

pub(super) fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
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

pub(super) fn type_name(v: &Value) -> &'static str {
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
pub(super) fn opt_str(m: &Map<String, Value>, k: &str) -> Result<Option<Option<String>>, ApiError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(other) => Err(ApiError::param_type_invalid(k, type_name(other), "string")),
    }
}

pub(super) fn opt_bool(m: &Map<String, Value>, k: &str) -> Result<Option<bool>, ApiError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::param_type_invalid(k, type_name(other), "boolean")),
    }
}

pub(super) fn str_array(m: &Map<String, Value>, k: &str) -> Result<Vec<String>, ApiError> {
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

pub(super) fn reject_unknown(m: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::param_unknown(k));
        }
    }
    Ok(())
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

pub(super) fn list_query(raw: Option<&str>, paging: bool) -> Result<ListQuery, ApiError> {
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
