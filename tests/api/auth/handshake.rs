//! Clerk's handshake: an expired session is refreshed on a page navigation, never on an API
//! call.

use crate::helpers::app::{spawn_app_with, AppOptions};
use std::time::Duration;

#[tokio::test]
async fn an_expired_session_is_refreshed_by_the_handshake_on_pages_but_not_on_api_calls() {
    let app = spawn_app_with(AppOptions {
        clerk: Some(Box::new(|config| {
            config.token_lifetime = Duration::from_secs(1)
        })),
        ..Default::default()
    })
    .await;
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
