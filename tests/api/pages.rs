//! The app over real HTTP: pages, assets, errors, and a database that goes away.

use crate::helpers::app::{spawn_app, spawn_app_on};
use crate::helpers::database::{fresh_database_on, own_cluster};

#[tokio::test]
async fn home_page_is_complete_and_styled() {
    let app = spawn_app().await;
    let response = app.get_page("/").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = response.text().await.unwrap();
    assert!(body.contains("Your users, in your database."), "{body}");
    assert!(
        body.contains("people in the directory"),
        "the page is complete without JS: {body}"
    );
    assert!(!body.contains("<script"), "no script at all: {body}");

    let href = body
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link");
    assert!(href.starts_with("/pkg/warden.css"), "{href}");
    let css = app.client.get(app.url(href)).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(css.text().await.unwrap().contains(".site-header"));

    let icon = app
        .client
        .get(app.url("/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
}

#[tokio::test]
async fn home_page_counts_active_users() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email) VALUES ('user_1','A','a@x.io'),('user_2','B','b@x.io')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let body = app.get_page("/").await.text().await.unwrap();
    assert!(body.contains("<p class=\"stat-value\">2</p>"), "{body}");
}

#[tokio::test]
async fn unknown_pages_get_the_designed_404() {
    let app = spawn_app().await;
    for path in ["/nope", "/admin/../../etc/passwd", "/a/b/c?x=1"] {
        let response = app.get_page(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("Page not found"), "{path}: {body}");
        assert!(body.contains("/pkg/warden.css"), "styled: {body}");
    }
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let response = app.get_page("/").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("referrer-policy"));
}

#[tokio::test]
async fn a_stopped_database_gives_503_pages_and_recovers() {
    // A cluster of its own: this test stops it.
    let cluster = own_cluster().await;
    let db = fresh_database_on(&cluster).await;
    let app = spawn_app_on(db.pool.clone()).await;
    assert_eq!(app.get_page("/").await.status(), 200);
    for path in ["/livez", "/healthz", "/readyz"] {
        assert_eq!(probe(&app, path).await, 200, "{path}");
    }
    assert_eq!(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    cluster.stop().await.expect("stopping PostgreSQL");

    let response = app.get_page("/").await;
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    assert!(body.contains("Database unavailable"), "{body}");
    assert!(
        !body.contains("127.0.0.1"),
        "no connection details on the page: {body}"
    );
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(
        probe(&app, "/readyz").await,
        503,
        "not ready without a database"
    );
    assert_eq!(probe(&app, "/livez").await, 200, "but alive");
    assert_eq!(
        probe(&app, "/healthz").await,
        200,
        "alive by its other name"
    );

    cluster.start().await.expect("starting PostgreSQL again");
    let mut status = 0;
    for _ in 0..50 {
        status = app.get_page("/").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the app recovers when the database is back");
    assert_eq!(probe(&app, "/readyz").await, 200, "ready again");
}

async fn probe(app: &crate::helpers::app::TestApp, path: &str) -> u16 {
    let started = std::time::Instant::now();
    let status = app.client.get(app.url(path)).send().await.unwrap().status();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{path} answers promptly"
    );
    status.as_u16()
}
