//! Forged and malformed handshake payloads and development browsers: none signs anyone in,
//! sets a cookie for another domain, or gives a 500.

use super::development::{browser, spawn_development_app};
use crate::helpers::app::{spawn_app, TestApp};
use crate::helpers::clerk::{good_claims, jwt_header, set_cookies};
use serde_json::json;
use std::time::Duration;

async fn page(app: &TestApp, path_and_query: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(path_and_query))
        .header("accept", "text/html")
        .header("sec-fetch-dest", "document");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// Not signed in, not a 500, and no cookie for a domain that is not ours.
fn assert_refused(response: &reqwest::Response, what: &str) {
    assert!(
        response.status().as_u16() < 500,
        "{what}: {}",
        response.status()
    );
    assert_ne!(
        response
            .headers()
            .get("x-clerk-auth-status")
            .map(|v| v.to_str().unwrap()),
        Some("signed-in"),
        "{what}"
    );
    for cookie in set_cookies(response) {
        assert!(
            !cookie.to_ascii_lowercase().contains("evil"),
            "{what}: {cookie}"
        );
        assert!(!cookie.starts_with("__session=ey"), "{what}: {cookie}");
    }
}

#[tokio::test]
async fn forged_handshake_tokens_and_nonces_sign_nobody_in() {
    let app = spawn_app().await;
    let session = app
        .emulator()
        .sign_with_instance_key(&jwt_header(&app), &good_claims(&app, "user_forged"))
        .unwrap();
    let stranger = clerk_emulator::SigningKey::generate("ins_stranger".into(), 0).unwrap();
    let by_stranger = stranger
        .sign_jwt(
            &json!({"alg": "RS256", "kid": app.emulator().current_kid(), "typ": "JWT"}),
            &json!({"handshake": [format!("__session={session}; Path=/")]}),
        )
        .unwrap();
    // Signed by the instance, but its directives aim at another domain and another cookie.
    let misdirected = app
        .emulator()
        .sign_with_instance_key(
            &jwt_header(&app),
            &json!({"handshake": [
                format!("__session={session}; Path=/; Domain=evil.example"),
                "sessionid=evil; Path=/",
            ]}),
        )
        .unwrap();
    let long = "x".repeat(20_000);
    let cases = [
        ("/profile?__clerk_handshake=garbage".to_owned(), None),
        ("/profile?__clerk_handshake=a.b.c".to_owned(), None),
        (
            "/profile".to_owned(),
            Some(format!("__clerk_handshake={by_stranger}")),
        ),
        (format!("/profile?__clerk_handshake={by_stranger}"), None),
        (format!("/profile?__clerk_handshake={misdirected}"), None),
        (
            "/profile?__clerk_handshake_nonce=hsn_forged".to_owned(),
            None,
        ),
        (
            "/profile?__clerk_handshake_nonce=a%3Bb%20c".to_owned(),
            None,
        ),
        (format!("/profile?__clerk_handshake_nonce={long}"), None),
        (
            "/profile".to_owned(),
            Some("__clerk_handshake_nonce=hsn_forged".to_owned()),
        ),
    ];
    for (path, cookie) in cases {
        let response = page(&app, &path, cookie.as_deref()).await;
        assert_refused(&response, &path);
        // The profile asks a signed-out person to sign in.
        assert_eq!(response.status(), 303, "{path}");
    }
}

#[tokio::test]
async fn forged_payloads_and_development_browsers_on_a_development_instance() {
    let app = spawn_development_app(Duration::from_secs(60)).await;
    for path in [
        "/profile?__clerk_handshake=garbage",
        "/profile?__clerk_handshake_nonce=hsn_forged",
    ] {
        let response = page(&app, path, None).await;
        assert_refused(&response, path);
        // The refused payload is taken out of the URL; nothing else happens.
        assert_eq!(response.status(), 307, "{path}");
        assert_eq!(response.headers()["location"], app.url("/profile").as_str());
    }

    for value in [
        "a%3B%20Domain%3Devil.example",
        "a%20b",
        "%22quoted%22",
        "x%0d%0aSet-Cookie",
    ] {
        let path = format!("/profile?__clerk_db_jwt={value}");
        let response = page(&app, &path, None).await;
        assert_refused(&response, &path);
        assert_eq!(response.status(), 307, "{path}");
        assert!(
            !set_cookies(&response)
                .iter()
                .any(|c| c.starts_with("__clerk_db_jwt")),
            "{path}: a malformed development browser is never stored"
        );
        let location = response.headers()["location"].to_str().unwrap();
        assert!(
            location.contains("__clerk_hs_reason=dev-browser-sync"),
            "{location}"
        );
        assert!(!location.contains("evil"), "{location}");
    }
    let long = format!("/profile?__clerk_db_jwt={}", "y".repeat(20_000));
    assert_refused(
        &page(&app, &long, None).await,
        "a 20,000-character dev browser",
    );

    // A forged but well-shaped development browser only earns a fresh one from Clerk.
    let browser = browser();
    let response = browser
        .get(app.url("/profile?__clerk_db_jwt=eyJ.forged.dvb"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let handshake = response.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.get(&handshake).send().await.unwrap();
    let returned = back.headers()["location"].to_str().unwrap().to_owned();
    let resolved = browser
        .get(&returned)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_refused(&resolved, "a forged development browser");
    assert!(set_cookies(&resolved)
        .iter()
        .any(|c| c.starts_with("__clerk_db_jwt=ey") && !c.contains("forged")));
}
