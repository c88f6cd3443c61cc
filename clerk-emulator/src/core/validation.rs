//! Input rules shared by user creation and update.

use crate::api_error::ApiError;
use serde_json::{json, Value};

pub(super) fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.contains('@')
        && e.len() <= 320
}

pub(super) fn valid_username(u: &str) -> bool {
    (4..=64).contains(&u.chars().count())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

pub(super) fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub(super) fn metadata_object(name: &str, v: Option<Value>) -> Result<Option<Value>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(json!({}))),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ApiError::param_value_invalid(
            name,
            &format!("{name} must be a valid key-value object"),
        )),
    }
}
