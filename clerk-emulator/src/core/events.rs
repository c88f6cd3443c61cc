//! Webhook emission: every state change that Clerk reports fires its event from here.

use crate::webhooks::envelope;
use crate::Emulator;
use serde_json::Value;

/// Who caused a change (goes into webhook `event_attributes.http_request`).
#[derive(Clone, Debug, Default)]
pub(crate) struct ReqInfo {
    pub client_ip: String,
    pub user_agent: String,
}

impl ReqInfo {
    pub fn from_headers(h: &axum::http::HeaderMap) -> Self {
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let ip = get("x-forwarded-for")
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        ReqInfo {
            client_ip: ip,
            user_agent: get("user-agent"),
        }
    }
}

impl Emulator {
    pub(super) fn fire(&self, event_type: &str, data: Value, req: &ReqInfo) {
        let body = envelope(
            event_type,
            data,
            &self.instance_id(),
            &req.client_ip,
            &req.user_agent,
        );
        let faults = self.inner.faults.webhook_snapshot();
        self.inner.webhooks.enqueue(event_type, body, faults);
    }
}
