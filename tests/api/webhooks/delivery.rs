//! Deliveries at least once and in any order: duplicates, late older versions, deletions before
//! and after everything else; the role Clerk seeds, and users without email.

use crate::helpers::app::spawn_app;
use crate::helpers::clerk::now_secs;
use crate::helpers::database::count;
use crate::helpers::webhooks::{
    clerk_user, created, deleted, envelope, events_recorded, post_ok, post_signed_at, row, secret,
    updated, users_count,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let app = spawn_app().await;
    assert_eq!(
        post_ok(&app, "msg_1", &created("user_dup", "Ada", 10)).await,
        "created"
    );
    let before = row(&app.pool, "user_dup").await.unwrap();
    // The same message again (as Svix retries it), and the same id with other content
    // (a replay is byte-identical, so only the id matters).
    assert_eq!(
        post_ok(&app, "msg_1", &created("user_dup", "Ada", 10)).await,
        "duplicate"
    );
    assert_eq!(
        post_ok(&app, "msg_1", &updated("user_dup", "Bob", 20)).await,
        "duplicate"
    );
    assert_eq!(row(&app.pool, "user_dup").await.unwrap(), before);
    assert_eq!(events_recorded(&app).await, 1);

    // Eight copies of a new message at once: exactly one is applied.
    let body = updated("user_dup", "Cleo", 30);
    let (client, base_url, secret) = (app.client.clone(), app.base_url.clone(), secret(&app));
    let ts = now_secs();
    let copies = (0..8).map(|_| {
        let (client, base_url, secret, body) = (
            client.clone(),
            base_url.clone(),
            secret.clone(),
            body.clone(),
        );
        async move { post_signed_at(&client, &base_url, &secret, "msg_2", ts, &body).await }
    });
    let mut outcomes = Vec::new();
    for response in futures_join(copies).await {
        assert_eq!(response.status(), StatusCode::OK);
        outcomes.push(response.text().await.unwrap());
    }
    outcomes.sort();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "updated").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "duplicate").count(),
        7,
        "{outcomes:?}"
    );
    assert_eq!(
        row(&app.pool, "user_dup").await.unwrap().name,
        "Cleo Tester"
    );
}

/// Runs the futures concurrently (no extra crate: one task each).
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn older_versions_arriving_late_change_nothing() {
    let app = spawn_app().await;
    // v3 first, then v1 (created) and v2: only v3 counts.
    assert_eq!(
        post_ok(&app, "msg_v3", &updated("user_ord", "Third", 3_000)).await,
        "created"
    );
    assert_eq!(
        post_ok(&app, "msg_v1", &created("user_ord", "First", 1_000)).await,
        "stale"
    );
    assert_eq!(
        post_ok(&app, "msg_v2", &updated("user_ord", "Second", 2_000)).await,
        "stale"
    );
    let user = row(&app.pool, "user_ord").await.unwrap();
    assert_eq!(user.name, "Third Tester");
    assert_eq!(user.email, "Third@example.com");
    assert_eq!(user.clerk_updated_at, Some(3_000));
    // An equal version (another message for the same state) is not newer either.
    assert_eq!(
        post_ok(&app, "msg_v3b", &updated("user_ord", "Same", 3_000)).await,
        "stale"
    );
    assert_eq!(
        post_ok(&app, "msg_v4", &updated("user_ord", "Fourth", 4_000)).await,
        "updated"
    );
    assert_eq!(
        row(&app.pool, "user_ord").await.unwrap().name,
        "Fourth Tester"
    );
}

#[tokio::test]
async fn a_deleted_user_stays_deleted_whatever_arrives_later() {
    let app = spawn_app().await;
    post_ok(&app, "msg_c", &created("user_del", "Gone", 1_000)).await;
    assert_eq!(
        post_ok(&app, "msg_d", &deleted("user_del", 5_000)).await,
        "deleted"
    );
    let tombstone = row(&app.pool, "user_del").await.unwrap();
    assert!(tombstone.deleted);
    assert_eq!(tombstone.name, "Deleted User");
    assert_eq!(tombstone.email, "redacted@deleted.com");
    assert_eq!(tombstone.image_url, None);

    // Late events: older, newer (clock skew), a second deletion, a replay of the creation.
    assert_eq!(
        post_ok(&app, "msg_u", &updated("user_del", "Late", 2_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_u2", &updated("user_del", "Later", 9_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_d2", &deleted("user_del", 6_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_c", &created("user_del", "Gone", 1_000)).await,
        "duplicate"
    );
    assert_eq!(row(&app.pool, "user_del").await.unwrap(), tombstone);
    assert_eq!(users_count(&app).await, 1);
}

#[tokio::test]
async fn a_deletion_before_the_creation_leaves_a_tombstone() {
    let app = spawn_app().await;
    assert_eq!(
        post_ok(&app, "msg_d", &deleted("user_early", 5_000)).await,
        "tombstoned"
    );
    let tombstone = row(&app.pool, "user_early").await.unwrap();
    assert!(tombstone.deleted);
    assert_eq!(tombstone.email, "redacted@deleted.com");
    assert_eq!(
        post_ok(&app, "msg_c", &created("user_early", "Late", 1_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_u", &updated("user_early", "Late", 2_000)).await,
        "already deleted"
    );
    assert_eq!(row(&app.pool, "user_early").await.unwrap(), tombstone);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM metadata_outbox").await,
        0,
        "nothing to tell Clerk about a deleted user"
    );
}

#[tokio::test]
async fn a_second_users_deletion_does_not_collide_with_the_first() {
    let app = spawn_app().await;
    post_ok(&app, "msg_a", &created("user_a", "Ada", 1_000)).await;
    post_ok(&app, "msg_b", &created("user_b", "Bob", 1_000)).await;
    post_ok(&app, "msg_c", &created("user_c", "Cleo", 1_000)).await;
    assert_eq!(
        post_ok(&app, "msg_da", &deleted("user_a", 2_000)).await,
        "deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_db", &deleted("user_b", 3_000)).await,
        "deleted"
    );
    assert!(row(&app.pool, "user_a").await.unwrap().deleted);
    assert!(row(&app.pool, "user_b").await.unwrap().deleted);
    let cleo = row(&app.pool, "user_c").await.unwrap();
    assert!(!cleo.deleted);
    assert_eq!(cleo.name, "Cleo Tester");
}

#[tokio::test]
async fn clerk_seeds_the_role_once_and_never_overwrites_it() {
    let app = spawn_app().await;
    let data = |role: &str, version: i64| {
        clerk_user(
            "user_role",
            Some("r@example.com"),
            "Rae",
            version,
            json!({"role": role}),
        )
    };
    post_ok(
        &app,
        "msg_1",
        &envelope("user.created", data("admin", 1_000), 1_000),
    )
    .await;
    assert_eq!(row(&app.pool, "user_role").await.unwrap().role, "admin");
    // Clerk's copy says otherwise later: the database keeps its role.
    post_ok(
        &app,
        "msg_2",
        &envelope("user.updated", data("user", 2_000), 2_000),
    )
    .await;
    assert_eq!(row(&app.pool, "user_role").await.unwrap().role, "admin");
    // An unknown value seeds the default.
    let other = clerk_user(
        "user_role2",
        Some("q@example.com"),
        "Quinn",
        1,
        json!({"role": "owner"}),
    );
    post_ok(&app, "msg_3", &envelope("user.created", other, 1)).await;
    assert_eq!(row(&app.pool, "user_role2").await.unwrap().role, "user");
}

#[tokio::test]
async fn a_user_without_email_is_acknowledged_and_not_stored() {
    let app = spawn_app().await;
    let data = clerk_user("user_noemail", None, "Nemo", 1_000, json!({}));
    assert_eq!(
        post_ok(&app, "msg_1", &envelope("user.created", data, 1_000)).await,
        "skipped"
    );
    assert!(row(&app.pool, "user_noemail").await.is_none());
    // Once Clerk has an address, the next update creates the user.
    assert_eq!(
        post_ok(&app, "msg_2", &updated("user_noemail", "Nemo", 2_000)).await,
        "created"
    );
    // A later version without email keeps what we have.
    let data = clerk_user("user_noemail", None, "Nobody", 3_000, json!({}));
    assert_eq!(
        post_ok(&app, "msg_3", &envelope("user.updated", data, 3_000)).await,
        "skipped"
    );
    assert_eq!(
        row(&app.pool, "user_noemail").await.unwrap().name,
        "Nemo Tester"
    );
}
