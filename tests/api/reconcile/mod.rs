//! `warden users reconcile`: a real PostgreSQL, the local Clerk provider over HTTP. Its
//! webhooks go nowhere, so every row these tests see was written by a reconcile (or by the test,
//! standing in for a webhook).

mod bulk;
mod cli;
mod limits;
mod missing;
mod rules;

use crate::helpers::database::{count, fresh_database};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;
use warden::cache::CacheTags;
use warden::clerk::api::{ClerkApi, RetryPolicy};
use warden::clerk::keys::Secret;
use warden::sync::reconcile::{
    reconcile, Interrupted, ReconcileEvent, ReconcileOptions, ReconcileReport,
};
use warden::users::UserStore;

pub struct Setup {
    pub clerk: clerk_emulator::RunningEmulator,
    pub pool: PgPool,
    pub database_url: String,
    pub users: UserStore,
    pub api: ClerkApi,
}

/// A fresh database and a provider of its own with no webhook endpoint.
pub async fn setup() -> Setup {
    let db = fresh_database().await;
    let clerk = clerk_emulator::Emulator::spawn(clerk_emulator::Config::for_tests())
        .await
        .expect("starting the local Clerk provider");
    let secret = Secret::new(clerk.emulator.config().secret_key.clone());
    let api = ClerkApi::new(&clerk.url, secret).expect("a Backend API client");
    let ttl = Duration::from_secs(60);
    let users = UserStore::new(db.pool.clone(), CacheTags::new(ttl), 1024, ttl);
    Setup {
        clerk,
        pool: db.pool,
        database_url: db.url,
        users,
        api,
    }
}

/// `n` users that existed in Clerk before warden: `{prefix}{i}@example.com`, Clerk's role
/// `user`.
pub fn people(prefix: &str, n: usize) -> Vec<clerk_emulator::NewUser> {
    (0..n)
        .map(|i| clerk_emulator::NewUser {
            first_name: Some(format!("{prefix}{i}")),
            last_name: Some("Tester".into()),
            email: format!("{prefix}{i}@example.com"),
            public_metadata: json!({"role": "user"}),
            ..Default::default()
        })
        .collect()
}

impl Setup {
    pub fn emulator(&self) -> &clerk_emulator::Emulator {
        &self.clerk.emulator
    }

    /// Seeds `n` users without webhooks; returns them oldest first.
    pub async fn seed(&self, prefix: &str, n: usize) -> Vec<clerk_emulator::User> {
        self.emulator()
            .seed_users(people(prefix, n))
            .await
            .expect("seeding Clerk users")
    }

    pub async fn run(&self, options: &ReconcileOptions) -> Result<ReconcileReport, Interrupted> {
        self.run_with(options, |_| {}).await
    }

    pub async fn run_with(
        &self,
        options: &ReconcileOptions,
        mut progress: impl FnMut(ReconcileEvent),
    ) -> Result<ReconcileReport, Interrupted> {
        reconcile(&self.users, &self.api, options, &mut progress).await
    }

    pub async fn rows(&self) -> i64 {
        count(&self.pool, "SELECT count(*) FROM users").await
    }

    pub async fn active_rows(&self) -> i64 {
        count(
            &self.pool,
            "SELECT count(*) FROM users WHERE deleted_at IS NULL",
        )
        .await
    }

    pub async fn pending_jobs(&self) -> i64 {
        count(
            &self.pool,
            "SELECT count(*) FROM metadata_outbox WHERE status = 'pending'",
        )
        .await
    }

    /// (deleted, name, role) of the row of this Clerk user.
    pub async fn row(&self, clerk_id: &str) -> (bool, String, String) {
        sqlx::query_as(
            "SELECT deleted_at IS NOT NULL, name, role::text FROM users WHERE clerk_user_id = $1",
        )
        .bind(clerk_id)
        .fetch_one(&self.pool)
        .await
        .expect("the user's row")
    }

    /// The user's pending metadata jobs.
    pub async fn pending_jobs_of(&self, clerk_id: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM metadata_outbox o JOIN users u ON u.id = o.user_id
             WHERE u.clerk_user_id = $1 AND o.status = 'pending'",
        )
        .bind(clerk_id)
        .fetch_one(&self.pool)
        .await
        .expect("a count")
    }
}

/// The options of the command line with retries quick enough for a test that wants a run to
/// give up.
pub fn impatient(options: ReconcileOptions) -> ReconcileOptions {
    ReconcileOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(2),
        },
        ..options
    }
}

/// A Clerk user as the Backend API serves it (for standing in for a webhook).
pub async fn clerk_copy(setup: &Setup, clerk_id: &str) -> warden::clerk::api::ClerkUser {
    let user = setup
        .emulator()
        .get_user(clerk_id)
        .await
        .expect("a Clerk user");
    let value: Value = serde_json::to_value(&user).expect("a user as JSON");
    serde_json::from_value(value).expect("a ClerkUser")
}
