//! End to end with the local Clerk provider's own Svix-signed deliveries and its Backend API:
//! the metadata echo settles, and nothing is lost when the database stops, when Clerk's API
//! fails or rate-limits, or when the app dies between commit and delivery.

use crate::helpers::app::{spawn_app, Instance};
use crate::helpers::clerk::{clerk_metadata, new_user, now_secs, provider_for, updated_messages};
use crate::helpers::database::{count, fresh_database, fresh_database_on, own_cluster};
use crate::helpers::outbox::{eventually, fast_outbox, job_counts, settle, start_worker, WAIT};
use crate::helpers::webhooks::{clerk_user, envelope, post_signed_at, row, WEBHOOK_PATH};
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
    warden::sync::outbox::enqueue_metadata(&mut tx, warden::users::UserId(user.id))
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
    let app = spawn_app().await;
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
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("\nwarden_outbox_parked 1\n"), "{metrics}");
    // Clerk recovers; a new change for the user gets a new job, which delivers.
    provider.faults().set_bapi_failures(0, 500);
    let db_user = row(&app.pool, &user.id).await.unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    warden::sync::outbox::enqueue_metadata(&mut conn, warden::users::UserId(db_user.id))
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
        .delete_user(&warden::users::ClerkUserId::new(&user.id))
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

#[tokio::test]
async fn the_worker_resumes_after_the_app_died_between_commit_and_delivery() {
    let db = fresh_database().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let provider = provider_for(&format!("http://{addr}{WEBHOOK_PATH}"), 0.001).await;

    // First instance: no worker. The webhook commits the user and the job, then it dies.
    let first = Instance::start(listener, db.pool.clone(), &provider.emulator, &provider.url).await;
    let user = provider
        .emulator
        .create_user(new_user("phoenix@example.com", "Phoenix", json!({})))
        .await
        .unwrap();
    tokio::time::timeout(WAIT, provider.emulator.webhooks_idle())
        .await
        .unwrap();
    assert_eq!(job_counts(&db.pool).await, (1, 0, 0));
    assert_eq!(
        clerk_metadata(&provider.emulator, &user.id).await,
        json!({})
    );
    first.stop().await;

    // A job claimed by a worker that died mid-delivery is leased; it comes back when the
    // lease expires.
    sqlx::query(
        "UPDATE metadata_outbox SET attempts = 1, leased_until = now() + interval '1 second'",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    // A new instance on the same database and address; its worker delivers.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let second =
        Instance::start(listener, db.pool.clone(), &provider.emulator, &provider.url).await;
    let worker = start_worker(&second.state, fast_outbox());
    settle(&provider.emulator, &db.pool).await;
    let db_user = row(&db.pool, &user.id).await.unwrap();
    assert_eq!(
        clerk_metadata(&provider.emulator, &user.id).await,
        json!({"dbId": db_user.id.to_string(), "role": "user"})
    );
    assert_eq!(job_counts(&db.pool).await, (0, 1, 0));
    assert_eq!(
        updated_messages(&provider.emulator),
        1,
        "delivered once, echo settled"
    );
    worker.shutdown().await;
    second.stop().await;
}

#[tokio::test]
async fn nothing_is_lost_when_the_database_stops_mid_stream() {
    // A cluster of our own, which this test stops and starts.
    let cluster = own_cluster().await;
    let db = fresh_database_on(&cluster).await;
    // A short acquire timeout, so that requests fail with 503 well within Svix's timeout.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_millis(700))
        .connect_with(cluster.connect_options(&db.name))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Svix's schedule × 0.002: 0, 10 ms, 0.6 s, 3.6 s, 14 s, 36 s, …
    let provider = provider_for(&format!("http://{addr}{WEBHOOK_PATH}"), 0.002).await;
    let app = Instance::start(listener, pool.clone(), &provider.emulator, &provider.url).await;
    let worker = start_worker(&app.state, fast_outbox());
    let clerk = &provider.emulator;

    let mut ids = Vec::new();
    for n in 0..3 {
        let user = clerk
            .create_user(new_user(&format!("db{n}@example.com"), "Before", json!({})))
            .await
            .unwrap();
        ids.push(user.id);
    }
    settle(clerk, &pool).await;

    cluster.stop().await.expect("stopping PostgreSQL");
    // A delivery now gets 503 (Svix will retry it).
    let body = envelope(
        "user.updated",
        clerk_user(&ids[0], Some("db0@example.com"), "Direct", 1, json!({})),
        1,
    );
    let secret = clerk.config().webhook_signing_secret.clone();
    let client = reqwest::Client::new();
    let response = post_signed_at(
        &client,
        &app.base_url,
        &secret,
        "msg_direct",
        now_secs(),
        &body,
    )
    .await;
    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !response.text().await.unwrap().contains("127.0.0.1"),
        "opaque body"
    );

    // Clerk keeps changing meanwhile: an update, a deletion, a creation.
    let http = reqwest::Client::new();
    let secret_key = clerk.config().secret_key.clone();
    let patched = http
        .patch(format!("{}/v1/users/{}", provider.url, ids[0]))
        .bearer_auth(&secret_key)
        .json(&json!({"first_name": "After"}))
        .send()
        .await
        .unwrap();
    assert!(patched.status().is_success());
    clerk.delete_user(&ids[1]).await.unwrap();
    let late = clerk
        .create_user(new_user("db3@example.com", "During", json!({})))
        .await
        .unwrap();
    eventually(WAIT, "some deliveries to fail with 503", || async {
        clerk.webhook_log().iter().any(|a| a.status == Some(503))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.start().await.expect("starting PostgreSQL again");

    // Svix's retries catch up.
    settle(clerk, &pool).await;
    assert_eq!(row(&pool, &ids[0]).await.unwrap().name, "After Tester");
    assert!(row(&pool, &ids[1]).await.unwrap().deleted);
    assert!(!row(&pool, &ids[2]).await.unwrap().deleted);
    let during = row(&pool, &late.id)
        .await
        .expect("created after the restart");
    assert_eq!(during.email, "db3@example.com");
    for id in [&ids[0], &ids[2], &late.id] {
        let user = row(&pool, id).await.unwrap();
        assert_eq!(clerk_metadata(clerk, id).await["dbId"], user.id.to_string());
    }
    let failed: Vec<_> = clerk
        .webhook_log()
        .into_iter()
        .filter(|a| !a.succeeded())
        .collect();
    assert!(!failed.is_empty());
    // Every message got its 2xx in the end.
    let mut messages: Vec<String> = clerk.webhook_log().into_iter().map(|a| a.svix_id).collect();
    messages.sort();
    messages.dedup();
    for id in messages {
        assert!(
            clerk
                .webhook_log()
                .iter()
                .any(|a| a.svix_id == id && a.succeeded()),
            "{id} was never acknowledged"
        );
    }
    worker.shutdown().await;
    app.stop().await;
    let _ = cluster.stop().await;
}
