//! Who may do what: the role comes from our database, never from the token, and every server
//! function authorises its caller.

use crate::helpers::app::spawn_app;
use crate::helpers::clerk::{jwt_header, now_secs};
use serde_json::{json, Value};

#[tokio::test]
async fn a_demoted_admin_is_refused_on_the_very_next_request() {
    let app = spawn_app().await;
    let clerk_user = app
        .emulator()
        .create_user(clerk_emulator::NewUser {
            first_name: Some("Ann".into()),
            email: "ann@example.com".into(),
            public_metadata: json!({"role": "admin"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    app.set_role(&clerk_user.id, "admin").await;
    let response = browser.get("/admin").await;
    assert_ne!(response.status(), 403, "an admin passes the guard");

    // The token still says "admin" (minted before the change); the database says otherwise.
    app.set_role(&clerk_user.id, "user").await;
    let response = browser.get("/admin").await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("for admins"));

    // And a forged role claim does not help either.
    let now = now_secs();
    let forged = app
        .emulator()
        .sign_with_instance_key(
            &jwt_header(&app),
            &json!({"iss": app.clerk.url, "sub": clerk_user.id, "sid": "sess_x", "iat": now, "nbf": now - 10, "exp": now + 60, "role": "admin"}),
        )
        .unwrap();
    let response = app
        .client
        .get(app.url("/admin"))
        .header("accept", "text/html")
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn get_current_user_answers_401_signed_out_and_the_user_signed_in() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .form(&[("include_user", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let clerk_user = app.clerk_user("Cur", "Rent", "current@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    let response = app
        .client
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .header("cookie", &browser.cookie)
        .form(&[("include_user", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["clerk_user_id"], clerk_user.id);
    assert_eq!(body["role"], "user");
    assert_eq!(body["user"]["email"], "current@example.com");
}

/// The authorization matrix of every server function: signed out, user, admin, deleted user.
#[tokio::test]
async fn every_server_function_authorises_itself() {
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for (name, role) in [("Us Er", "user"), ("Ad Min", "admin"), ("De Leted", "user")] {
        let (first, last) = name.split_once(' ').unwrap();
        let email = format!("{}@example.com", first.to_lowercase());
        let clerk_user = app.clerk_user(first, last, &email).await;
        let browser = app.signed_in_client(&clerk_user.id).await;
        app.sync(&browser).await;
        app.set_role(&clerk_user.id, role).await;
        browsers.push((clerk_user.id, browser));
    }
    // The third person is deleted here (their Clerk session lives on).
    let deleted_clerk_id = browsers[2].0.clone();
    app.state
        .users
        .delete_user(&warden::models::ClerkUserId::new(&deleted_clerk_id))
        .await
        .unwrap();
    let target: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
        .bind(&browsers[0].0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let target = target.to_string();

    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/api/get_current_user", vec![("include_user", "true")]),
        ("/api/my_profile", vec![]),
        ("/api/refresh_from_clerk", vec![]),
        ("/api/admin_overview", vec![]),
        ("/api/admin_list_users", vec![("params[q]", "")]),
        ("/api/admin_user_detail", vec![("id", &target)]),
        (
            "/api/admin_set_user_role",
            vec![
                ("user_id", &target),
                ("role", "user"),
                ("expected_role", "user"),
            ],
        ),
    ];
    let admin_only = |path: &str| path.starts_with("/api/admin_");
    for (path, form) in &calls {
        let call = |cookie: Option<&str>| {
            let mut request = app
                .client
                .post(app.url(path))
                .header("origin", &app.base_url)
                .form(form);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie.to_owned());
            }
            request.send()
        };
        let signed_out = call(None).await.unwrap().status().as_u16();
        let user = call(Some(&browsers[0].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        let admin = call(Some(&browsers[1].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        let deleted = call(Some(&browsers[2].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(signed_out, 401, "{path} signed out");
        assert_eq!(
            user,
            if admin_only(path) { 403 } else { 200 },
            "{path} as a user"
        );
        assert!(admin == 200 || admin == 302, "{path} as an admin: {admin}");
        assert_eq!(deleted, 403, "{path} as a deleted user");
    }

    // A malformed call is the caller's mistake: 400, not 500.
    let malformed = app
        .client
        .post(app.url("/api/admin_set_user_role"))
        .header("origin", &app.base_url)
        .header("cookie", &browsers[1].1.cookie)
        .form(&[("user_id", target.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);

    // And the pages: a deleted user gets the designed 403 page.
    for path in ["/profile", "/admin", "/admin/users"] {
        let response = browsers[2].1.get(path).await;
        assert_eq!(response.status(), 403, "{path}");
        assert!(response.text().await.unwrap().contains("deleted"), "{path}");
    }
}
