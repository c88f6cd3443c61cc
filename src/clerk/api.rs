//! Clerk's Backend API (the subset we use), over reqwest.
//!
//! One attempt per call; [`with_retries`] wraps a call in Clerk's retry etiquette (exponential
//! backoff with jitter on 429/5xx/unreachable, honouring `Retry-After`). Errors keep Clerk's
//! `clerk_trace_id` so that logs can be matched with Clerk's.

use crate::clerk::keys::Secret;
use crate::users::{ClerkUserId, UserProfile};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `Clerk-API-Version` this client speaks (the one `@clerk/backend` 3.x sends).
pub const API_VERSION: &str = "2026-05-12";

#[derive(Clone)]
pub struct ClerkApi {
    http: reqwest::Client,
    /// `{CLERK_API_URL}/v1`, no trailing slash.
    base: String,
    secret_key: Secret,
}

/// A Clerk `User`, as the Backend API and the `user.*` webhooks carry it (the fields we use;
/// unknown fields are ignored, missing optional ones default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkUser {
    pub id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub has_image: Option<bool>,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    #[serde(default)]
    pub email_addresses: Vec<ClerkEmailAddress>,
    #[serde(default)]
    pub public_metadata: serde_json::Value,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub created_at: i64,
    /// Milliseconds since the epoch; orders the versions of a user.
    #[serde(default)]
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkEmailAddress {
    pub id: String,
    pub email_address: String,
}

/// Why a Clerk user cannot become one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the Clerk user {0} has no email address")]
    NoEmail(String),
}

impl ClerkUser {
    /// The seed's rule: full name, then first name, then last name, then username, then "User".
    pub fn display_name(&self) -> String {
        let first = non_blank(&self.first_name);
        let last = non_blank(&self.last_name);
        match (first, last) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (Some(first), None) => first.to_owned(),
            (None, Some(last)) => last.to_owned(),
            (None, None) => non_blank(&self.username).unwrap_or("User").to_owned(),
        }
    }

    /// The primary email address; failing that, the first one.
    pub fn primary_email(&self) -> Option<&str> {
        let primary = self
            .primary_email_address_id
            .as_deref()
            .and_then(|primary| {
                self.email_addresses
                    .iter()
                    .find(|address| address.id == primary)
            });
        primary
            .or_else(|| self.email_addresses.first())
            .map(|address| address.email_address.as_str())
            .filter(|email| !email.trim().is_empty())
    }

    /// Clerk serves a generated avatar when the user has none; we keep only real images.
    fn real_image_url(&self) -> Option<String> {
        if self.has_image == Some(false) {
            return None;
        }
        non_blank(&self.image_url).map(str::to_owned)
    }

    pub fn to_profile(&self) -> Result<UserProfile, ProfileError> {
        let email = self
            .primary_email()
            .ok_or_else(|| ProfileError::NoEmail(self.id.clone()))?;
        Ok(UserProfile {
            clerk_user_id: ClerkUserId::new(&self.id),
            name: self.display_name(),
            email: email.trim().to_owned(),
            image_url: self.real_image_url(),
        })
    }

    /// `public_metadata.<key>` as a string, if it is one.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.public_metadata.get(key).and_then(|v| v.as_str())
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
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

/// How often and how patiently to retry a Backend API call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// For calls a person waits for: a few quick tries.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter, or the server's `Retry-After` when it gave one.
    pub fn delay(&self, attempt: u32, error: &ClerkApiError) -> Duration {
        if let Some(retry_after) = error.retry_after() {
            return retry_after;
        }
        let exponential = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_delay);
        let jitter = rand::random::<f64>();
        exponential.mul_f64(0.5 + jitter / 2.0)
    }
}

/// Runs `call` until it succeeds, fails for good, or the attempts run out.
pub async fn with_retries<T, F, Fut>(policy: RetryPolicy, mut call: F) -> Result<T, ClerkApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClerkApiError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_retryable() && attempt + 1 < policy.max_attempts => {
                let delay = policy.delay(attempt, &error);
                if delay > policy.max_delay {
                    // Clerk asks for more patience than this caller has: give up now.
                    return Err(error);
                }
                tracing::warn!(%error, trace_id = error.trace_id(), attempt, ?delay, "Clerk API call failed; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(first: Option<&str>, last: Option<&str>, username: Option<&str>) -> ClerkUser {
        ClerkUser {
            id: "user_1".into(),
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            username: username.map(Into::into),
            image_url: None,
            has_image: None,
            primary_email_address_id: Some("idn_2".into()),
            email_addresses: vec![
                ClerkEmailAddress {
                    id: "idn_1".into(),
                    email_address: "old@x.io".into(),
                },
                ClerkEmailAddress {
                    id: "idn_2".into(),
                    email_address: "main@x.io".into(),
                },
            ],
            public_metadata: serde_json::json!({}),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_name_follows_the_seeds_order() {
        assert_eq!(
            user(Some("Ada"), Some("Lovelace"), Some("ada")).display_name(),
            "Ada Lovelace"
        );
        assert_eq!(user(Some("Ada"), None, Some("ada")).display_name(), "Ada");
        assert_eq!(
            user(None, Some("Lovelace"), Some("ada")).display_name(),
            "Lovelace"
        );
        assert_eq!(user(Some("  "), None, Some("ada")).display_name(), "ada");
        assert_eq!(user(None, None, None).display_name(), "User");
    }

    #[test]
    fn the_primary_email_wins() {
        assert_eq!(user(None, None, None).primary_email(), Some("main@x.io"));
        let mut no_email = user(None, None, None);
        no_email.email_addresses.clear();
        assert_eq!(
            no_email.to_profile(),
            Err(ProfileError::NoEmail("user_1".into()))
        );
    }

    #[test]
    fn the_shared_webhook_examples_parse() {
        for name in [
            "user.created.json",
            "user.updated.json",
            "user.created.docs-example.json",
        ] {
            let path = format!(
                "{}/../shared/clerk/examples/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).expect("the shared Clerk pack");
            let event: serde_json::Value = serde_json::from_str(&text).unwrap();
            let user: ClerkUser = serde_json::from_value(event["data"].clone())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(user.id.starts_with("user_"), "{name}");
            assert!(user.updated_at > 0, "{name}");
        }
    }

    #[test]
    fn retry_after_wins_over_backoff() {
        let policy = RetryPolicy::default();
        let limited = ClerkApiError::Status {
            status: 429,
            code: None,
            message: String::new(),
            trace_id: None,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(policy.delay(0, &limited), Duration::from_secs(3));
        let unreachable = ClerkApiError::Unreachable("down".into());
        assert!(policy.delay(10, &unreachable) <= policy.max_delay);
    }
}
