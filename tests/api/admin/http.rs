//! The admin pages and server functions over HTTP, with real sessions from the local provider.

use crate::helpers::app::spawn_app;

#[tokio::test]
async fn admin_pages_authorise_escape_and_refuse_bad_parameters() {
    let app = spawn_app().await;
    let admin = app.clerk_user("Ada", "Admin", "ada@example.com").await;
    let admin_browser = app.signed_in_client(&admin.id).await;
    app.sync(&admin_browser).await;
    app.set_role(&admin.id, "admin").await;
    let hostile = app
        .clerk_user(
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "x@example.com",
        )
        .await;
    let user_browser = app.signed_in_client(&hostile.id).await;
    app.sync(&user_browser).await;
    let hostile_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
            .bind(&hostile.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let detail = format!("/admin/users/{hostile_id}");

    for path in ["/admin", "/admin/users", detail.as_str()] {
        let signed_out = app.get_page(path).await.status();
        assert!(
            signed_out.is_redirection() || signed_out == 401,
            "{path}: {signed_out}"
        );
        assert_eq!(
            user_browser.get(path).await.status(),
            403,
            "{path} as a user"
        );
        let response = admin_browser.get(path).await;
        assert_eq!(response.status(), 200, "{path} as an admin");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("<script>alert"),
            "{path}: {}",
            &html[html.find("<script>alert").unwrap_or(0).saturating_sub(300)
                ..html
                    .len()
                    .min(html.find("<script>alert").unwrap_or(0) + 100)]
        );
        assert!(
            !html.contains("<img src=x"),
            "{path}: {}",
            &html[html.find("<img src=x").unwrap_or(0).saturating_sub(200)..]
        );
    }
    let list = admin_browser
        .get("/admin/users?q=script")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{list}"
    );

    let long = "a".repeat(10_000);
    for (path, status) in [
        ("/admin/users?after=garbage".to_string(), 400),
        ("/admin/users?role=root".to_string(), 400),
        ("/admin/users?sort=password".to_string(), 400),
        (format!("/admin/users?q={long}"), 200),
        ("/admin/users?size=999999".to_string(), 200),
        ("/admin/users/not-a-uuid".to_string(), 404),
    ] {
        assert_eq!(
            admin_browser.get(&path).await.status(),
            status,
            "{}",
            &path[..40.min(path.len())]
        );
    }

    // The role change server function: a user is refused, an admin's no-JS form post promotes
    // and redirects back to the user's page with a notice.
    let form = [
        ("user_id", hostile_id.to_string()),
        ("role", "admin".to_string()),
        ("expected_role", "user".to_string()),
        ("reason", "trusted".to_string()),
    ];
    let refused = app
        .client
        .post(app.url("/api/admin_set_user_role"))
        .header("origin", &app.base_url)
        .header("cookie", &user_browser.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let promoted = app
        .client
        .post(app.url("/api/admin_set_user_role"))
        .header("origin", &app.base_url)
        .header("accept", "text/html")
        .header("referer", app.url(&detail))
        .header("cookie", &admin_browser.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.status(), 302);
    let location = promoted.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("{detail}?notice=role-changed"));
    let page = admin_browser.get(&location).await.text().await.unwrap();
    assert!(page.contains("trusted"), "the audit line shows");
    // The promoted user is an admin on their next request.
    assert_eq!(user_browser.get("/admin").await.status(), 200);

    // Download my data: signed in only, as an attachment.
    let download = user_browser.get("/profile/data.json").await;
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let body: serde_json::Value = download.json().await.unwrap();
    assert_eq!(body["role_history"][0]["to_role"], "admin");
    assert_ne!(app.get_page("/profile/data.json").await.status(), 200);
}

#[tokio::test]
async fn parked_clerk_writes_are_visible_to_admins() {
    let app = spawn_app().await;
    let admin = app.clerk_user("Ada", "Admin", "ada@example.com").await;
    let admin_browser = app.signed_in_client(&admin.id).await;
    app.sync(&admin_browser).await;
    app.set_role(&admin.id, "admin").await;
    let stuck = app.clerk_user("Stuck", "Person", "stuck@example.com").await;
    let stuck_browser = app.signed_in_client(&stuck.id).await;
    app.sync(&stuck_browser).await;
    // A job that gave up, as the worker leaves it after its last attempt.
    sqlx::query(
        "INSERT INTO metadata_outbox (user_id, status, attempts, last_error, finished_at)
         SELECT id, 'parked', 12, 'Clerk answered 503 (internal_clerk_error)', now()
         FROM users WHERE clerk_user_id = $1",
    )
    .bind(&stuck.id)
    .execute(&app.pool)
    .await
    .unwrap();

    let page = admin_browser.get("/admin").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("1 given up"), "{html}");
    assert!(html.contains("Stuck Person"), "{html}");
    assert!(html.contains("Clerk answered 503"), "{html}");

    // Only admins see it.
    let call = app
        .client
        .post(app.url("/api/admin_sync_queue"))
        .header("origin", &app.base_url)
        .header("cookie", &stuck_browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 403);
}
