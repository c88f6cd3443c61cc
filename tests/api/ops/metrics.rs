//! `/metrics`: absent unless configured, behind its token on the main listener, open on its own
//! listener; what it counts.
//!
//! The recorder is the test process's (one per process) and every app of the run shares it, so
//! counters are compared before and after this test's requests (other tests only add to them);
//! gauges are set per scrape from the scraping app's own database, so they are exact.

use crate::helpers::app::{build_application, spawn_app, test_config};
use crate::helpers::clerk::{clerk_env, provider_for};
use crate::helpers::database::fresh_database;
use crate::helpers::metrics::{sample, spawn_app_with_metrics, METRICS_TOKEN};
use crate::helpers::webhooks::{created, post_ok, post_signed_at};
use reqwest::StatusCode;

#[tokio::test]
async fn there_is_no_metrics_route_without_an_address_or_a_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.unwrap();
    assert!(!body.contains("# TYPE"), "{body}");
}

#[tokio::test]
async fn the_main_listener_serves_metrics_only_for_the_token() {
    let app = spawn_app_with_metrics().await;
    let get = |authorization: Option<String>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send()
    };
    for authorization in [
        None,
        Some("Bearer wrong-token-wrong-token-wrong".to_owned()),
        Some(format!("Bearer {METRICS_TOKEN}x")),
        Some(format!("Bearer {}", &METRICS_TOKEN[1..])),
        Some(format!("Basic {METRICS_TOKEN}")),
    ] {
        let response = get(authorization.clone()).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let body = response.text().await.unwrap();
        assert!(!body.contains("# TYPE"), "{body}");
    }
    let response = get(Some(format!("Bearer {METRICS_TOKEN}"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE warden_outbox_pending gauge"),
        "{text}"
    );
}

#[tokio::test]
async fn requests_are_counted_by_matched_route_with_their_cache_lookups() {
    let app = spawn_app_with_metrics().await;
    let user = app
        .clerk_user("Metric", "Reader", "metric@example.com")
        .await;
    let client = app.signed_in_client(&user.id).await;
    app.sync(&client).await;
    let profile = [("method", "GET"), ("route", "/profile"), ("status", "2xx")];
    let unmatched = [("route", "unmatched"), ("status", "4xx")];
    let cache_hits = [("cache", "users"), ("result", "hit")];
    let before = app.scrape().await;

    for _ in 0..3 {
        assert_eq!(client.get("/profile").await.status(), 200);
    }
    let stray = format!("/no-such-page-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(client.get(&stray).await.status(), 404);
    let someone = uuid::Uuid::new_v4().to_string();
    let admin_page = client.get(&format!("/admin/users/{someone}")).await;
    assert_eq!(admin_page.status(), 403, "not an admin");

    let after = app.scrape().await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    assert!(grew("http_requests_total", &profile) >= 3.0, "{after}");
    assert!(
        grew("http_request_duration_seconds_count", &profile) >= 3.0,
        "{after}"
    );
    assert!(
        after.contains("http_request_duration_seconds_bucket{"),
        "latencies are a histogram: {after}"
    );
    assert!(grew("http_requests_total", &unmatched) >= 1.0, "{after}");
    assert!(
        grew("http_requests_total", &[("route", "/admin/users/{id}")]) >= 1.0,
        "{after}"
    );
    assert!(
        !after.contains(&stray) && !after.contains(&someone),
        "raw paths never become labels: {after}"
    );
    assert!(
        grew("warden_cache_requests_total", &cache_hits) >= 1.0,
        "{after}"
    );
}

#[tokio::test]
async fn webhooks_are_counted_by_event_type_and_outcome_and_the_outbox_and_pool_are_gauged() {
    let app = spawn_app_with_metrics().await;
    let created_ok = [("event_type", "user.created"), ("outcome", "created")];
    let duplicate = [("event_type", "user.created"), ("outcome", "duplicate")];
    let rejected = [("event_type", "unverified"), ("outcome", "rejected")];
    let before = app.scrape().await;

    post_ok(&app, "msg_metrics_1", &created("user_gauge1", "One", 1)).await;
    post_ok(&app, "msg_metrics_2", &created("user_gauge2", "Two", 1)).await;
    post_ok(&app, "msg_metrics_2", &created("user_gauge2", "Two", 1)).await;
    let forged = post_signed_at(
        &app.client,
        &app.base_url,
        &clerk_emulator::generate_webhook_secret(),
        "msg_metrics_3",
        crate::helpers::clerk::now_secs(),
        &created("user_gauge3", "Three", 1),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    // One of the two jobs gives up.
    sqlx::query(
        "UPDATE metadata_outbox SET status = 'parked', finished_at = now(), last_error = 'x'
         WHERE user_id = (SELECT id FROM users WHERE clerk_user_id = 'user_gauge2')",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let after = app.scrape().await;
    let grew = |labels: &[(&str, &str)]| {
        sample(&after, "warden_webhook_events_total", labels)
            - sample(&before, "warden_webhook_events_total", labels)
    };
    assert!(grew(&created_ok) >= 2.0, "{after}");
    assert!(grew(&duplicate) >= 1.0, "{after}");
    assert!(grew(&rejected) >= 1.0, "{after}");
    assert_eq!(sample(&after, "warden_outbox_pending", &[]), 1.0, "{after}");
    assert_eq!(sample(&after, "warden_outbox_parked", &[]), 1.0, "{after}");
    assert_eq!(
        sample(&after, "warden_outbox_delivered_recent", &[]),
        0.0,
        "{after}"
    );
    assert!(
        sample(&after, "warden_outbox_oldest_pending_age_seconds", &[]) > 0.0,
        "{after}"
    );
    assert_eq!(sample(&after, "warden_database_up", &[]), 1.0, "{after}");
    // The test pool's bound (helpers/database.rs), not another app's.
    assert_eq!(
        sample(&after, "warden_db_pool_max_connections", &[]),
        5.0,
        "{after}"
    );
    assert!(sample(&after, "warden_db_pool_connections", &[]) >= 1.0);

    // Gauges are this app's even right after another app's scrape.
    let other = spawn_app_with_metrics().await;
    assert_eq!(
        sample(&other.scrape().await, "warden_outbox_pending", &[]),
        0.0
    );
    assert_eq!(
        sample(&app.scrape().await, "warden_outbox_pending", &[]),
        1.0
    );
}

#[tokio::test]
async fn a_metrics_address_gets_a_listener_of_its_own_that_stops_with_the_app() {
    let db = fresh_database().await;
    let provider = provider_for("http://127.0.0.1:9/unused", 1.0).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let mut env = clerk_env(&provider, &base_url);
    env.push(("METRICS_ADDR".into(), "127.0.0.1:0".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let application = build_application(test_config(&env), &db.pool, Some(listener), None).await;
    let metrics_url = format!(
        "http://127.0.0.1:{}/metrics",
        application.metrics_port().expect("a metrics listener")
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    assert_eq!(
        client
            .get(format!("{base_url}/livez"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let response = client.get(&metrics_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        sample(&text, "http_requests_total", &[("route", "/livez")]) >= 1.0,
        "{text}"
    );
    // Not on the main listener, token or not; and the metrics listener serves nothing else.
    for authorization in ["", "Bearer anything-at-all-0123456789"] {
        let response = client
            .get(format!("{base_url}/metrics"))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let other = client
        .get(metrics_url.replace("/metrics", "/livez"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    assert!(
        client.get(&metrics_url).send().await.is_err(),
        "the metrics listener is closed with the app"
    );
}

#[tokio::test]
async fn a_bad_metrics_address_stops_the_start_naming_the_variable() {
    let db = fresh_database().await;
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let provider = provider_for("http://127.0.0.1:9/unused", 1.0).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let mut env = clerk_env(&provider, &base_url);
    env.push(("METRICS_ADDR".into(), taken_addr));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let error = warden::server::Application::build_with(
        test_config(&env),
        warden::server::Options {
            listener: Some(listener),
            pool: Some(db.pool.clone()),
            outbox: None,
            maintenance: None,
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("the address is taken");
    assert!(error.contains("METRICS_ADDR"), "{error}");
}
