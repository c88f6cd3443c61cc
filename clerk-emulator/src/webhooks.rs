//! Svix-compatible webhook signing and at-least-once delivery with Svix's retry schedule.

use crate::faults::WebhookFaults;
use crate::util::{b64std, b64std_decode_lenient, new_id, now_ms, now_secs};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Svix's schedule: delay before attempt 1..=8 (immediately, then after each failure
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; svix-server `retry_schedule`).
pub const RETRY_SCHEDULE_SECS: [u64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/// Svix's per-attempt timeout.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// One delivery attempt, as recorded in [`crate::Emulator::webhook_log`].
#[derive(Clone, Debug)]
pub struct DeliveryAttempt {
    pub svix_id: String,
    pub event_type: String,
    pub endpoint: String,
    /// 1-based attempt number for this (message, endpoint); a duplicate delivery continues
    /// the count.
    pub attempt: u32,
    /// HTTP status returned by the receiver, if any.
    pub status: Option<u16>,
    /// Transport error / timeout / "simulated failure".
    pub error: Option<String>,
    /// true when the attempt was failed by `Faults::fail_first_attempts` (receiver not asked).
    pub simulated_failure: bool,
    /// The `svix-timestamp` used (unix seconds).
    pub svix_timestamp: i64,
    pub at: SystemTime,
}

impl DeliveryAttempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Why a Svix signature check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvixVerifyError {
    NoMatchingSignature,
    TimestampTooOld,
    TimestampTooNew,
    InvalidTimestamp,
    InvalidSecret,
}

fn hmac_key(secret: &str) -> Option<Vec<u8>> {
    b64std_decode_lenient(secret.strip_prefix("whsec_").unwrap_or(secret))
}

/// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>` with key = base64-decoded secret
/// (the `whsec_` prefix is optional).
pub fn svix_signature(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac_key(secret).unwrap_or_default();
    format!(
        "v1,{}",
        b64std(&mac(&key, msg_id, &timestamp.to_string(), body))
    )
}

fn mac(key: &[u8], msg_id: &str, ts: &str, body: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(msg_id.as_bytes());
    m.update(b".");
    m.update(ts.as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Verify a Svix signature header the way Svix/standardwebhooks do (any matching `v1` entry,
/// constant-time compare, ±300 s tolerance inclusive).
pub fn verify_svix_signature(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SvixVerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SvixVerifyError::InvalidTimestamp)?;
    if now_secs - ts > 300 {
        return Err(SvixVerifyError::TimestampTooOld);
    }
    if ts - now_secs > 300 {
        return Err(SvixVerifyError::TimestampTooNew);
    }
    let key = hmac_key(secret).ok_or(SvixVerifyError::InvalidSecret)?;
    let expected = mac(&key, msg_id, timestamp.trim(), body);
    for entry in signature_header.split(' ') {
        let Some((version, sig)) = entry.split_once(',') else {
            continue;
        };
        if version != "v1" {
            continue;
        }
        if let Some(given) = b64std_decode_lenient(sig) {
            if given.len() == expected.len()
                && given
                    .iter()
                    .zip(expected.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            {
                return Ok(());
            }
        }
    }
    Err(SvixVerifyError::NoMatchingSignature)
}

pub(crate) struct Webhooks {
    endpoints: Vec<String>,
    secret: String,
    scale: f64,
    client: reqwest::Client,
    log: Mutex<Vec<DeliveryAttempt>>,
    pending: tokio::sync::watch::Sender<usize>,
}

struct Message {
    id: String,
    event_type: String,
    body: Vec<u8>,
}

impl Webhooks {
    pub fn new(endpoints: Vec<String>, secret: String, scale: f64) -> Arc<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let (pending, _) = tokio::sync::watch::channel(0usize);
        Arc::new(Webhooks {
            endpoints,
            secret,
            scale: if scale.is_finite() && scale >= 0.0 {
                scale
            } else {
                1.0
            },
            client,
            log: Mutex::new(Vec::new()),
            pending,
        })
    }

    pub fn log(&self) -> Vec<DeliveryAttempt> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn idle(&self) {
        let mut rx = self.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn scaled(&self, secs: u64) -> Duration {
        Duration::from_secs_f64(secs as f64 * self.scale)
    }

    fn timeout(&self) -> Duration {
        // Scaled, but never below 2 s: loopback receivers in debug builds can be slow.
        ATTEMPT_TIMEOUT
            .mul_f64(self.scale.min(1.0))
            .max(Duration::from_secs(2))
    }

    /// Enqueue one message to every endpoint. Must be called inside a tokio runtime.
    pub fn enqueue(self: &Arc<Self>, event_type: &str, body: Vec<u8>, faults: WebhookFaults) {
        if self.endpoints.is_empty() {
            return;
        }
        let msg = Arc::new(Message {
            id: new_id("msg"),
            event_type: event_type.to_string(),
            body,
        });
        for endpoint in self.endpoints.clone() {
            self.pending.send_modify(|n| *n += 1);
            let this = Arc::clone(self);
            let msg = Arc::clone(&msg);
            tokio::spawn(async move {
                let mut delay = faults.delay;
                if faults.shuffle {
                    delay += Duration::from_millis(rand::rng().random_range(0..=250));
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut attempt = 0u32;
                let ok = this
                    .deliver(&msg, &endpoint, &mut attempt, faults.fail_first)
                    .await;
                if ok && faults.duplicate {
                    this.deliver(&msg, &endpoint, &mut attempt, 0).await;
                }
                this.pending.send_modify(|n| *n = n.saturating_sub(1));
            });
        }
    }

    /// Runs the retry schedule; true when an attempt got a 2xx.
    async fn deliver(
        &self,
        msg: &Message,
        endpoint: &str,
        attempt: &mut u32,
        fail_first: u32,
    ) -> bool {
        for (i, delay) in RETRY_SCHEDULE_SECS.iter().enumerate() {
            if i > 0 || *delay > 0 {
                tokio::time::sleep(self.scaled(*delay)).await;
            }
            *attempt += 1;
            let ts = now_secs();
            let mut record = DeliveryAttempt {
                svix_id: msg.id.clone(),
                event_type: msg.event_type.clone(),
                endpoint: endpoint.to_string(),
                attempt: *attempt,
                status: None,
                error: None,
                simulated_failure: false,
                svix_timestamp: ts,
                at: SystemTime::now(),
            };
            if (i as u32) < fail_first {
                record.simulated_failure = true;
                record.error = Some("simulated failure (fail_first_attempts)".into());
                self.push(record);
                continue;
            }
            let sig = svix_signature(&self.secret, &msg.id, ts, &msg.body);
            let res = self
                .client
                .post(endpoint)
                .timeout(self.timeout())
                .header("content-type", "application/json")
                .header("user-agent", "Svix-Webhooks/1.0 (clerk-emulator)")
                .header("svix-id", &msg.id)
                .header("svix-timestamp", ts.to_string())
                .header("svix-signature", sig)
                .body(msg.body.clone())
                .send()
                .await;
            match res {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let abort = resp
                        .headers()
                        .get("webhook-delivery")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.eq_ignore_ascii_case("abort-message"));
                    record.status = Some(status);
                    let ok = (200..300).contains(&status);
                    self.push(record);
                    if ok {
                        return true;
                    }
                    if abort {
                        return false;
                    }
                }
                Err(e) => {
                    record.error = Some(if e.is_timeout() {
                        "timeout".to_string()
                    } else {
                        e.to_string()
                    });
                    self.push(record);
                }
            }
        }
        false
    }

    fn push(&self, a: DeliveryAttempt) {
        tracing::debug!(svix_id = %a.svix_id, attempt = a.attempt, status = ?a.status, error = ?a.error, "webhook attempt");
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(a);
    }
}

/// Build the Clerk event envelope (keys sorted like Clerk's example events).
pub(crate) fn envelope(
    event_type: &str,
    data: serde_json::Value,
    instance_id: &str,
    client_ip: &str,
    user_agent: &str,
) -> Vec<u8> {
    let v = serde_json::json!({
        "data": data,
        "event_attributes": {"http_request": {"client_ip": client_ip, "user_agent": user_agent}},
        "instance_id": instance_id,
        "object": "event",
        "timestamp": now_ms(),
        "type": event_type,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}
