//! Clerk's rate limit: a 429's `Retry-After` is waited out, and the run completes.

use super::setup;
use std::time::{Duration, Instant};
use warden::clerk::api::RetryPolicy;
use warden::sync::reconcile::{ReconcileEvent, ReconcileOptions};

#[tokio::test]
async fn a_429_is_waited_out_for_as_long_as_retry_after_says() {
    let setup = setup().await;
    setup.seed("limited", 120).await;
    // A backoff of a millisecond: only honouring Retry-After (1 s per 429 here) makes the run
    // take seconds.
    let options = ReconcileOptions {
        page_size: 50,
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(5),
        },
        ..ReconcileOptions::default()
    };
    let emulator = setup.emulator().clone();
    let started = Instant::now();
    let report = setup
        .run_with(&options, |event| match event {
            // Before the first page and before the second: two 429s in a row each time.
            ReconcileEvent::Started { .. } | ReconcileEvent::Page { done: 50, .. } => {
                emulator.faults().set_bapi_failures(2, 429);
            }
            _ => {}
        })
        .await
        .expect("the run completes after the 429s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(4),
        "four 429s waited out in {took:?}"
    );
    assert_eq!(report.created, 120);
    assert_eq!(report.seen, 120);
    assert_eq!(setup.rows().await, 120);
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_patience_stops_the_run_with_the_reason() {
    let setup = setup().await;
    setup.seed("blocked", 10).await;
    setup.emulator().faults().set_bapi_failures(100, 429);
    let options = ReconcileOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(5),
        },
        ..ReconcileOptions::default()
    };
    let started = Instant::now();
    let stopped = setup
        .run(&options)
        .await
        .expect_err("Clerk never lets it in");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two waits of 1 s"
    );
    assert!(stopped.to_string().contains("429"), "{stopped}");
    assert_eq!(setup.rows().await, 0);
}
