//! Clerk's retry etiquette for Backend API calls.

use super::ClerkApiError;
use std::time::Duration;

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
