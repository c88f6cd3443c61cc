//! Model-based test of the webhook route: random Clerk histories (created, updated, deleted)
//! for several users, delivered with duplicates, shuffled and partly concurrent, over real
//! HTTP. After each case the database must equal a simple model of Clerk's final state.
//!
//! Deterministic by default (seed below). `WEBHOOK_MODEL_SEED` and `WEBHOOK_MODEL_CASES`
//! override it; a failure prints the command that replays the failing case alone.

use crate::helpers::app::{spawn_app, TestApp};
use crate::helpers::clerk::now_secs;
use crate::helpers::webhooks::{clerk_user, deleted_data, envelope, post_signed_at, row};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

const DEFAULT_SEED: u64 = 0x5745_4248_4f4f_4b53; // "WEBHOOKS"
const DEFAULT_CASES: u64 = 200;

/// One message Clerk (Svix) sends.
#[derive(Debug, Clone)]
struct Message {
    svix_id: String,
    body: Vec<u8>,
    what: String,
}

/// Clerk's final truth about one user.
#[derive(Debug)]
struct Truth {
    clerk_id: String,
    first_name: String,
    email: String,
    version: i64,
    role: &'static str,
    deleted: bool,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// A random history for a few users, and the messages it produces.
fn generate(case_seed: u64) -> (Vec<Truth>, Vec<Message>, Vec<Vec<Message>>) {
    let mut rng = StdRng::seed_from_u64(case_seed);
    let mut clock: i64 = 1_700_000_000_000 + rng.random_range(0..1_000_000);
    let mut truths = Vec::new();
    let mut messages = Vec::new();
    let users = rng.random_range(1..=4);
    for u in 0..users {
        let clerk_id = format!("user_{case_seed:x}_{u}");
        let (metadata, role) = match rng.random_range(0..3) {
            0 => (json!({}), "user"),
            1 => (json!({"role": "admin"}), "admin"),
            _ => (json!({"role": "user", "plan": "free"}), "user"),
        };
        let updates = rng.random_range(0..=4);
        let mut truth = Truth {
            clerk_id: clerk_id.clone(),
            first_name: String::new(),
            email: String::new(),
            version: 0,
            role,
            deleted: false,
        };
        for n in 0..=updates {
            clock += rng.random_range(1..2_000);
            truth.first_name = format!("N{n}x{}", rng.random_range(0..1000));
            truth.email = format!("u{u}v{n}@example.com");
            truth.version = clock;
            let data = clerk_user(
                &clerk_id,
                Some(&truth.email),
                &truth.first_name,
                clock,
                metadata.clone(),
            );
            let event_type = if n == 0 {
                "user.created"
            } else {
                "user.updated"
            };
            messages.push(Message {
                svix_id: format!("msg_{case_seed:x}_{u}_{n}"),
                body: envelope(event_type, data, clock),
                what: format!("{event_type} {clerk_id} v{clock}"),
            });
        }
        if rng.random_bool(0.4) {
            clock += rng.random_range(1..2_000);
            truth.deleted = true;
            messages.push(Message {
                svix_id: format!("msg_{case_seed:x}_{u}_del"),
                body: envelope("user.deleted", deleted_data(&clerk_id), clock),
                what: format!("user.deleted {clerk_id} at {clock}"),
            });
        }
        truths.push(truth);
    }
    // At least once: some messages come two or three times.
    let mut deliveries: Vec<Message> = Vec::new();
    for message in &messages {
        let copies = match rng.random_range(0..10) {
            0..=6 => 1,
            7 | 8 => 2,
            _ => 3,
        };
        deliveries.extend(std::iter::repeat_n(message.clone(), copies));
    }
    // In any order, and in small bursts delivered concurrently.
    deliveries.shuffle(&mut rng);
    let mut bursts = Vec::new();
    let mut rest = deliveries.as_slice();
    while !rest.is_empty() {
        let size = rng.random_range(1..=3).min(rest.len());
        bursts.push(rest[..size].to_vec());
        rest = &rest[size..];
    }
    (truths, messages, bursts)
}

async fn run_case(app: &TestApp, case_seed: u64) -> Result<(), String> {
    let (truths, messages, bursts) = generate(case_seed);
    let secret = app.emulator().config().webhook_signing_secret.clone();
    let mut order = Vec::new();
    for burst in bursts {
        let mut tasks = Vec::new();
        for message in burst {
            order.push(format!("{} ({})", message.what, message.svix_id));
            let (client, base_url, secret) =
                (app.client.clone(), app.base_url.clone(), secret.clone());
            tasks.push(tokio::spawn(async move {
                let response = post_signed_at(
                    &client,
                    &base_url,
                    &secret,
                    &message.svix_id,
                    now_secs(),
                    &message.body,
                )
                .await;
                (message.what, response.status())
            }));
        }
        for task in tasks {
            let (what, status) = task.await.map_err(|e| e.to_string())?;
            if status != reqwest::StatusCode::OK {
                return Err(format!("{what}: status {status}"));
            }
        }
    }
    let context = || format!("delivery order:\n  {}", order.join("\n  "));
    for truth in &truths {
        let got = row(&app.pool, &truth.clerk_id)
            .await
            .ok_or_else(|| format!("{} has no row\n{}", truth.clerk_id, context()))?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM metadata_outbox WHERE user_id = $1 AND status = 'pending'",
        )
        .bind(got.id)
        .fetch_one(&app.pool)
        .await
        .map_err(|e| e.to_string())?;
        let ok = if truth.deleted {
            got.deleted
                && got.name == "Deleted User"
                && got.email == "redacted@deleted.com"
                && got.image_url.is_none()
                && pending == 0
        } else {
            !got.deleted
                && got.name == format!("{} Tester", truth.first_name)
                && got.email == truth.email
                && got.role == truth.role
                && got.clerk_updated_at == Some(truth.version)
                && pending == 1
        };
        if !ok {
            return Err(format!(
                "{} differs from Clerk\n  Clerk: {truth:?}\n  database: {got:?}, pending jobs {pending}\n{}",
                truth.clerk_id,
                context()
            ));
        }
    }
    let ids: Vec<String> = messages.iter().map(|m| m.svix_id.clone()).collect();
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE svix_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&app.pool)
            .await
            .map_err(|e| e.to_string())?;
    if recorded != ids.len() as i64 {
        return Err(format!(
            "{recorded} of {} message ids recorded\n{}",
            ids.len(),
            context()
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_ends_equal_to_clerk_whatever_the_delivery() {
    let seed = env_u64("WEBHOOK_MODEL_SEED").unwrap_or(DEFAULT_SEED);
    let cases = env_u64("WEBHOOK_MODEL_CASES").unwrap_or(DEFAULT_CASES);
    let app = spawn_app().await;
    for case in 0..cases {
        let case_seed = seed.wrapping_add(case);
        if let Err(failure) = run_case(&app, case_seed).await {
            panic!(
                "model case {case} failed (seed {seed}); replay it alone with \
                 WEBHOOK_MODEL_SEED={case_seed} WEBHOOK_MODEL_CASES=1\n{failure}"
            );
        }
    }
    println!("{cases} cases passed (WEBHOOK_MODEL_SEED={seed})");
}
