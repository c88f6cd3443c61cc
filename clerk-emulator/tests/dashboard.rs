//! Dashboard: list, edit, invalid JSON, delete; each change fires its webhook.

mod common;

use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn dashboard_edits_and_deletes_users() {
    let hooks = std::sync::Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let h2 = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let h = h2.clone();
            async move {
                h.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![hook_url]).await;
    let emu = &run.emulator;
    let u = emu
        .create_user(clerk_emulator::NewUser {
            first_name: Some("Linus".into()),
            email: "l@example.com".into(),
            public_metadata: json!({"role": "user"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let http = common::http();
    let html = http
        .get(format!("{}/dashboard", run.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&u.id) && html.contains("l@example.com"));
    assert!(!html.contains("<script"));
    assert!(html.contains(&format!("action=\"{}/dashboard/users/{}\"", run.url, u.id)));

    // Invalid JSON: clear error, nothing changed.
    let resp = http
        .post(format!("{}/dashboard/users/{}", run.url, u.id))
        .header("Origin", run.url.as_str())
        .form(&[
            ("first_name", "Changed"),
            ("last_name", ""),
            ("email_address", "l@example.com"),
            ("public_metadata", "{nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("not valid JSON"));
    assert_eq!(emu.get_user(&u.id).await.unwrap(), u);

    // Valid edit.
    let resp = http
        .post(format!("{}/dashboard/users/{}", run.url, u.id))
        .form(&[
            ("first_name", "Ada"),
            ("last_name", "King"),
            ("email_address", "ada@example.com"),
            ("public_metadata", "{\"role\": \"admin\", \"dbId\": 9}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let after = emu.get_user(&u.id).await.unwrap();
    assert_eq!(after.first_name.as_deref(), Some("Ada"));
    assert_eq!(after.last_name.as_deref(), Some("King"));
    assert_eq!(after.primary_email(), Some("ada@example.com"));
    assert_eq!(after.public_metadata, json!({"role": "admin", "dbId": 9}));
    assert!(after.updated_at > u.updated_at);

    // Cross-origin post refused.
    let resp = http
        .post(format!("{}/dashboard/users/{}/delete", run.url, u.id))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(emu.get_user(&u.id).await.is_some());

    let resp = http
        .post(format!("{}/dashboard/users/{}/delete", run.url, u.id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(emu.get_user(&u.id).await.is_none());

    tokio::time::timeout(Duration::from_secs(30), emu.webhooks_idle())
        .await
        .unwrap();
    let types: Vec<String> = hooks
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["user.created", "user.updated", "user.deleted"]);
}
