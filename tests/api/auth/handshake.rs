//! Clerk's handshake: an expired session is refreshed on a page navigation, never on an API
//! call.

use crate::helpers::app::spawn_app_with_token_lifetime;
use std::time::Duration;

#[tokio::test]
async fn an_expired_session_is_refreshed_by_the_handshake_on_pages_but_not_on_api_calls() {
    let app = spawn_app_with_token_lifetime(Duration::from_secs(1)).await;
    let clerk_user = app.clerk_user("Hand", "Shake", "hs@example.com").await;
    // A real browser: the provider's sign-in sets the cookies, redirects are followed.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let sign_in = browser
        .post(format!("{}/sign-in/pick", app.clerk.url))
        .header("origin", &app.clerk.url)
        .header("accept", "text/html")
        .form(&[
            ("user_id", clerk_user.id.as_str()),
            ("redirect_url", &app.url("/profile")),
        ])
        .send()
        .await
        .unwrap();
    assert!(sign_in.status().is_success(), "{}", sign_in.status());
    let body = sign_in.text().await.unwrap();
    assert!(
        body.contains("Hand Shake"),
        "signed in and synced on the way: {body}"
    );

    // Let the 1-second token expire, past Clerk's 5-second skew.
    tokio::time::sleep(Duration::from_secs(7)).await;

    // An API call is not rescued: 401.
    let api = browser
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .form(&[("include_user", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    // A page navigation goes through the handshake and comes back signed in.
    let page = browser
        .get(app.url("/profile"))
        .header("accept", "text/html")
        .header("sec-fetch-dest", "document")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().as_str(), app.url("/profile"));
    let body = page.text().await.unwrap();
    assert!(body.contains("Hand Shake"), "still signed in: {body}");
}

async fn navigate_from(
    client: &crate::helpers::clerk::SignedInClient,
    referrer: &str,
    extra_cookie: &str,
) -> reqwest::Response {
    client
        .client
        .get(format!("{}/profile", client.base_url))
        .header("accept", "text/html")
        .header("sec-fetch-dest", "document")
        .header("referer", referrer)
        .header("cookie", format!("{}{extra_cookie}", client.cookie))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_signed_in_page_opened_from_another_site_handshakes_once() {
    let app = crate::helpers::app::spawn_app().await;
    let clerk_user = app.clerk_user("Cross", "Origin", "xo@example.com").await;
    let client = app.signed_in_client(&clerk_user.id).await;
    app.sync(&client).await;

    let from_elsewhere = navigate_from(&client, "https://news.example.org/story", "").await;
    assert_eq!(from_elsewhere.status(), 307);
    assert_eq!(
        from_elsewhere.headers()["x-clerk-auth-reason"],
        "primary-domain-cross-origin-sync"
    );
    let location = from_elsewhere.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&format!("{}/v1/client/handshake?", app.clerk.url)));

    // Once: on the way back (the loop counter is set) the page renders.
    let again = navigate_from(
        &client,
        "https://news.example.org/story",
        "; __clerk_redirect_count=1",
    )
    .await;
    assert_eq!(again.status(), 200);
    // From our own pages, or from Clerk's, nothing happens.
    for referrer in [app.url("/"), format!("{}/sign-in", app.clerk.url)] {
        assert_eq!(
            navigate_from(&client, &referrer, "").await.status(),
            200,
            "{referrer}"
        );
    }
}
