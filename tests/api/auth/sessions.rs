//! Signing in (the provider's page and back), the sync route that brings a Clerk user into our
//! database, and signing out (with a plain form; never cross-site).

use crate::helpers::app::{spawn_app, spawn_app_with, AppOptions, TestApp};
use serde_json::json;

/// An app whose provider sends it no webhooks: for tests of the sync route, which the
/// `user.created` webhook would otherwise beat to creating the user.
async fn spawn_app_without_webhooks() -> TestApp {
    spawn_app_with(AppOptions {
        clerk: Some(Box::new(|config| config.webhook_endpoints.clear())),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn profile_needs_sign_in_and_unsynced_people_go_through_the_sync_route() {
    let app = spawn_app_without_webhooks().await;
    // Signed out: to our sign-in route, then to the provider's page, with a way back.
    let response = app.get_page("/profile").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/sign-in?redirect_url=%2Fprofile"
    );
    let response = app.get_page("/sign-in?redirect_url=%2Fprofile").await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/sign-in?redirect_url=", app.clerk.url)),
        "{location}"
    );
    assert!(
        location.contains(&urlencode(&format!("{}/profile", app.base_url))),
        "{location}"
    );

    // Signed in with Clerk but not in our database: through the sync route and back.
    let clerk_user = app.clerk_user("Ada", "Lovelace", "ada@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    let response = browser.get("/profile").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/api/clerk/syncUsers?redirect_url=%2Fprofile"
    );
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/profile");
    let response = browser.get("/profile").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Ada Lovelace") && body.contains("ada@example.com"),
        "{body}"
    );
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn the_sync_route_upserts_and_merges_metadata_into_clerk() {
    let app = spawn_app().await;
    let clerk_user = app
        .emulator()
        .create_user(clerk_emulator::NewUser {
            first_name: None,
            last_name: None,
            username: Some("gracehopper".into()),
            email: "grace@example.com".into(),
            public_metadata: json!({"plan": "pro", "role": "admin"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;

    let (id, name, email, role): (uuid::Uuid, String, String, String) =
        sqlx::query_as("SELECT id, name, email, role::text FROM users WHERE clerk_user_id = $1")
            .bind(&clerk_user.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(name, "gracehopper", "no first or last name: the username");
    assert_eq!(email, "grace@example.com");
    assert_eq!(role, "admin", "Clerk's role seeds a new user's role");

    let in_clerk = app.emulator().get_user(&clerk_user.id).await.unwrap();
    let metadata = serde_json::to_value(&in_clerk).unwrap()["public_metadata"].clone();
    assert_eq!(metadata["plan"], "pro", "other keys are kept: {metadata}");
    assert_eq!(metadata["dbId"], id.to_string());
    assert_eq!(metadata["role"], "admin");
}

#[tokio::test]
async fn the_sync_route_only_returns_to_our_own_origin() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Red", "Irect", "redirect@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    let cases = [
        (
            "/api/clerk/syncUsers?redirect_url=https%3A%2F%2Fevil.example%2F",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2F%2Fevil.example",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2Fapi%2Fclerk%2FsyncUsers",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers",
            Some("https://evil.example/phish".to_owned()),
            "/",
        ),
        (
            "/api/clerk/syncUsers",
            Some(format!("{}/profile?tab=1", app.base_url)),
            "/profile?tab=1",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2Fprofile",
            Some("https://evil.example/".to_owned()),
            "/profile",
        ),
    ];
    for (path, referer, expected) in cases {
        let mut request = browser
            .client
            .get(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &browser.cookie);
        if let Some(referer) = &referer {
            request = request.header("referer", referer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 303, "{path} {referer:?}");
        assert_eq!(
            response.headers()["location"],
            expected,
            "{path} {referer:?}"
        );
    }
}

#[tokio::test]
async fn the_sync_route_explains_its_failures() {
    let app = spawn_app_without_webhooks().await;
    // No Clerk session: to sign-in.
    let response = app
        .get_page("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/sign-in?redirect_url=%2Fprofile"
    );

    // Clerk answering 5xx: a 502 page with a way to retry, and nothing written.
    let clerk_user = app.clerk_user("Bad", "Gateway", "bg@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.emulator().faults().set_bapi_failures(20, 500);
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 502);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Clerk did not answer") && body.contains("Try again"),
        "{body}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // Once Clerk is back, the same link works.
    app.emulator().faults().reset();
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn signing_out_with_a_plain_form_revokes_the_session_and_clears_the_cookies() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Out", "Going", "out@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;

    let page = browser.get("/sign-out").await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("action=\"/api/sign_out\""),
        "a plain form: {body}"
    );

    let response = app
        .client
        .post(app.url("/api/sign_out"))
        .header("accept", "text/html")
        .header("origin", &app.base_url)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/");
    let cleared = crate::helpers::clerk::set_cookies(&response);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(
        cleared.iter().any(|c| c.starts_with("__client_uat=0;")),
        "{cleared:?}"
    );
    assert!(
        app.emulator()
            .mint_session_token(&browser.signed_in.session_id)
            .await
            .is_err(),
        "the provider's session is revoked"
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_valid_session() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Cross", "Site", "csrf@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    for (origin, fetch_site) in [
        (Some("https://evil.example"), Some("cross-site")),
        (Some("https://evil.example"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
    ] {
        let mut request = app
            .client
            .post(app.url("/api/sign_out"))
            .header("accept", "text/html")
            .header("cookie", &browser.cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {fetch_site:?}");
    }
    assert!(
        app.emulator()
            .mint_session_token(&browser.signed_in.session_id)
            .await
            .is_ok(),
        "nothing happened"
    );
}
