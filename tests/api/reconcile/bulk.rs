//! 5,000 users: a first run, a second run that changes nothing, and a run stopped half-way.

use super::{impatient, setup, Setup};
use crate::helpers::database::count;
use std::time::Instant;
use warden::sync::reconcile::{ReconcileEvent, ReconcileOptions};

const USERS: usize = 5_000;

async fn distinct_clerk_ids(setup: &Setup) -> i64 {
    count(
        &setup.pool,
        "SELECT count(DISTINCT clerk_user_id) FROM users",
    )
    .await
}

#[tokio::test]
async fn five_thousand_users_come_in_once_and_a_second_run_changes_nothing() {
    let setup = setup().await;
    let seeded = setup.seed("bulk", USERS).await;
    assert_eq!(setup.rows().await, 0);

    let started = Instant::now();
    let mut pages = Vec::new();
    let first = setup
        .run_with(&ReconcileOptions::default(), |event| pages.push(event))
        .await
        .expect("the first run");
    eprintln!(
        "reconcile of {USERS} new users took {:?}",
        started.elapsed()
    );
    assert_eq!(first.clerk_total, USERS as u64);
    assert_eq!(first.seen, USERS as u64);
    assert_eq!(first.created, USERS as u64);
    assert_eq!(
        (
            first.updated,
            first.unchanged,
            first.kept_deleted,
            first.failed
        ),
        (0, 0, 0, 0)
    );
    assert!(first.missing.is_empty());
    // Clerk holds no dbId yet: every user needs the mirror.
    assert_eq!(first.metadata_queued, USERS as u64);
    assert_eq!(setup.pending_jobs().await, USERS as i64);
    assert_eq!(setup.rows().await, USERS as i64);
    assert_eq!(distinct_clerk_ids(&setup).await, USERS as i64);
    // Ten pages of 500, each reported, with the count from /v1/users/count.
    assert_eq!(
        pages.first(),
        Some(&ReconcileEvent::Started { total: 5_000 })
    );
    let page_events: Vec<_> = pages
        .iter()
        .filter_map(|event| match event {
            ReconcileEvent::Page { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(page_events.len(), 10, "{page_events:?}");
    assert_eq!(page_events[0], (500, 5_000));
    assert_eq!(page_events[9], (5_000, 5_000));
    // The row carries Clerk's profile and the role Clerk's metadata seeded.
    let last = seeded.last().expect("a seeded user");
    assert_eq!(
        setup.row(&last.id).await,
        (false, "bulk4999 Tester".into(), "user".into())
    );

    let started = Instant::now();
    let second = setup
        .run(&ReconcileOptions::default())
        .await
        .expect("the second run");
    eprintln!(
        "reconcile of {USERS} known users took {:?}",
        started.elapsed()
    );
    assert_eq!((second.created, second.updated), (0, 0));
    assert_eq!(second.unchanged, USERS as u64);
    assert_eq!((second.failed, second.kept_deleted), (0, 0));
    assert!(second.missing.is_empty());
    assert_eq!(setup.rows().await, USERS as i64);
    // Clerk's copy still lacks dbId (no worker ran), so the mirror is asked for again; it
    // coalesces into the pending job, one per user.
    assert_eq!(second.metadata_queued, USERS as u64);
    assert_eq!(setup.pending_jobs().await, USERS as i64);
}

#[tokio::test]
async fn a_run_stopped_half_way_is_finished_by_the_next() {
    let setup = setup().await;
    setup.seed("half", USERS).await;

    // After five pages Clerk starts failing for good: the run gives up on the sixth.
    let faults = setup.emulator().clone();
    let started = Instant::now();
    let stopped = setup
        .run_with(&impatient(ReconcileOptions::default()), |event| {
            if let ReconcileEvent::Page { done: 2_500, .. } = event {
                faults.faults().set_bapi_failures(1_000, 500);
            }
        })
        .await
        .expect_err("the run must stop");
    eprintln!("interrupted reconcile took {:?}", started.elapsed());
    assert!(
        stopped
            .to_string()
            .contains("Clerk failed while listing the users"),
        "{stopped}"
    );
    assert_eq!(stopped.partial.created, 2_500);
    assert_eq!(setup.rows().await, 2_500, "what it did is committed");

    // A second interruption, this time by dropping the run in the middle of a page (as a
    // killed process would): whatever it committed stays, nothing is half-written.
    setup.emulator().faults().reset();
    let (stop, stopped_signal) = tokio::sync::oneshot::channel::<()>();
    let mut stop = Some(stop);
    let defaults = ReconcileOptions::default();
    let dropped = tokio::select! {
        result = setup.run_with(&defaults, |event| {
            if let ReconcileEvent::Page { done: 3_500, .. } = event {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }) => Some(result),
        _ = stopped_signal => None,
    };
    assert!(dropped.is_none(), "the run was dropped before its end");
    let after_drop = setup.rows().await;
    assert!(
        (3_500..USERS as i64).contains(&after_drop),
        "{after_drop} rows after the drop"
    );
    assert_eq!(distinct_clerk_ids(&setup).await, after_drop);

    let started = Instant::now();
    let finished = setup
        .run(&ReconcileOptions::default())
        .await
        .expect("the run after the interruptions");
    eprintln!("finishing reconcile took {:?}", started.elapsed());
    assert_eq!(finished.created, USERS as u64 - after_drop as u64);
    assert_eq!(finished.unchanged, after_drop as u64);
    assert_eq!((finished.updated, finished.failed), (0, 0));
    assert!(finished.missing.is_empty());
    assert_eq!(setup.rows().await, USERS as i64);
    assert_eq!(distinct_clerk_ids(&setup).await, USERS as i64);
    assert_eq!(setup.pending_jobs().await, USERS as i64);
}
