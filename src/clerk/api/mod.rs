//! Clerk's Backend API (the subset we use), over reqwest.
//!
//! One attempt per call; [`with_retries`] wraps a call in Clerk's retry etiquette (exponential
//! backoff with jitter on 429/5xx/unreachable, honouring `Retry-After`). Errors keep Clerk's
//! `clerk_trace_id` so that logs can be matched with Clerk's.

mod clients;
mod retry;
mod user;

pub use clients::HandshakePayload;
pub use retry::{with_retries, RetryPolicy};
pub use user::{ClerkEmailAddress, ClerkUser, ProfileError};

use crate::clerk::keys::Secret;
use crate::models::ClerkUserId;
use serde::Deserialize;
use std::time::Duration;

/// The `Clerk-API-Version` this client speaks (the one `@clerk/backend` 3.x sends).
pub const API_VERSION: &str = "2026-05-12";

/// The largest page `GET /v1/users` serves.
pub const MAX_PAGE_SIZE: u32 = 500;

#[derive(Clone)]
pub struct ClerkApi {
    http: reqwest::Client,
    /// `{CLERK_API_URL}/v1`, no trailing slash.
    base: String,
    secret_key: Secret,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClerkApiError {
    #[error("Clerk could not be reached: {0}")]
    Unreachable(String),
    #[error("Clerk answered {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        status: u16,
        code: Option<String>,
        message: String,
        trace_id: Option<String>,
        retry_after: Option<Duration>,
    },
    #[error("Clerk's answer could not be read: {0}")]
    Decode(String),
}

impl ClerkApiError {
    /// 429, 5xx and network failures are worth another try; other answers are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClerkApiError::Unreachable(_) => true,
            ClerkApiError::Status { status, .. } => *status == 429 || *status >= 500,
            ClerkApiError::Decode(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClerkApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn trace_id(&self) -> Option<&str> {
        match self {
            ClerkApiError::Status { trace_id, .. } => trace_id.as_deref(),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClerkApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
    #[serde(default)]
    clerk_trace_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    long_message: Option<String>,
}

/// A JSON Web Key Set, as `GET /v1/jwks` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<serde_json::Value>,
}

impl ClerkApi {
    pub fn new(api_url: &str, secret_key: Secret) -> Result<ClerkApi, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("building the Clerk API client: {error}"))?;
        Ok(ClerkApi {
            http,
            base: format!("{}/v1", api_url.trim_end_matches('/')),
            secret_key,
        })
    }

    pub async fn get_user(&self, id: &ClerkUserId) -> Result<ClerkUser, ClerkApiError> {
        let url = format!("{}/users/{}", self.base, encode_segment(id.as_str()));
        self.send(self.http.get(url)).await
    }

    /// `GET /v1/users?order_by=+created_at&limit=…&offset=…`: one page of users, oldest first
    /// (Clerk answers a bare array). The oldest-first order keeps offsets stable while users are
    /// created during a walk: new ones join the end, so none is skipped for that reason.
    pub async fn list_users(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<ClerkUser>, ClerkApiError> {
        let url = format!("{}/users", self.base);
        let query = [
            ("order_by", "+created_at".to_owned()),
            ("limit", limit.clamp(1, MAX_PAGE_SIZE).to_string()),
            ("offset", offset.to_string()),
        ];
        self.send(self.http.get(url).query(&query)).await
    }

    /// `GET /v1/users/count`: how many users the instance has.
    pub async fn count_users(&self) -> Result<u64, ClerkApiError> {
        #[derive(Deserialize)]
        struct TotalCount {
            total_count: u64,
        }
        let url = format!("{}/users/count", self.base);
        let count: TotalCount = self.send(self.http.get(url)).await?;
        Ok(count.total_count)
    }

    /// `PATCH /v1/users/{id}/metadata`: deep-merges `public_metadata` into what Clerk has
    /// (other keys are kept; a `null` value deletes a key).
    pub async fn merge_public_metadata(
        &self,
        id: &ClerkUserId,
        public_metadata: serde_json::Value,
    ) -> Result<ClerkUser, ClerkApiError> {
        let url = format!(
            "{}/users/{}/metadata",
            self.base,
            encode_segment(id.as_str())
        );
        let body = serde_json::json!({ "public_metadata": public_metadata });
        self.send(self.http.patch(url).json(&body)).await
    }

    /// `POST /v1/sessions/{id}/revoke`: signs the session out everywhere.
    pub async fn revoke_session(
        &self,
        session_id: &str,
    ) -> Result<serde_json::Value, ClerkApiError> {
        let url = format!(
            "{}/sessions/{}/revoke",
            self.base,
            encode_segment(session_id)
        );
        self.send(self.http.post(url)).await
    }

    pub async fn jwks(&self) -> Result<Jwks, ClerkApiError> {
        self.send(self.http.get(format!("{}/jwks", self.base)))
            .await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClerkApiError> {
        let response = request
            .bearer_auth(self.secret_key.expose())
            .header("Clerk-API-Version", API_VERSION)
            .send()
            .await
            .map_err(|error| ClerkApiError::Unreachable(without_url(error)))?;
        let status = response.status();
        if status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|error| ClerkApiError::Unreachable(without_url(error)))?;
            return serde_json::from_slice(&bytes)
                .map_err(|error| ClerkApiError::Decode(error.to_string()));
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let cf_ray = response
            .headers()
            .get("cf-ray")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body: Option<ErrorBody> = response
            .bytes()
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let (code, message, trace_id) = match body {
            Some(body) => {
                let first = body.errors.into_iter().next();
                let code = first.as_ref().and_then(|e| e.code.clone());
                let message = first
                    .and_then(|e| e.long_message.or(e.message))
                    .unwrap_or_else(|| status.to_string());
                (code, message, body.clerk_trace_id.or(cf_ray))
            }
            None => (None, status.to_string(), cf_ray),
        };
        Err(ClerkApiError::Status {
            status: status.as_u16(),
            code,
            message,
            trace_id,
            retry_after,
        })
    }
}

/// A reqwest error's text without the URL (which holds nothing secret, but is noise) — and
/// never the `Authorization` header, which reqwest does not print anyway.
fn without_url(error: reqwest::Error) -> String {
    error.without_url().to_string()
}

fn encode_segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
