//! Throughput of `POST /api/webhooks/clerk` against the ceiling of its own SQL transaction.
//!
//! `cargo bench --bench webhooks` starts a throwaway PostgreSQL and the app, then:
//! 1. posts signed `user.updated` events over HTTP at 16 connections and prints events/s with
//!    p50/p99 latency: `wrk` (two threads) replays requests signed before the clock starts;
//! 2. drives the very same transaction (`warden::webhooks::process`: dedupe insert, versioned
//!    upsert, outbox check, commit, cache invalidation) directly through sqlx at 16
//!    concurrency, without HTTP, signature or JSON: the ceiling;
//! 3. runs the same statements through PostgreSQL's pgbench at the same concurrency (no Rust
//!    client at all): the ceiling the goal is measured against;
//! 4. prints the ratios (goal: ≥ 60 % of pgbench).
//!
//! `WEBHOOK_BENCH_EVENTS` (default 20000) sets the number of events per phase and
//! `WEBHOOK_BENCH_RUNS` (default 3) the number of alternating runs whose medians are printed.

mod support;

// The app runs inside this process: with the allocator of the release binary (`src/main.rs`),
// so that it is measured as it is deployed.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{pgbench, wrk};
use warden::clerk::api::ClerkUser;
use warden::db::cluster::LocalCluster;
use warden::models::{Role, UserId};
use warden::server::{Application, Options};
use warden::webhooks::{process, UserEvent};

const CONCURRENCY: usize = 16;
/// wrk's threads: one a core.
const WRK_THREADS: usize = 2;
const USERS: usize = 256;

fn user_json(clerk_id: &str, n: usize, version: i64, db_id: Option<UserId>) -> serde_json::Value {
    let metadata = match db_id {
        Some(id) => json!({"dbId": id.to_string(), "role": "user"}),
        None => json!({}),
    };
    json!({
        "object": "user", "id": clerk_id, "first_name": format!("Bench{n}"), "last_name": "User",
        "username": null, "image_url": "https://img.clerk.com/x", "has_image": true,
        "primary_email_address_id": "idn_1",
        "email_addresses": [{"id": "idn_1", "object": "email_address",
                             "email_address": format!("bench{n}@example.com")}],
        "public_metadata": metadata, "private_metadata": null, "unsafe_metadata": {},
        "created_at": 1_700_000_000_000i64, "updated_at": version,
    })
}

fn body(event_type: &str, data: serde_json::Value, version: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "data": data, "object": "event", "instance_id": "ins_bench",
        "timestamp": version, "type": event_type,
    }))
    .unwrap_or_default()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

struct Run {
    events: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Run {
    /// The run of median rate.
    fn median_of(mut runs: Vec<Run>) -> Run {
        runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let middle = runs.len() / 2;
        runs.swap_remove(middle)
    }

    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<28} {:>6} events in {:>6.2} s = {:>8.0} events/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.events,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
        );
    }
}

/// Runs `events` jobs over `CONCURRENCY` workers; worker `w` handles the users with
/// `index % CONCURRENCY == w`, so no two in-flight events touch one user (no lock waits).
async fn drive<F, Fut>(events: usize, job: F) -> Run
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..CONCURRENCY {
        let job = job.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while i < events {
                let t = Instant::now();
                job(i, i % USERS).await;
                latencies.push(t.elapsed());
                i += CONCURRENCY;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("a bench worker"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Run {
        events,
        elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    }
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::var("WEBHOOK_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runs: usize = std::env::var("WEBHOOK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    wrk::require();
    let cluster = LocalCluster::start_throwaway(std::process::id())
        .await
        .expect("a throwaway PostgreSQL");
    warden::db::ensure_database(&cluster, "bench")
        .await
        .expect("the bench database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(32)
        .connect_with(cluster.connect_options("bench"))
        .await
        .expect("connecting");
    warden::db::migrate(&pool).await.expect("migrations");

    // A provider only for its keys (no webhook endpoints: the bench posts itself).
    let provider = clerk_emulator::Emulator::spawn(clerk_emulator::Config::for_tests())
        .await
        .expect("the local Clerk provider");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding");
    let base_url = format!("http://{}", listener.local_addr().expect("address"));
    let secret = provider.emulator.config().webhook_signing_secret.clone();
    let vars: std::collections::HashMap<String, String> = [
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_string()),
        ("APP_ORIGIN", base_url.clone()),
        ("DATABASE_URL", cluster.url("bench")),
        ("DATABASE_MAX_CONNECTIONS", "32".to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .chain(provider.app_env())
    .collect();
    let config = warden::config::Config::from_lookup(|name| vars.get(name).cloned())
        .expect("a configuration");
    // The app as `main` builds it, without the outbox worker (the metadata matches anyway).
    let application = Application::build_with(
        config,
        Options {
            listener: Some(listener),
            pool: None,
            outbox: None,
            maintenance: None,
            key_refetch_interval: None,
            change_feed_retry: None,
        },
    )
    .await
    .expect("the app");
    let state = application.state().clone();
    tokio::spawn(application.run_until(std::future::pending()));

    // The users exist, and Clerk's metadata matches ours: steady-state `user.updated`.
    let mut db_ids = Vec::new();
    for n in 0..USERS {
        let clerk_id = format!("user_bench_{n}");
        let user: ClerkUser =
            serde_json::from_value(user_json(&clerk_id, n, 1, None)).expect("a user");
        let event = UserEvent::Upsert(Box::new(user));
        process(
            &pool,
            &state.users,
            &format!("msg_seed_{n}"),
            "user.created",
            &event,
        )
        .await
        .expect("seeding a user");
        let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
            .bind(&clerk_id)
            .fetch_one(&pool)
            .await
            .expect("the seeded user");
        db_ids.push(UserId(id));
    }
    let db_ids = Arc::new(db_ids);
    let version = |round: usize, i: usize| 2 + (round * 10_000_000 + i) as i64;

    let url = format!("{base_url}/api/webhooks/clerk");
    let host = base_url.trim_start_matches("http://").to_owned();
    let http_phase = |round: usize, count: usize| {
        let (url, host, db_ids, secret, pool) = (
            url.clone(),
            host.clone(),
            db_ids.clone(),
            secret.clone(),
            pool.clone(),
        );
        async move {
            // Requests are built and signed before the clock starts, as the direct phase
            // prepares its events: both phases time only the receiving side's work. (Svix
            // accepts a timestamp for 5 minutes; a phase takes seconds.) wrk's thread `t` sends
            // the events `i` with `i % WRK_THREADS == t`, in order: as in the other phases, no
            // two events in flight touch one user.
            let ts = time::OffsetDateTime::now_utc().unix_timestamp();
            let mut prepared = vec![Vec::new(); WRK_THREADS];
            for i in 0..count {
                let user = i % USERS;
                let v = version(round, i);
                let data = user_json(&format!("user_bench_{user}"), user, v, Some(db_ids[user]));
                let body = body("user.updated", data, v);
                let svix_id = format!("msg_http_{round}_{i}");
                let signature = clerk_emulator::svix_signature(&secret, &svix_id, ts, &body);
                let mut request = format!(
                    "POST /api/webhooks/clerk HTTP/1.1\r\nHost: {host}\r\n\
                     Content-Type: application/json\r\nsvix-id: {svix_id}\r\n\
                     svix-timestamp: {ts}\r\nsvix-signature: {signature}\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                request.extend_from_slice(&body);
                prepared[i % WRK_THREADS].push(request);
            }
            let (run, elapsed) =
                tokio::task::spawn_blocking(move || wrk::replay(&url, &prepared, CONCURRENCY))
                    .await
                    .expect("the wrk run");
            assert_eq!(run.non_2xx, 0, "every webhook was answered with a 2xx");
            let recorded: i64 =
                sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE svix_id LIKE $1")
                    .bind(format!("msg_http_{round}\\_%"))
                    .fetch_one(&pool)
                    .await
                    .expect("counting the recorded events");
            assert_eq!(
                recorded as usize, count,
                "every event of the run was recorded"
            );
            Run {
                events: count,
                elapsed,
                p50: Duration::from_secs_f64(run.p50_ms / 1e3),
                p99: Duration::from_secs_f64(run.p99_ms / 1e3),
            }
        }
    };
    let direct_phase = |round: usize, count: usize| {
        // The app's own pool, as its handler uses it.
        let (pool, users, db_ids) = (state.pool.clone(), state.users.clone(), db_ids.clone());
        // Events are built before the clock starts: the ceiling is the database work alone.
        let prepared: Arc<Vec<UserEvent>> = Arc::new(
            (0..count)
                .map(|i| {
                    let user = i % USERS;
                    let data = user_json(
                        &format!("user_bench_{user}"),
                        user,
                        version(round, i),
                        Some(db_ids[user]),
                    );
                    UserEvent::Upsert(Box::new(serde_json::from_value(data).expect("a user")))
                })
                .collect(),
        );
        drive(count, move |i, _| {
            let (pool, users, prepared) = (pool.clone(), users.clone(), prepared.clone());
            async move {
                let applied = process(
                    &pool,
                    &users,
                    &format!("msg_direct_{round}_{i}"),
                    "user.updated",
                    &prepared[i],
                )
                .await
                .expect("the transaction");
                assert_eq!(applied.outcome.as_str(), "updated");
                assert!(!applied.enqueued);
            }
        })
    };

    let warmup = (events / 10).max(500);
    http_phase(1, warmup).await;
    direct_phase(2, warmup).await;
    // Alternating, so that a noisy moment of the machine hits both sides alike.
    let mut http_runs = Vec::new();
    let mut direct_runs = Vec::new();
    let mut pgbench_tps = Vec::new();
    let database_url = cluster.url("bench");
    for run in 0..runs {
        let http = http_phase(3 + 3 * run, events).await;
        let direct = direct_phase(4 + 3 * run, events).await;
        let base = version(5 + 3 * run, 0);
        let pgbench = pgbench::run(&pool, &database_url, CONCURRENCY, USERS, events, base).await;
        http.print(&format!("run {}: HTTP POST (signed)", run + 1));
        direct.print(&format!("run {}: same transaction", run + 1));
        println!(
            "{:<28} {:>6} transactions    = {:>8.0} tx/s       latency average {:>5.2} ms",
            format!("run {}: pgbench, same SQL", run + 1),
            pgbench.transactions,
            pgbench.tps,
            pgbench.latency_average.as_secs_f64() * 1e3
        );
        http_runs.push(http);
        direct_runs.push(direct);
        pgbench_tps.push(pgbench.tps);
    }
    let http = Run::median_of(http_runs);
    let direct = Run::median_of(direct_runs);
    pgbench_tps.sort_by(f64::total_cmp);
    let pgbench_tps = pgbench_tps[pgbench_tps.len() / 2];

    println!();
    println!("webhooks bench: {events} user.updated events per phase, {CONCURRENCY} concurrent, {USERS} users, medians of {runs} runs");
    http.print("HTTP POST (signed)");
    direct.print("same transaction via sqlx");
    println!("{:<28} {pgbench_tps:>8.0} tx/s", "pgbench, same SQL");
    let ratio = http.rate() / pgbench_tps;
    println!(
        "endpoint / pgbench = {:.1} % (goal >= 60 %); endpoint / sqlx = {:.1} %",
        100.0 * ratio,
        100.0 * http.rate() / direct.rate()
    );
    println!(
        "bench-row|signed `user.updated` webhooks, {CONCURRENCY} connections|{:.0} events/s, p99 {:.1} ms|pgbench, the same statements: {pgbench_tps:.0} tps (through sqlx: {:.0} tx/s)|{:.2} (goal ≥ 0.6)",
        http.rate(),
        http.p99.as_secs_f64() * 1e3,
        direct.rate(),
        ratio
    );
    let role: Role = sqlx::query_scalar("SELECT role FROM users LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("a role");
    assert_eq!(role, Role::User, "the role never moved");
    let _ = cluster.stop().await;
}
