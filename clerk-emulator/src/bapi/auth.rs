//! Who may call BAPI (the secret key), which API version they speak, and the injected
//! failures tests ask for.

use crate::api_error::ApiError;
use crate::Emulator;
use axum::http::{header, HeaderMap};

/// API version this emulator speaks (what `@clerk/backend` 3.x sends).
pub(super) const LATEST_API_VERSION: &str = "2026-05-12";

/// Secret-key auth + `Clerk-API-Version` check. Returns the API version in force.
pub(super) fn authenticate(emu: &Emulator, headers: &HeaderMap) -> Result<String, ApiError> {
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

pub(super) fn injected_failure(status: u16) -> ApiError {
    if status == 429 {
        ApiError::too_many_requests(1)
    } else {
        ApiError::internal(status)
    }
}

/// Auth, then fault injection.
pub(super) fn guard(emu: &Emulator, headers: &HeaderMap) -> Result<String, ApiError> {
    let version = authenticate(emu, headers)?;
    if let Some(status) = emu.faults().take_bapi_failure() {
        return Err(injected_failure(status));
    }
    Ok(version)
}

pub(super) fn rate_limit(emu: &Emulator, user_id: &str) -> Result<(), ApiError> {
    emu.faults()
        .check_metadata_write(user_id)
        .map_err(ApiError::too_many_requests)
}
