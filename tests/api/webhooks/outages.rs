//! Nothing is lost when the app dies between commit and delivery, or when the database stops
//! while Clerk keeps sending.

use crate::helpers::app::Instance;
use crate::helpers::clerk::{clerk_metadata, new_user, now_secs, provider_for, updated_messages};
use crate::helpers::database::{fresh_database, fresh_database_on, own_cluster};
use crate::helpers::outbox::{eventually, fast_outbox, job_counts, settle, start_worker, WAIT};
use crate::helpers::webhooks::{clerk_user, envelope, post_signed_at, row, WEBHOOK_PATH};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_worker_resumes_after_the_app_died_between_commit_and_delivery() {
    let db = fresh_database().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let provider = provider_for(&format!("http://{addr}{WEBHOOK_PATH}"), 0.001).await;

    // First instance: no worker. The webhook commits the user and the job, then it dies.
    let first = Instance::start(listener, db.pool.clone(), &provider).await;
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
    let second = Instance::start(listener, db.pool.clone(), &provider).await;
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
    let app = Instance::start(listener, pool.clone(), &provider).await;
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
