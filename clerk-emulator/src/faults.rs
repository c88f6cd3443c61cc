//! Fault-injection knobs for tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct FaultState {
    bapi_failures: u32,
    bapi_failure_status: u16,
    jwks_failures: u32,
    jwks_failure_status: u16,
    metadata_limit: Option<u32>,
    metadata_writes: HashMap<String, VecDeque<Instant>>,
    duplicate: bool,
    shuffle: bool,
    delay: Duration,
    fail_first: u32,
}

/// Snapshot of the webhook knobs, taken when a message is enqueued.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WebhookFaults {
    pub duplicate: bool,
    pub shuffle: bool,
    pub delay: Duration,
    pub fail_first: u32,
}

/// Fault knobs (interior mutability; share via [`crate::Emulator::faults`]).
#[derive(Default)]
pub struct Faults {
    inner: Mutex<FaultState>,
}

/// Window of Clerk's per-user metadata write limit.
pub(crate) const METADATA_WINDOW: Duration = Duration::from_secs(10);

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `count` BAPI user requests (`/v1/users…`) fail with `status`: 429 answers
    /// `too_many_requests` with `Retry-After: 1`, anything else answers Clerk's
    /// `internal_clerk_error` body with that status. `count = 0` clears.
    pub fn set_bapi_failures(&self, count: u32, status: u16) {
        let mut s = self.lock();
        s.bapi_failures = count;
        s.bapi_failure_status = status;
    }

    /// Same as [`Faults::set_bapi_failures`] for `GET /v1/jwks` (kept separate because Clerk
    /// does not rate-limit JWKS and apps cache it).
    pub fn set_jwks_failures(&self, count: u32, status: u16) {
        let mut s = self.lock();
        s.jwks_failures = count;
        s.jwks_failure_status = status;
    }

    /// Per-user limit for metadata/profile writes in a sliding 10 s window (Clerk: 10).
    /// Over the limit BAPI answers 429 with `Retry-After`. `None` disables (default).
    pub fn set_metadata_rate_limit(&self, writes_per_10s: Option<u32>) {
        let mut s = self.lock();
        s.metadata_limit = writes_per_10s;
        s.metadata_writes.clear();
    }

    /// Deliver every webhook message twice (same `svix-id`), after the first success.
    pub fn duplicate_deliveries(&self, on: bool) {
        self.lock().duplicate = on;
    }

    /// Add a random delay (0–250 ms, unscaled) before each message's first attempt, so that
    /// messages arrive out of order.
    pub fn shuffle_deliveries(&self, on: bool) {
        self.lock().shuffle = on;
    }

    /// Wait this long (unscaled) before each message's first attempt.
    pub fn delay_deliveries(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The first `n` attempts of every message enqueued from now on fail without contacting
    /// the receiver; they are retried per the (scaled) Svix schedule.
    pub fn fail_first_attempts(&self, n: u32) {
        self.lock().fail_first = n;
    }

    /// Clear every knob.
    pub fn reset(&self) {
        *self.lock() = FaultState::default();
    }

    pub(crate) fn webhook_snapshot(&self) -> WebhookFaults {
        let s = self.lock();
        WebhookFaults {
            duplicate: s.duplicate,
            shuffle: s.shuffle,
            delay: s.delay,
            fail_first: s.fail_first,
        }
    }

    pub(crate) fn take_bapi_failure(&self) -> Option<u16> {
        let mut s = self.lock();
        if s.bapi_failures > 0 {
            s.bapi_failures -= 1;
            Some(s.bapi_failure_status)
        } else {
            None
        }
    }

    pub(crate) fn take_jwks_failure(&self) -> Option<u16> {
        let mut s = self.lock();
        if s.jwks_failures > 0 {
            s.jwks_failures -= 1;
            Some(s.jwks_failure_status)
        } else {
            None
        }
    }

    /// Record a write for `user_id`; Err(retry_after_secs) when over the limit.
    pub(crate) fn check_metadata_write(&self, user_id: &str) -> Result<(), u64> {
        let mut s = self.lock();
        let Some(limit) = s.metadata_limit else {
            return Ok(());
        };
        let now = Instant::now();
        let q = s.metadata_writes.entry(user_id.to_string()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= METADATA_WINDOW)
        {
            q.pop_front();
        }
        if q.len() as u32 >= limit {
            let oldest = q.front().copied().unwrap_or(now);
            let remaining = METADATA_WINDOW.saturating_sub(now.duration_since(oldest));
            let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
            return Err(secs.max(1));
        }
        q.push_back(now);
        Ok(())
    }
}
