//! `/livez` and `/healthz` answer whatever the database does; `/readyz` follows the database.

use crate::helpers::app::{spawn_app_on, TestApp};
use crate::helpers::database::{fresh_database, shared_cluster};
use crate::helpers::outbox::eventually;
use std::time::Duration;

async fn status(app: &TestApp, path: &str) -> u16 {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("a probe request")
        .status()
        .as_u16()
}

/// Refuses (or again allows) every new connection to `database`, and ends the open ones: the
/// app's pool then cannot reach its database, as when PostgreSQL is down for it.
async fn allow_connections(database: &str, allow: bool) {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(shared_cluster().connect_options("postgres"))
        .await
        .expect("an admin connection");
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {allow}"
    ))
    .execute(&admin)
    .await
    .expect("ALTER DATABASE");
    if !allow {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .execute(&admin)
        .await
        .expect("terminating the app's connections");
    }
    admin.close().await;
}

#[tokio::test]
async fn liveness_answers_ok_and_readiness_follows_the_database() {
    let db = fresh_database().await;
    let app = spawn_app_on(db.pool.clone()).await;
    for path in ["/livez", "/healthz", "/readyz", "/health"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), "ok", "{path}");
    }

    allow_connections(&db.name, false).await;
    let started = tokio::time::Instant::now();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "readiness answers within its own short timeout: {:?}",
        started.elapsed()
    );
    let body = response.text().await.unwrap();
    assert_eq!(body, "database unavailable");
    assert_eq!(status(&app, "/health").await, 503);
    // Liveness touches nothing: a database outage must not get the process restarted.
    assert_eq!(status(&app, "/livez").await, 200);
    assert_eq!(status(&app, "/healthz").await, 200);

    allow_connections(&db.name, true).await;
    eventually(
        Duration::from_secs(20),
        "/readyz to answer 200 again",
        || async { status(&app, "/readyz").await == 200 },
    )
    .await;
    assert_eq!(status(&app, "/health").await, 200);
}
