//! Svix signature verification over the raw body.
//!
//! The `svix` crate checks the signature (HMAC-SHA256 over `{id}.{timestamp}.{body}`, any
//! space-separated `v1,` entry, constant-time comparison). The ±5 min timestamp window is
//! checked here with the same rule as the crate (`|now - ts| <= 300`, inclusive), with the
//! clock passed in: that is what lets Svix's signature test vectors, which carry their own "now",
//! be checked against this exact code.

use axum::http::HeaderMap;
use svix::webhooks::{Webhook, WebhookError};

/// Svix's tolerance for `svix-timestamp`, in seconds, both ways.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Longest `svix-id` we accept (Svix's are ~30 characters); it becomes a primary key.
const MAX_ID_LEN: usize = 256;

/// Why a delivery was not accepted as coming from Clerk. `Display` is the short reason sent
/// back with the 400 (it names no secret and echoes nothing from the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing svix-id, svix-timestamp or svix-signature header")]
    MissingHeaders,
    #[error("malformed svix-id, svix-timestamp or svix-signature header")]
    MalformedHeaders,
    #[error("timestamp too old")]
    TimestampTooOld,
    #[error("timestamp too new")]
    TimestampTooNew,
    #[error("no matching signature")]
    NoMatchingSignature,
}

/// A verified delivery's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub svix_id: String,
    /// Unix seconds.
    pub timestamp: i64,
}

/// The configured signing secret could not be used (a deployment error, not the sender's).
#[derive(Debug, thiserror::Error)]
#[error("CLERK_WEBHOOK_SIGNING_SECRET is not a valid Svix secret: {0}")]
pub struct BadSecret(WebhookError);

/// A verifier for one signing secret (`whsec_…`).
pub struct Verifier {
    webhook: Webhook,
}

impl Verifier {
    pub fn new(secret: &str) -> Result<Verifier, BadSecret> {
        Ok(Verifier {
            webhook: Webhook::new(secret).map_err(BadSecret)?,
        })
    }

    /// Checks headers and signature of `body` (the exact bytes received) at `now` (unix s).
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, Rejection> {
        let header = |name: &str| -> Result<&str, Rejection> {
            headers
                .get(name)
                .ok_or(Rejection::MissingHeaders)?
                .to_str()
                .map_err(|_| Rejection::MalformedHeaders)
        };
        let svix_id = header("svix-id")?;
        let timestamp = header("svix-timestamp")?;
        header("svix-signature")?;
        if svix_id.trim().is_empty() || svix_id.len() > MAX_ID_LEN {
            return Err(Rejection::MalformedHeaders);
        }
        let timestamp: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| Rejection::MalformedHeaders)?;
        if now.saturating_sub(timestamp) > TOLERANCE_SECS {
            return Err(Rejection::TimestampTooOld);
        }
        if timestamp.saturating_sub(now) > TOLERANCE_SECS {
            return Err(Rejection::TimestampTooNew);
        }
        match self.webhook.verify_ignoring_timestamp(body, headers) {
            Ok(()) => Ok(Verified {
                svix_id: svix_id.to_owned(),
                timestamp,
            }),
            Err(WebhookError::MissingHeader(_)) => Err(Rejection::MissingHeaders),
            Err(WebhookError::InvalidHeader(_) | WebhookError::InvalidTimestamp) => {
                Err(Rejection::MalformedHeaders)
            }
            // Includes a body that is not UTF-8 (the crate cannot sign it, so nothing matches).
            Err(_) => Err(Rejection::NoMatchingSignature),
        }
    }
}

/// Now, in unix seconds.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
