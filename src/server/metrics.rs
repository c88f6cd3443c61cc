//! Prometheus metrics: the process's recorder, the HTTP request metrics, and the gauges read
//! at scrape time (outbox, database pool).
//!
//! Counters are recorded where things happen (`cache`, `sync::outbox`, the webhook route) with
//! the `metrics` macros; without a recorder those are no-ops, so an app without `METRICS_ADDR`
//! or `METRICS_TOKEN` installs none and pays nothing. The caches register their counters when
//! they are built, so the recorder is installed before the app's state.

use crate::app::state::AppState;
use crate::sync::outbox::outbox_stats;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{describe_counter, describe_gauge, describe_histogram, gauge, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Upper bounds of the request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How often histograms are folded into their buckets: the exporter leaves that to us when
/// it runs no listener of its own.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The longest a scrape waits for the outbox's counts; a slow database must not hang it.
const STATS_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's Prometheus recorder. There is one per process (the `metrics` facade holds a
/// single global recorder), so every app of a process shares it: the first call installs it.
pub fn recorder() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE.get_or_init(install).clone()
}

fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            &LATENCY_BUCKETS,
        )
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|error| format!("cannot set up the metrics recorder: {error}"))?;
    describe();
    let upkeep = handle.clone();
    // A thread, not a task: the recorder outlives any one runtime (tests run many).
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        })
        .map_err(|error| format!("cannot start the metrics upkeep: {error}"))?;
    Ok(handle)
}

fn describe() {
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, matched route and status class."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method, matched route and status class."
    );
    describe_counter!(
        "warden_webhook_events_total",
        "Clerk webhook deliveries, by event type and outcome."
    );
    describe_counter!(
        "warden_outbox_delivery_attempts_total",
        "Attempts to write {dbId, role} into Clerk, by outcome (delivered, retry, parked, dropped)."
    );
    describe_counter!(
        "warden_cache_requests_total",
        "Cache lookups, by cache and result (hit, miss, bypass while invalidations may be missed)."
    );
    describe_gauge!(
        "warden_outbox_pending",
        "Metadata jobs waiting for delivery to Clerk."
    );
    describe_gauge!(
        "warden_outbox_parked",
        "Metadata jobs given up on; they need an admin."
    );
    describe_gauge!(
        "warden_outbox_delivered_recent",
        "Metadata jobs delivered in the last hour."
    );
    describe_gauge!(
        "warden_outbox_oldest_pending_age_seconds",
        Unit::Seconds,
        "Age of the oldest pending metadata job (0 when none)."
    );
    describe_gauge!(
        "warden_db_pool_connections",
        "Connections the database pool holds, idle or in use."
    );
    describe_gauge!(
        "warden_db_pool_idle_connections",
        "Idle connections in the database pool."
    );
    describe_gauge!(
        "warden_db_pool_max_connections",
        "The database pool's bound (DATABASE_MAX_CONNECTIONS)."
    );
    describe_gauge!(
        "warden_database_up",
        "1 when the last scrape could read the outbox's counts from the database, else 0."
    );
}

/// Counts every request and its latency by matched route, never by raw path: paths carry ids,
/// so the label would grow without bound. Requests no route matched share `unmatched`.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status.to_owned()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed());
    response
}

/// The method as a label; any other method (clients choose them freely) counts as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The metrics in Prometheus' text format, with this app's gauges read now.
pub async fn scrape(state: &AppState, handle: &PrometheusHandle) -> String {
    // The gauges are the process's, but their values are this app's (its pool, its database):
    // setting and rendering them is one step, so that two apps of a process (tests run many)
    // never render each other's values.
    static SCRAPE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = SCRAPE.lock().await;
    let pool = &state.pool;
    gauge!("warden_db_pool_connections").set(pool.size());
    gauge!("warden_db_pool_idle_connections").set(pool.num_idle() as f64);
    gauge!("warden_db_pool_max_connections").set(pool.options().get_max_connections());
    match tokio::time::timeout(STATS_TIMEOUT, outbox_stats(pool)).await {
        Ok(Ok(stats)) => {
            gauge!("warden_database_up").set(1.0);
            gauge!("warden_outbox_pending").set(stats.pending as f64);
            gauge!("warden_outbox_parked").set(stats.parked as f64);
            gauge!("warden_outbox_delivered_recent").set(stats.delivered_recent as f64);
            gauge!("warden_outbox_oldest_pending_age_seconds").set(
                stats
                    .oldest_pending_age
                    .map_or(0.0, |age| age.as_secs_f64()),
            );
        }
        // The rest of the metrics are still worth a scrape; the outbox gauges keep their last
        // values and `warden_database_up` says they are stale.
        Ok(Err(error)) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "metrics: reading the outbox's counts failed");
            gauge!("warden_database_up").set(0.0);
        }
        Err(_) => {
            tracing::warn!("metrics: reading the outbox's counts timed out");
            gauge!("warden_database_up").set(0.0);
        }
    }
    handle.render()
}
