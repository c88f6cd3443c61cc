//! The change feed going down: from the moment the app knows, it serves nothing cached, so a
//! change it was never told about (the feed was down, or the change fired no NOTIFY) is seen on
//! the very next request; once the feed is back, the cache is used again from a clean slate.

use super::{profile, store};
use crate::helpers::app::{spawn_app_with, AppOptions, TestApp};
use crate::helpers::database::fresh_database;
use crate::helpers::outbox::eventually;
use sqlx::PgPool;
use std::time::Duration;
use warden::users::changes::CHANGE_FEED_APPLICATION_NAME;

/// Sets a role with plain SQL that fires no trigger, so no NOTIFY: only a bypassed (or
/// flushed) cache can show it.
pub(super) async fn set_role_silently(pool: &PgPool, clerk_id: &str, role: &str) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET role = $2::user_role WHERE clerk_user_id = $1")
        .bind(clerk_id)
        .bind(role)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Ends the listening connection of this database's app, as a network failure would.
pub(super) async fn terminate_feed(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1) t",
    )
    .bind(CHANGE_FEED_APPLICATION_NAME)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An app whose change feed listens, with a long retry so that a test can act during an outage,
/// and no webhooks: nothing but the test changes the rows.
pub(super) async fn live_app() -> TestApp {
    let app = spawn_app_with(AppOptions {
        // Long enough for a test's steps to happen during the outage, even on a slow machine.
        change_feed_retry: Some(Duration::from_secs(15)),
        clerk: Some(Box::new(|config| config.webhook_endpoints.clear())),
        ..Default::default()
    })
    .await;
    let users = app.state.users.clone();
    eventually(Duration::from_secs(30), "the feed listens", || {
        let live = users.change_feed_is_live();
        async move { live }
    })
    .await;
    app
}

#[tokio::test]
async fn while_the_feed_is_down_every_request_reads_the_database() {
    let app = live_app().await;
    let users = app.state.users.clone();
    let person = app.clerk_user("Fay", "Feed", "fay@example.com").await;
    let browser = app.signed_in_client(&person.id).await;
    app.sync(&browser).await;
    assert_eq!(browser.get("/admin").await.status(), 403, "a user");

    // The cache is in use while the feed is live: a silent change is not seen.
    set_role_silently(&app.pool, &person.id, "admin").await;
    assert_eq!(browser.get("/admin").await.status(), 403, "cached");
    set_role_silently(&app.pool, &person.id, "user").await;

    assert_eq!(terminate_feed(&app.pool).await, 1, "one listener");
    eventually(
        Duration::from_secs(10),
        "the app sees the feed down",
        || {
            let live = users.change_feed_is_live();
            async move { !live }
        },
    )
    .await;
    assert_eq!(browser.get("/admin").await.status(), 403, "still a user");
    set_role_silently(&app.pool, &person.id, "admin").await;
    assert_eq!(
        browser.get("/admin").await.status(),
        200,
        "the promotion is seen at once, with no notification"
    );
    set_role_silently(&app.pool, &person.id, "user").await;
    assert_eq!(
        browser.get("/admin").await.status(),
        403,
        "and the demotion"
    );
    assert!(
        !users.change_feed_is_live(),
        "all of this happened while the feed was down"
    );

    // A change made while nobody listened, then the feed comes back: the flush shows it.
    set_role_silently(&app.pool, &person.id, "admin").await;
    eventually(Duration::from_secs(60), "the feed listens again", || {
        let live = users.change_feed_is_live();
        async move { live }
    })
    .await;
    assert_eq!(browser.get("/admin").await.status(), 200, "after the flush");
    // And the cache is trusted again.
    set_role_silently(&app.pool, &person.id, "user").await;
    assert_eq!(browser.get("/admin").await.status(), 200, "cached again");
}

#[tokio::test]
async fn the_feed_counts_as_down_until_its_first_listen() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_fd", "Dora"), None)
        .await
        .unwrap();
    let follower = users.follow_database_changes();
    assert!(!users.change_feed_is_live(), "down before LISTEN");
    eventually(Duration::from_secs(30), "the feed listens", || {
        let live = users.change_feed_is_live();
        async move { live }
    })
    .await;
    users.get_user(created.id).await.unwrap();
    follower.abort();
}
