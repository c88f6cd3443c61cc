//! Webhooks as Clerk sends them: Clerk-shaped events, signed by the Svix scheme, posted to the
//! app; and the `users` rows they lead to.

use super::app::TestApp;
use super::clerk::now_secs;
use super::database::count;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

pub const WEBHOOK_PATH: &str = "/api/webhooks/clerk";

/// A Clerk `User` object as Clerk's webhooks carry it (the shape of the example events in
/// `tests/fixtures/clerk/examples`).
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

/// The `data` of a `user.deleted` event.
pub fn deleted_data(id: &str) -> Value {
    json!({"object": "user", "id": id, "deleted": true})
}

/// `user.created` for `id`, whose email and first name come from `name`, at `version`.
pub fn created(id: &str, name: &str, version: i64) -> Vec<u8> {
    let data = clerk_user(
        id,
        Some(&format!("{name}@example.com")),
        name,
        version,
        json!({}),
    );
    envelope("user.created", data, version)
}

/// `user.updated`, as [`created`].
pub fn updated(id: &str, name: &str, version: i64) -> Vec<u8> {
    let data = clerk_user(
        id,
        Some(&format!("{name}@example.com")),
        name,
        version,
        json!({}),
    );
    envelope("user.updated", data, version)
}

/// `user.deleted` for `id`, at `at`.
pub fn deleted(id: &str, at: i64) -> Vec<u8> {
    envelope("user.deleted", deleted_data(id), at)
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

/// The app's webhook signing secret (its provider's).
pub fn secret(app: &TestApp) -> String {
    app.emulator().config().webhook_signing_secret.clone()
}

/// Posts `body` to the app, signed now with its secret.
pub async fn post(app: &TestApp, svix_id: &str, body: &[u8]) -> reqwest::Response {
    post_signed_at(
        &app.client,
        &app.base_url,
        &secret(app),
        svix_id,
        now_secs(),
        body,
    )
    .await
}

/// [`post`], which must be answered 200; returns the answer's text (the outcome).
pub async fn post_ok(app: &TestApp, svix_id: &str, body: &[u8]) -> String {
    let response = post(app, svix_id, body).await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{svix_id}: {text}");
    text
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

/// The `users` row of this Clerk user, if there is one.
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

/// How many svix ids the app has recorded as processed.
pub async fn events_recorded(app: &TestApp) -> i64 {
    count(&app.pool, "SELECT count(*) FROM webhook_events").await
}

/// How many `users` rows there are, deleted ones included.
pub async fn users_count(app: &TestApp) -> i64 {
    count(&app.pool, "SELECT count(*) FROM users").await
}
