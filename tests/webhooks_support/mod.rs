//! Helpers of the webhook tests: Clerk-shaped events, Svix signing, database views, and apps
//! that can be stopped and restarted (on the same port and database) around one provider.
#![allow(dead_code)]

use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;
use warden::state::AppState;
use warden::sync::outbox::{Outbox, OutboxConfig, OutboxWorker};

pub const WEBHOOK_PATH: &str = "/api/webhooks/clerk";

/// A Clerk `User` object as Clerk's webhooks carry it (the SPEC example's shape).
pub fn clerk_user(
    id: &str,
    email: Option<&str>,
    first_name: &str,
    updated_at: i64,
    public_metadata: Value,
) -> Value {
    let email_addresses: Vec<Value> = email
        .map(|email| {
            vec![json!({
                "id": format!("idn_{id}"),
                "object": "email_address",
                "email_address": email,
                "verification": {"status": "verified", "strategy": "admin"},
                "linked_to": [],
            })]
        })
        .unwrap_or_default();
    json!({
        "object": "user",
        "id": id,
        "external_id": null,
        "primary_email_address_id": email.map(|_| format!("idn_{id}")),
        "primary_phone_number_id": null,
        "primary_web3_wallet_id": null,
        "username": null,
        "first_name": first_name,
        "last_name": "Tester",
        "image_url": "https://img.clerk.com/xxxxxx",
        "has_image": true,
        "public_metadata": public_metadata,
        "private_metadata": null,
        "unsafe_metadata": {},
        "email_addresses": email_addresses,
        "phone_numbers": [],
        "web3_wallets": [],
        "passkeys": [],
        "password_enabled": true,
        "two_factor_enabled": false,
        "external_accounts": [],
        "last_sign_in_at": null,
        "banned": false,
        "locked": false,
        "created_at": 1_716_883_200_000i64,
        "updated_at": updated_at,
    })
}

/// The event envelope around `data` (`timestamp` in ms, as real deliveries carry it).
pub fn envelope(event_type: &str, data: Value, timestamp_ms: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "data": data,
        "event_attributes": {"http_request": {"client_ip": "192.0.2.1", "user_agent": "test"}},
        "instance_id": "ins_test",
        "object": "event",
        "timestamp": timestamp_ms,
        "type": event_type,
    }))
    .expect("an event serialises")
}

pub fn deleted_data(id: &str) -> Value {
    json!({"object": "user", "id": id, "deleted": true})
}

pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Posts `body` signed for `secret` as Svix would, with `svix-timestamp` = `timestamp`.
pub async fn post_signed_at(
    client: &reqwest::Client,
    base_url: &str,
    secret: &str,
    svix_id: &str,
    timestamp: i64,
    body: &[u8],
) -> reqwest::Response {
    let signature = clerk_emulator::svix_signature(secret, svix_id, timestamp, body);
    client
        .post(format!("{base_url}{WEBHOOK_PATH}"))
        .header("content-type", "application/json")
        .header("svix-id", svix_id)
        .header("svix-timestamp", timestamp.to_string())
        .header("svix-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .expect("the webhook request")
}

/// The parts of a `users` row the tests compare.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    pub id: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub image_url: Option<String>,
    pub deleted: bool,
    pub clerk_updated_at: Option<i64>,
}

pub async fn row(pool: &PgPool, clerk_id: &str) -> Option<Row> {
    sqlx::query_as(
        "SELECT id, name, email, role::text AS role, image_url, deleted_at IS NOT NULL AS deleted,
                clerk_updated_at
         FROM users WHERE clerk_user_id = $1",
    )
    .bind(clerk_id)
    .fetch_optional(pool)
    .await
    .expect("reading users")
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count")
}

/// Outbox settings for tests: quick polls and short backoff.
pub fn fast_outbox() -> OutboxConfig {
    OutboxConfig {
        poll_interval: Duration::from_millis(50),
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        max_attempts: 30,
        ..OutboxConfig::default()
    }
}

pub fn start_worker(state: &AppState, config: OutboxConfig) -> OutboxWorker {
    Outbox::from_state(state, config).spawn()
}

/// Waits until `check` holds (polling), or panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An app instance that can be stopped, on a fixed listener, talking to `provider`.
pub struct Instance {
    pub state: AppState,
    pub base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Instance {
    /// Serves the app on `listener` over `pool`, configured for `provider` at `provider_url`.
    pub async fn start(
        listener: tokio::net::TcpListener,
        pool: PgPool,
        provider: &clerk_emulator::Emulator,
        provider_url: &str,
        extra_env: &[(&str, &str)],
    ) -> Instance {
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let mut env = crate::common::clerk_env(provider, provider_url, &base_url);
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let config = crate::common::test_config(&env);
        let (context, _) = warden::clerk::context_for(&config)
            .await
            .expect("the Clerk context");
        let state = AppState::new(config, pool, context).expect("the app state");
        let router = warden::server::router(state.clone(), None);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Instance {
            state,
            base_url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving (the port is free again afterwards).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// A provider whose webhooks go to `endpoint`, with Svix's schedule compressed by `scale`.
pub async fn provider_for(endpoint: &str, scale: f64) -> clerk_emulator::RunningEmulator {
    let mut config = clerk_emulator::Config::for_tests();
    config.webhook_endpoints = vec![endpoint.to_owned()];
    config.webhook_retry_time_scale = scale;
    clerk_emulator::Emulator::spawn(config)
        .await
        .expect("starting the local Clerk provider")
}

pub fn new_user(email: &str, first_name: &str, metadata: Value) -> clerk_emulator::NewUser {
    clerk_emulator::NewUser {
        first_name: Some(first_name.into()),
        last_name: Some("Tester".into()),
        username: None,
        email: email.into(),
        image_url: None,
        public_metadata: metadata,
    }
}

/// How many `user.updated` messages (distinct svix ids) the provider sent about anyone.
pub fn updated_messages(provider: &clerk_emulator::Emulator) -> usize {
    let mut ids: Vec<String> = provider
        .webhook_log()
        .into_iter()
        .filter(|attempt| attempt.event_type == "user.updated")
        .map(|attempt| attempt.svix_id)
        .collect();
    ids.sort();
    ids.dedup();
    ids.len()
}
