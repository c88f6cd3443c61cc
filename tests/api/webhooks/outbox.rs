//! End to end with the local Clerk provider's own Svix-signed deliveries and its Backend API:
//! the metadata echo settles, and the outbox drains when Clerk's API fails or rate-limits,
//! parks a job that keeps failing, and drops one whose user is gone.

use crate::helpers::app::spawn_app;
use crate::helpers::clerk::{clerk_metadata, new_user, updated_messages};
use crate::helpers::database::count;
use crate::helpers::metrics::{sample, spawn_app_with_metrics};
use crate::helpers::outbox::{eventually, fast_outbox, job_counts, settle, start_worker, WAIT};
use crate::helpers::webhooks::row;
use serde_json::json;
use std::time::Duration;
use warden::sync::outbox::{outbox_stats, OutboxConfig};

#[tokio::test]
async fn the_metadata_echo_settles_after_one_round_trip() {
    let app = spawn_app().await;
    let worker = start_worker(&app.state, fast_outbox());
    let provider = app.emulator();

    let created = provider
        .create_user(new_user(
            "echo@example.com",
            "Echo",
            json!({"role": "admin", "plan": "pro"}),
        ))
        .await
        .unwrap();
    settle(provider, &app.pool).await;

    let user = row(&app.pool, &created.id)
        .await
        .expect("created by the webhook");
    assert_eq!(user.role, "admin", "seeded from Clerk");
    assert_eq!(
        clerk_metadata(provider, &created.id).await,
        json!({"role": "admin", "plan": "pro", "dbId": user.id.to_string()}),
        "merged, other keys kept"
    );
    // created → one metadata write → its user.updated echo → nothing more.
    assert_eq!(updated_messages(provider), 1);
    assert_eq!(job_counts(&app.pool).await, (0, 1, 0));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(updated_messages(provider), 1, "no further write");

    // The role management path (public contract): change + enqueue in one transaction.
    // TODO(store): raw SQL on `users`; becomes `UserStore::set_role_in` on this transaction.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("UPDATE users SET role = 'user' WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    warden::sync::outbox::enqueue_metadata(&mut tx, warden::models::UserId(user.id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    settle(provider, &app.pool).await;
    assert_eq!(clerk_metadata(provider, &created.id).await["role"], "user");
    assert_eq!(
        updated_messages(provider),
        2,
        "one write, one echo, then quiet"
    );
    assert_eq!(row(&app.pool, &created.id).await.unwrap().role, "user");
    worker.shutdown().await;
}

#[tokio::test]
async fn the_outbox_drains_after_clerk_fails_and_rate_limits() {
    let app = spawn_app().await;
    let provider = app.emulator();
    // 500s first, and the users are created while nobody delivers.
    provider.faults().set_bapi_failures(6, 500);
    let mut ids = Vec::new();
    for n in 0..3 {
        let user = provider
            .create_user(new_user(&format!("f{n}@example.com"), "Faulty", json!({})))
            .await
            .unwrap();
        ids.push(user.id);
    }
    tokio::time::timeout(WAIT, provider.webhooks_idle())
        .await
        .unwrap();
    assert_eq!(job_counts(&app.pool).await.0, 3);
    let worker = start_worker(&app.state, fast_outbox());
    eventually(WAIT, "the 500s to be used up", || async {
        count(
            &app.pool,
            "SELECT count(*) FROM metadata_outbox WHERE last_error LIKE '%500%'",
        )
        .await
            > 0
            && count(
                &app.pool,
                "SELECT coalesce(sum(attempts), 0) FROM metadata_outbox",
            )
            .await
                >= 6
    })
    .await;
    // Then 429s with Retry-After: 1.
    provider.faults().set_bapi_failures(4, 429);
    settle(provider, &app.pool).await;
    for id in &ids {
        let user = row(&app.pool, id).await.unwrap();
        assert_eq!(
            clerk_metadata(provider, id).await["dbId"],
            user.id.to_string()
        );
    }
    assert_eq!(job_counts(&app.pool).await, (0, 3, 0));
    let stats = outbox_stats(&app.pool).await.unwrap();
    assert_eq!(
        (stats.pending, stats.parked, stats.delivered_recent),
        (0, 0, 3)
    );
    assert_eq!(updated_messages(provider), 3, "each user written once");
    worker.shutdown().await;
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_parked_and_visible() {
    let app = spawn_app_with_metrics().await;
    let before = app.scrape().await;
    let provider = app.emulator();
    let user = provider
        .create_user(new_user("park@example.com", "Parker", json!({})))
        .await
        .unwrap();
    tokio::time::timeout(WAIT, provider.webhooks_idle())
        .await
        .unwrap();
    provider.faults().set_bapi_failures(1000, 503);
    let config = OutboxConfig {
        max_attempts: 3,
        ..fast_outbox()
    };
    let worker = start_worker(&app.state, config);
    eventually(WAIT, "the job to be parked", || async {
        job_counts(&app.pool).await.2 == 1
    })
    .await;
    worker.shutdown().await;
    let attempts = count(&app.pool, "SELECT attempts::bigint FROM metadata_outbox").await;
    assert_eq!(attempts, 3);
    let metrics = app.scrape().await;
    assert!(metrics.contains("\nwarden_outbox_parked 1\n"), "{metrics}");
    let attempts = |text: &str, outcome: &str| {
        sample(
            text,
            "warden_outbox_delivery_attempts_total",
            &[("outcome", outcome)],
        )
    };
    assert!(
        attempts(&metrics, "retry") - attempts(&before, "retry") >= 2.0,
        "{metrics}"
    );
    assert!(
        attempts(&metrics, "parked") - attempts(&before, "parked") >= 1.0,
        "{metrics}"
    );
    // Clerk recovers; a new change for the user gets a new job, which delivers.
    provider.faults().set_bapi_failures(0, 500);
    let db_user = row(&app.pool, &user.id).await.unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    warden::sync::outbox::enqueue_metadata(&mut conn, warden::models::UserId(db_user.id))
        .await
        .unwrap();
    let worker = start_worker(&app.state, fast_outbox());
    settle(provider, &app.pool).await;
    assert_eq!(job_counts(&app.pool).await, (0, 1, 1));
    assert_eq!(
        clerk_metadata(provider, &user.id).await["dbId"],
        db_user.id.to_string()
    );
    worker.shutdown().await;
}

#[tokio::test]
async fn a_job_for_a_user_deleted_meanwhile_is_dropped() {
    let app = spawn_app().await;
    let provider = app.emulator();
    let user = provider
        .create_user(new_user("drop@example.com", "Dropped", json!({})))
        .await
        .unwrap();
    tokio::time::timeout(WAIT, provider.webhooks_idle())
        .await
        .unwrap();
    let db_user = row(&app.pool, &user.id).await.unwrap();
    // Deleted here by another path (the job stays pending): the worker drops it.
    app.state
        .users
        .delete_user(&warden::models::ClerkUserId::new(&user.id))
        .await
        .unwrap();
    let worker = start_worker(&app.state, fast_outbox());
    eventually(WAIT, "the job to be dropped", || async {
        count(
            &app.pool,
            "SELECT count(*) FROM metadata_outbox WHERE status = 'dropped'",
        )
        .await
            == 1
    })
    .await;
    worker.shutdown().await;
    assert_eq!(clerk_metadata(provider, &user.id).await.get("dbId"), None);
    assert!(row(&app.pool, &user.id).await.unwrap().deleted);
    let _ = db_user;
}
