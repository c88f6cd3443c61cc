//! A development instance (`pk_test_`), end to end against the local provider playing one: the
//! development browser, the Account Portal round trip that brings it back in the URL, the
//! handshake that carries it, and the nonce format of handshake payloads.

use crate::helpers::app::{spawn_app_with, spawn_app_with_token_lifetime, AppOptions, TestApp};
use crate::helpers::clerk::set_cookies;
use std::time::Duration;

pub async fn spawn_development_app(token_lifetime: Duration) -> TestApp {
    spawn_app_with(AppOptions {
        clerk: Some(Box::new(move |config| {
            config.instance_type = clerk_emulator::InstanceType::Development;
            config.token_lifetime = token_lifetime;
        })),
        ..Default::default()
    })
    .await
}

/// A browser: keeps cookies, follows nothing by itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows redirects as a browser navigation does; returns every URL visited and the last
/// response.
pub async fn navigate(browser: &reqwest::Client, url: &str) -> (Vec<String>, reqwest::Response) {
    let mut visited = vec![url.to_owned()];
    let mut response = document(browser, url).await;
    while response.status().is_redirection() {
        let location = response.headers()["location"].to_str().unwrap();
        let next = response.url().join(location).unwrap().to_string();
        assert!(visited.len() < 12, "a redirect loop: {visited:#?}");
        visited.push(next.clone());
        response = document(browser, &next).await;
    }
    (visited, response)
}

async fn document(browser: &reqwest::Client, url: &str) -> reqwest::Response {
    browser
        .get(url)
        .header("accept", "text/html")
        .header("sec-fetch-dest", "document")
        .send()
        .await
        .unwrap()
}

fn query_value(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

#[tokio::test]
async fn a_development_browser_signs_in_through_the_account_portal_and_stays_signed_in() {
    let app = spawn_development_app(Duration::from_secs(1)).await;
    assert!(app
        .emulator()
        .config()
        .publishable_key
        .starts_with("pk_test_"));
    let clerk_user = app.clerk_user("Dev", "Browser", "dev@example.com").await;
    let browser = browser();

    // First visit: no development browser, so a handshake gets one; signed out, the profile
    // sends us to the Account Portal with that browser in the link.
    let (visited, portal) = navigate(&browser, &app.url("/profile")).await;
    assert!(
        visited[1].contains("__clerk_hs_reason=dev-browser-missing"),
        "{visited:#?}"
    );
    assert!(visited[1].contains("format=nonce"), "{visited:#?}");
    assert!(
        visited[2].contains("__clerk_handshake_nonce="),
        "the development payload comes back in the URL: {visited:#?}"
    );
    assert_eq!(visited[3], app.url("/profile"), "and leaves the URL again");
    let portal_url = portal.url().to_string();
    assert!(portal_url.starts_with(&format!("{}/sign-in?", app.clerk.url)));
    let dev_browser = query_value(&portal_url, "__clerk_db_jwt").expect("the dev browser");
    let page = portal.text().await.unwrap();
    assert_eq!(
        hidden_field(&page, "__clerk_db_jwt").as_deref(),
        Some(dev_browser.as_str())
    );

    // The portal signs that browser in and appends it to the way back; the app moves it into
    // its cookies, handshakes with it, and ends on a clean URL, signed in.
    let picked = browser
        .post(format!("{}/sign-in/pick", app.clerk.url))
        .header("origin", &app.clerk.url)
        .form(&[
            ("user_id", clerk_user.id.as_str()),
            ("redirect_url", &app.url("/profile")),
            ("__clerk_db_jwt", &dev_browser),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(picked.status(), 303);
    let back = picked.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_value(&back, "__clerk_db_jwt").as_deref(),
        Some(dev_browser.as_str())
    );
    let first_hop = document(&browser, &back).await;
    assert_eq!(first_hop.status(), 307);
    assert_eq!(
        first_hop.headers()["x-clerk-auth-reason"],
        "dev-browser-sync"
    );
    let moved = set_cookies(&first_hop);
    assert!(
        moved
            .iter()
            .any(|c| c.starts_with(&format!("__clerk_db_jwt={dev_browser};"))),
        "{moved:#?}"
    );
    let suffix = clerk_emulator::cookie_suffix(&app.emulator().config().publishable_key);
    assert!(moved
        .iter()
        .any(|c| c.starts_with(&format!("__clerk_db_jwt_{suffix}={dev_browser};"))));
    let handshake = first_hop.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_value(&handshake, "__clerk_db_jwt").as_deref(),
        Some(dev_browser.as_str())
    );
    assert_eq!(
        query_value(&handshake, "redirect_url").as_deref(),
        Some(app.url("/profile").as_str()),
        "the way back leaves the dev browser out"
    );
    let (visited, profile) = navigate(&browser, &handshake).await;
    assert_eq!(visited.last().unwrap(), &app.url("/profile"));
    assert_eq!(profile.status(), 200);
    assert_eq!(profile.headers()["x-clerk-auth-status"], "signed-in");
    assert!(profile.text().await.unwrap().contains("Dev Browser"));

    // The token lapses: the next page refreshes through a handshake carrying the browser.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (visited, profile) = navigate(&browser, &app.url("/profile")).await;
    assert!(
        visited[1].contains("__clerk_hs_reason=session-token-expired"),
        "{visited:#?}"
    );
    assert_eq!(
        query_value(&visited[1], "__clerk_db_jwt").as_deref(),
        Some(dev_browser.as_str())
    );
    assert_eq!(visited.last().unwrap(), &app.url("/profile"));
    assert!(profile.text().await.unwrap().contains("Dev Browser"));
}

#[tokio::test]
async fn a_production_handshake_comes_back_with_a_nonce_the_app_redeems() {
    let app = spawn_app_with_token_lifetime(Duration::from_secs(1)).await;
    let clerk_user = app.clerk_user("Nonce", "Person", "nonce@example.com").await;
    let browser = browser();
    let signed_in = browser
        .post(format!("{}/sign-in/pick", app.clerk.url))
        .header("origin", &app.clerk.url)
        .form(&[
            ("user_id", clerk_user.id.as_str()),
            ("redirect_url", &app.url("/profile")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    tokio::time::sleep(Duration::from_secs(7)).await;

    let to_clerk = document(&browser, &app.url("/profile")).await;
    assert_eq!(to_clerk.status(), 307);
    let handshake = to_clerk.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(query_value(&handshake, "format").as_deref(), Some("nonce"));
    let from_clerk = document(&browser, &handshake).await;
    assert_eq!(from_clerk.status(), 307);
    assert!(set_cookies(&from_clerk)
        .iter()
        .any(|c| c.starts_with("__clerk_handshake_nonce=")));
    // Production: the page renders at once, and the spent nonce cookie is expired.
    let page = document(&browser, &app.url("/profile")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-clerk-auth-status"], "signed-in");
    assert!(set_cookies(&page)
        .iter()
        .any(|c| c.starts_with("__clerk_handshake_nonce=; ")));
    assert!(page.text().await.unwrap().contains("Nonce Person"));
}
