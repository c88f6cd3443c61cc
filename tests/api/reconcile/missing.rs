//! Users we hold that Clerk no longer has: reported, soft-deleted only with `--apply`, and never
//! confused with users the walk merely did not list.

use super::{clerk_copy, setup};
use warden::sync::reconcile::{ReconcileEvent, ReconcileOptions};
use warden::sync::{apply_clerk_user, MetadataMirror};
use warden::users::VersionedUpsert;

fn apply() -> ReconcileOptions {
    ReconcileOptions {
        apply: true,
        ..ReconcileOptions::default()
    }
}

/// Runs `future` to its end from inside a (synchronous) progress callback.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

#[tokio::test]
async fn users_clerk_deleted_are_reported_and_soft_deleted_only_with_apply() {
    let setup = setup().await;
    let seeded = setup.seed("gone", 30).await;
    setup
        .run(&ReconcileOptions::default())
        .await
        .expect("first run");
    let gone: Vec<&str> = [3, 17, 29].iter().map(|&i| seeded[i].id.as_str()).collect();
    // Clerk's copies from before the deletion: what a late webhook would carry.
    let mut stale_copies = Vec::new();
    for id in &gone {
        stale_copies.push(clerk_copy(&setup, id).await);
        setup
            .emulator()
            .delete_user(id)
            .await
            .expect("deleting in Clerk");
    }

    let report = setup
        .run(&ReconcileOptions::default())
        .await
        .expect("dry run");
    let mut missing: Vec<&str> = report
        .missing
        .iter()
        .map(|user| user.clerk_user_id.as_str())
        .collect();
    missing.sort();
    let mut expected = gone.clone();
    expected.sort();
    assert_eq!(missing, expected);
    assert!(report.missing[0].email.ends_with("@example.com"));
    assert_eq!((report.unchanged, report.soft_deleted), (27, 0));
    assert!(!report.applied);
    assert_eq!(
        setup.active_rows().await,
        30,
        "nothing deleted without --apply"
    );

    let report = setup.run(&apply()).await.expect("run with --apply");
    assert_eq!(report.missing.len(), 3);
    assert_eq!(report.soft_deleted, 3);
    assert_eq!(setup.active_rows().await, 27);
    assert_eq!(setup.rows().await, 30, "soft deletes keep the row");
    for id in &gone {
        assert_eq!(
            setup.row(id).await,
            (true, "Deleted User".into(), "user".into())
        );
        assert_eq!(
            setup.pending_jobs_of(id).await,
            0,
            "nothing left to tell Clerk"
        );
        assert!(setup
            .users
            .is_deleted(&warden::models::ClerkUserId::new(*id))
            .await
            .expect("a read"));
    }

    // A webhook that arrives late, even one claiming a later version, finds the tombstone.
    for mut copy in stale_copies {
        let applied = apply_clerk_user(&setup.users, &copy, MetadataMirror::Queue)
            .await
            .expect("applying a late copy");
        assert!(matches!(applied.upsert, VersionedUpsert::Deleted(_)));
        copy.updated_at += 86_400_000;
        let applied = apply_clerk_user(&setup.users, &copy, MetadataMirror::Queue)
            .await
            .expect("applying a newer copy");
        assert!(matches!(applied.upsert, VersionedUpsert::Deleted(_)));
    }
    assert_eq!(setup.active_rows().await, 27);

    // Done: nothing missing any more.
    let report = setup.run(&apply()).await.expect("a third run");
    assert!(report.missing.is_empty());
    assert_eq!((report.unchanged, report.soft_deleted), (27, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_the_walk_did_not_list_but_clerk_has_are_not_missing() {
    let setup = setup().await;
    let seeded = setup.seed("walk", 30).await;
    setup
        .run(&ReconcileOptions::default())
        .await
        .expect("first run");

    let options = ReconcileOptions {
        apply: true,
        page_size: 10,
        ..ReconcileOptions::default()
    };
    let emulator = setup.emulator().clone();
    let users = setup.users.clone();
    let first = seeded[0].id.clone();
    let mut late_arrival = None;
    let report = setup
        .run_with(&options, |event| match event {
            // Clerk deletes a user of the first page while the walk is on it: every later offset
            // moves by one, and the 11th user is never listed.
            ReconcileEvent::Page { done: 10, .. } => {
                block_on(emulator.delete_user(&first)).expect("deleting in Clerk");
            }
            // A person signs up after the last page was fetched, and their webhook is in
            // before the walk looks for the users it did not list.
            ReconcileEvent::Page { done: 29, .. } => {
                let created = block_on(emulator.create_user(clerk_emulator::NewUser {
                    email: "late@example.com".into(),
                    first_name: Some("Late".into()),
                    ..Default::default()
                }))
                .expect("a new Clerk user");
                let value = serde_json::to_value(&created).expect("as JSON");
                let copy = serde_json::from_value(value).expect("a ClerkUser");
                block_on(apply_clerk_user(&users, &copy, MetadataMirror::Queue))
                    .expect("the webhook's effect");
                late_arrival = Some(created.id);
            }
            _ => {}
        })
        .await
        .expect("the run");
    let late = late_arrival.expect("the late user");
    let missing: Vec<&str> = report
        .missing
        .iter()
        .map(|user| user.clerk_user_id.as_str())
        .collect();
    // Only the user Clerk really deleted; it was listed before its deletion, so it is not
    // even a candidate; the 11th user and the late one are confirmed present.
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(
        report.seen, 31,
        "29 listed, the 11th and the late one confirmed"
    );
    assert_eq!(report.unchanged, 31);
    assert_eq!((report.created, report.soft_deleted), (0, 0));
    assert!(!setup.row(&seeded[10].id).await.0);
    assert!(!setup.row(&late).await.0);

    // The next run finds the deleted one.
    let report = setup.run(&options).await.expect("the next run");
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.missing[0].clerk_user_id.as_str(), first);
    assert_eq!(report.soft_deleted, 1);
}

#[tokio::test]
async fn apply_refuses_to_delete_most_of_our_users_unless_told_twice() {
    let setup = setup().await;
    let seeded = setup.seed("mass", 20).await;
    setup
        .run(&ReconcileOptions::default())
        .await
        .expect("first run");
    for user in &seeded[..15] {
        setup
            .emulator()
            .delete_user(&user.id)
            .await
            .expect("deleting in Clerk");
    }
    let report = setup.run(&apply()).await.expect("run with --apply");
    assert_eq!(report.missing.len(), 15);
    assert!(report.mass_delete_refused);
    assert_eq!(report.soft_deleted, 0);
    assert_eq!(setup.active_rows().await, 20);

    let report = setup
        .run(&ReconcileOptions {
            allow_mass_delete: true,
            ..apply()
        })
        .await
        .expect("run with --apply --allow-mass-delete");
    assert!(!report.mass_delete_refused);
    assert_eq!(report.soft_deleted, 15);
    assert_eq!(setup.active_rows().await, 5);
}
