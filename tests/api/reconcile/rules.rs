//! The webhook's rules hold for a reconcile too: tombstones win, the role is seeded only on
//! first sight, and Clerk's `{dbId, role}` is set right through the outbox.

use super::setup;
use serde_json::json;
use warden::models::{ClerkUserId, Role};
use warden::sync::reconcile::ReconcileOptions;

#[tokio::test]
async fn a_user_deleted_here_stays_deleted_though_clerk_still_lists_them() {
    let setup = setup().await;
    let seeded = setup.seed("tomb", 6).await;
    // One deleted here after it came in, one tombstoned before we ever saw it (its deletion
    // event overtook its creation).
    setup
        .run(&ReconcileOptions::default())
        .await
        .expect("first run");
    let deleted_here = ClerkUserId::new(&seeded[1].id);
    setup
        .users
        .delete_clerk_version(&deleted_here, i64::MAX / 2)
        .await
        .expect("a deletion");
    let never_seen = setup
        .emulator()
        .seed_users(super::people("unseen", 1))
        .await
        .expect("one more Clerk user")
        .remove(0);
    setup
        .users
        .delete_clerk_version(&ClerkUserId::new(&never_seen.id), 1)
        .await
        .expect("a tombstone");
    let jobs_before = setup.pending_jobs().await;

    let report = setup
        .run(&ReconcileOptions {
            apply: true,
            ..ReconcileOptions::default()
        })
        .await
        .expect("reconcile");
    assert_eq!(report.seen, 7);
    assert_eq!(report.kept_deleted, 2);
    assert_eq!(report.unchanged, 5);
    assert_eq!((report.created, report.updated), (0, 0));
    assert!(
        report.missing.is_empty(),
        "deleted rows are not ours to report"
    );
    for id in [seeded[1].id.as_str(), never_seen.id.as_str()] {
        let (deleted, name, _) = setup.row(id).await;
        assert!(deleted, "{id} stays deleted");
        assert_eq!(name, "Deleted User", "{id} stays redacted");
    }
    assert_eq!(setup.rows().await, 7);
    assert_eq!(setup.active_rows().await, 5);
    assert_eq!(
        setup.pending_jobs().await,
        jobs_before,
        "no mirror for a tombstone"
    );
    assert_eq!(setup.pending_jobs_of(&never_seen.id).await, 0);
}

#[tokio::test]
async fn a_role_changed_here_is_kept_and_clerks_copy_is_queued_for_a_fix() {
    let setup = setup().await;
    let seeded = setup.seed("role", 3).await;
    setup
        .run(&ReconcileOptions::default())
        .await
        .expect("first run");
    // As if the outbox had delivered every job: Clerk holds `{dbId, role: user}`.
    sqlx::query("DELETE FROM metadata_outbox")
        .execute(&setup.pool)
        .await
        .expect("clearing the outbox");
    for user in &seeded {
        let id = setup
            .users
            .id_by_clerk_id(&ClerkUserId::new(&user.id))
            .await
            .expect("a read")
            .expect("a row");
        setup
            .emulator()
            .update_user_metadata(
                &user.id,
                json!({"public_metadata": {"dbId": id.to_string(), "role": "user"}}),
            )
            .await
            .expect("Clerk's copy");
    }
    let report = setup.run(&ReconcileOptions::default()).await.expect("run");
    assert_eq!(report.updated, 3, "the metadata write is a newer version");
    assert_eq!(report.metadata_queued, 0, "Clerk's copy is right");
    assert_eq!(setup.pending_jobs().await, 0);

    // An admin promotes the first user here; Clerk's metadata still says "user".
    let promoted = ClerkUserId::new(&seeded[0].id);
    let id = setup
        .users
        .id_by_clerk_id(&promoted)
        .await
        .expect("a read")
        .expect("a row");
    let mut tx = setup.pool.begin().await.expect("a transaction");
    setup
        .users
        .set_role_in(&mut tx, id, Role::Admin)
        .await
        .expect("promoting");
    tx.commit().await.expect("commit");
    setup.users.invalidate_user(id, &promoted);

    let report = setup.run(&ReconcileOptions::default()).await.expect("run");
    assert_eq!(report.unchanged, 3);
    assert_eq!(
        report.metadata_queued, 1,
        "only the promoted user's copy differs"
    );
    assert_eq!(
        setup.row(&seeded[0].id).await.2,
        "admin",
        "the database owns the role"
    );
    assert_eq!(setup.pending_jobs_of(&seeded[0].id).await, 1);
    assert_eq!(setup.pending_jobs().await, 1);

    // Clerk's copy changes again (a newer version saying "user"): the role still stays.
    setup
        .emulator()
        .update_user_metadata(&seeded[0].id, json!({"public_metadata": {"role": "user"}}))
        .await
        .expect("Clerk's copy");
    let report = setup.run(&ReconcileOptions::default()).await.expect("run");
    assert_eq!(report.updated, 1);
    assert_eq!(setup.row(&seeded[0].id).await.2, "admin");
    assert_eq!(setup.pending_jobs_of(&seeded[0].id).await, 1, "coalesced");
}
