//! The profile page is kept rendered per user: whatever changes the user's row shows on the
//! page as it shows in the row, and one person never gets another's page.

use super::feed::{live_app, set_role_silently, terminate_feed};
use crate::helpers::outbox::eventually;
use std::time::Duration;

async fn profile_of(browser: &crate::helpers::clerk::SignedInClient) -> String {
    let page = browser.get("/profile").await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

fn shows_role(page: &str, role: &str) -> bool {
    page.contains(&format!(">{role}</span>"))
}

#[tokio::test]
async fn every_kind_of_change_reaches_the_kept_profile_page() {
    let app = live_app().await;
    let person = app.clerk_user("Kit", "Kept", "kit@example.com").await;
    let browser = app.signed_in_client(&person.id).await;
    app.sync(&browser).await;
    let first = profile_of(&browser).await;
    assert!(first.contains("Kit Kept") && shows_role(&first, "user"));
    assert_eq!(profile_of(&browser).await, first, "the same page again");

    // A change the app makes: the very next request.
    app.set_role(&person.id, "admin").await;
    assert!(
        shows_role(&profile_of(&browser).await, "admin"),
        "app write"
    );

    // Plain SQL, announced by the database's trigger.
    sqlx::query("UPDATE users SET name = 'Kit Renamed' WHERE clerk_user_id = $1")
        .bind(&person.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut page = String::new();
    for _ in 0..100 {
        page = profile_of(&browser).await;
        if page.contains("Kit Renamed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(page.contains("Kit Renamed"), "plain SQL: {page}");
    assert!(!page.contains("Kit Kept"));

    // A change nobody announces is not seen while the feed is live: the page is kept.
    set_role_silently(&app.pool, &person.id, "user").await;
    assert!(shows_role(&profile_of(&browser).await, "admin"), "kept");

    // With the feed down nothing is kept: the silent change shows at once, and so does the next.
    assert_eq!(terminate_feed(&app.pool).await, 1, "one listener");
    let users = app.state.users.clone();
    eventually(
        Duration::from_secs(10),
        "the app sees the feed down",
        || {
            let live = users.change_feed_is_live();
            async move { !live }
        },
    )
    .await;
    assert!(shows_role(&profile_of(&browser).await, "user"), "flushed");
    set_role_silently(&app.pool, &person.id, "admin").await;
    assert!(
        shows_role(&profile_of(&browser).await, "admin"),
        "bypassed while the feed is down"
    );
}

#[tokio::test]
async fn each_person_gets_their_own_kept_page() {
    let app = live_app().await;
    let ada = app.clerk_user("Ada", "First", "ada@example.com").await;
    let bea = app.clerk_user("Bea", "Second", "bea@example.com").await;
    let ada_browser = app.signed_in_client(&ada.id).await;
    let bea_browser = app.signed_in_client(&bea.id).await;
    app.sync(&ada_browser).await;
    app.sync(&bea_browser).await;
    for _ in 0..3 {
        let ada_page = profile_of(&ada_browser).await;
        let bea_page = profile_of(&bea_browser).await;
        assert!(ada_page.contains("ada@example.com") && !ada_page.contains("bea@example.com"));
        assert!(bea_page.contains("bea@example.com") && !bea_page.contains("ada@example.com"));
    }
    // Signed out, the kept page is not served: to sign-in instead.
    let anonymous = app.client.get(app.url("/profile")).send().await.unwrap();
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );
    let location = anonymous.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("sign-in"), "{location}");
}
