//! What a processed event leads to besides its row: a metadata job only when Clerk differs, a
//! fresh cache, the outbox's metrics, and pruned svix ids.

use crate::helpers::app::spawn_app;
use crate::helpers::database::count;
use crate::helpers::metrics::{sample, spawn_app_with_metrics};
use crate::helpers::webhooks::{clerk_user, created, deleted, envelope, post_ok, row, updated};
use serde_json::json;
use warden::models::ClerkUserId;

#[tokio::test]
async fn metadata_is_queued_only_when_clerk_differs() {
    let app = spawn_app().await;
    let jobs = || {
        count(
            &app.pool,
            "SELECT count(*) FROM metadata_outbox WHERE status = 'pending'",
        )
    };
    post_ok(&app, "msg_1", &created("user_meta", "Mia", 1_000)).await;
    assert_eq!(jobs().await, 1, "Clerk has no dbId yet");
    let user = row(&app.pool, "user_meta").await.unwrap();
    // The echo of our write: equal, nothing queued (and the pending job is not duplicated).
    let echo = clerk_user(
        "user_meta",
        Some("Mia@example.com"),
        "Mia",
        2_000,
        json!({"dbId": user.id.to_string(), "role": "user", "department": "x"}),
    );
    post_ok(&app, "msg_2", &envelope("user.updated", echo, 2_000)).await;
    assert_eq!(jobs().await, 1);
    sqlx::query("UPDATE metadata_outbox SET status = 'delivered', finished_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    // Someone edits the role in Clerk's dashboard: we put ours back.
    let edited = clerk_user(
        "user_meta",
        Some("Mia@example.com"),
        "Mia",
        3_000,
        json!({"dbId": user.id.to_string(), "role": "admin"}),
    );
    post_ok(&app, "msg_3", &envelope("user.updated", edited, 3_000)).await;
    assert_eq!(jobs().await, 1);
    assert_eq!(row(&app.pool, "user_meta").await.unwrap().role, "user");
}

#[tokio::test]
async fn a_processed_event_invalidates_the_cache() {
    let app = spawn_app().await;
    let users = &app.state.users;
    let clerk_id = ClerkUserId::new("user_cache");
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
    post_ok(&app, "msg_1", &created("user_cache", "Old", 1_000)).await;
    let cached = users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.name, "Old Tester");
    let by_id = users.get_user(cached.id).await.unwrap().unwrap();
    assert_eq!(by_id.name, "Old Tester");
    post_ok(&app, "msg_2", &updated("user_cache", "New", 2_000)).await;
    assert_eq!(
        users
            .get_user_by_clerk_id(&clerk_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "New Tester"
    );
    assert_eq!(
        users.get_user(cached.id).await.unwrap().unwrap().name,
        "New Tester"
    );
    post_ok(&app, "msg_3", &deleted("user_cache", 3_000)).await;
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
    assert!(users.get_user(cached.id).await.unwrap().is_none());
}

#[tokio::test]
async fn metrics_show_the_outbox() {
    let app = spawn_app_with_metrics().await;
    post_ok(&app, "msg_1", &created("user_m1", "One", 1)).await;
    post_ok(&app, "msg_2", &created("user_m2", "Two", 1)).await;
    sqlx::query(
        "UPDATE metadata_outbox SET status = 'parked', finished_at = now(), last_error = 'x'
         WHERE user_id = (SELECT id FROM users WHERE clerk_user_id = 'user_m2')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let stats = warden::sync::outbox::outbox_stats(&app.pool).await.unwrap();
    assert_eq!(
        (stats.pending, stats.parked, stats.delivered_recent),
        (1, 1, 0)
    );
    assert!(stats.oldest_pending_age.is_some());
    let text = app.scrape().await;
    assert!(
        text.contains("# TYPE warden_outbox_pending gauge\n"),
        "{text}"
    );
    assert_eq!(sample(&text, "warden_outbox_pending", &[]), 1.0, "{text}");
    assert_eq!(sample(&text, "warden_outbox_parked", &[]), 1.0, "{text}");
    assert_eq!(
        sample(&text, "warden_outbox_delivered_recent", &[]),
        0.0,
        "{text}"
    );
    assert!(
        text.contains("\nwarden_outbox_oldest_pending_age_seconds "),
        "{text}"
    );
}

#[tokio::test]
async fn old_processed_ids_are_pruned() {
    let app = spawn_app().await;
    post_ok(&app, "msg_old", &created("user_p", "Pat", 1)).await;
    post_ok(&app, "msg_new", &updated("user_p", "Pat", 2)).await;
    sqlx::query("UPDATE webhook_events SET received_at = now() - interval '8 days' WHERE svix_id = 'msg_old'")
        .execute(&app.pool)
        .await
        .unwrap();
    let config = warden::server::maintenance::MaintenanceConfig::default();
    let pruned = warden::server::maintenance::prune_once(&app.pool, &config)
        .await
        .unwrap();
    assert_eq!(pruned.webhook_events, 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT svix_id FROM webhook_events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, vec!["msg_new".to_string()]);
}
