//! Frontend API over real HTTP: sign-in page, cookies, redirect allow-list, handshake,
//! sign-out, same-origin checks, escaping.

mod common;

use common::{cookie_value, set_cookie, set_cookies, APP_ORIGIN};
use serde_json::json;

fn form_client() -> reqwest::Client {
    common::http()
}

#[tokio::test]
async fn sign_in_page_is_plain_html_and_escapes() {
    let run = common::spawn().await;
    run.emulator
        .create_user(clerk_emulator::NewUser {
            first_name: Some("<script>alert(1)</script>".into()),
            email: "x@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let redirect = format!("{APP_ORIGIN}/after?x=\"><b>");
    let resp = form_client()
        .get(format!("{}/sign-in", run.url))
        .query(&[("redirect_url", redirect.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script"), "no JavaScript, input escaped");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("\"><b>"));
    assert!(
        html.contains(&format!("action=\"{}/sign-in\"", run.url)),
        "absolute form actions"
    );
    assert!(html.contains(&format!("action=\"{}/sign-in/pick\"", run.url)));
    for field in [
        "first_name",
        "last_name",
        "username",
        "email_address",
        "image_url",
    ] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
}

#[tokio::test]
async fn sign_in_creates_user_sets_cookies_and_redirects() {
    let run = common::spawn().await;
    let target = format!("{APP_ORIGIN}/dashboard?tab=1");
    let resp = form_client()
        .post(format!("{}/sign-in", run.url))
        .header("Origin", run.url.as_str())
        .form(&[
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("username", "ada_l"),
            ("email_address", "ada@example.com"),
            ("image_url", ""),
            ("redirect_url", target.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], target.as_str());
    let cookies = set_cookies(resp.headers());
    let client = set_cookie(&cookies, "__client").expect("__client");
    assert!(client.contains("HttpOnly") && client.contains("Path=/"));
    let uat = set_cookie(&cookies, "__client_uat").expect("__client_uat");
    assert!(uat.contains("SameSite=Lax") && uat.contains("Path=/"));
    let session = set_cookie(&cookies, "__session").expect("__session");
    assert!(session.contains("SameSite=Lax") && session.contains("Path=/"));
    assert!(!session.contains("HttpOnly"));
    for c in &cookies {
        assert!(
            !c.to_ascii_lowercase().contains("domain="),
            "no Domain attribute: {c}"
        );
    }
    let uat: i64 = cookie_value(uat).parse().unwrap();
    let claims = common::verify_with_jwks(&cookie_value(session), &run.emulator.jwks());
    assert!(claims["iat"].as_i64().unwrap() >= uat);
    assert_eq!(claims["azp"], APP_ORIGIN);
    let users = run.emulator.list_users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(claims["sub"], users[0].id.as_str());
    assert_eq!(users[0].username.as_deref(), Some("ada_l"));
}

#[tokio::test]
async fn redirect_allow_list_is_enforced() {
    let run = common::spawn().await;
    let u = run
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "e@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    for evil in [
        "https://evil.example/steal",
        "http://127.0.0.1:40000/",
        "//evil.example/",
        "javascript:alert(1)",
    ] {
        let resp = form_client()
            .post(format!("{}/sign-in/pick", run.url))
            .form(&[("user_id", u.id.as_str()), ("redirect_url", evil)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303, "{evil}");
        let loc = resp.headers()["location"].to_str().unwrap();
        assert!(
            loc.starts_with(&run.url),
            "{evil} → {loc} must stay on the emulator"
        );
        // Handshake refuses too.
        let resp = form_client()
            .get(format!("{}/v1/client/handshake", run.url))
            .query(&[("redirect_url", evil), ("format", "token")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{evil}");
        assert!(resp.headers().get("location").is_none());
    }
    // Allowed origin works (query param form of redirect_url).
    let resp = form_client()
        .post(format!(
            "{}/sign-in/pick?redirect_url={APP_ORIGIN}/x",
            run.url
        ))
        .form(&[("user_id", u.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["location"],
        format!("{APP_ORIGIN}/x").as_str()
    );
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let run = common::spawn().await;
    let resp = form_client()
        .post(format!("{}/sign-in", run.url))
        .header("Origin", "https://evil.example")
        .form(&[("email_address", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(run.emulator.list_users().await.is_empty());
    // The app's own origin may post (e.g. a sign-out button on the app).
    let resp = form_client()
        .post(format!("{}/sign-out", run.url))
        .header("Origin", APP_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn bad_sign_in_input_re_renders_with_error() {
    let run = common::spawn().await;
    let resp = form_client()
        .post(format!("{}/sign-in", run.url))
        .form(&[
            ("email_address", "not an email"),
            ("first_name", "<i>x</i>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("class=\"error\""));
    assert!(
        html.contains("&lt;i&gt;x&lt;/i&gt;"),
        "values kept, escaped"
    );
    assert!(run.emulator.list_users().await.is_empty());
}

async fn handshake(
    run: &clerk_emulator::RunningEmulator,
    client_cookie: Option<&str>,
) -> (reqwest::Response, serde_json::Value) {
    let mut rb = form_client()
        .get(format!("{}/v1/client/handshake", run.url))
        .query(&[
            ("redirect_url", format!("{APP_ORIGIN}/page?a=1").as_str()),
            ("format", "token"),
        ]);
    if let Some(c) = client_cookie {
        rb = rb.header("Cookie", format!("__client={c}; other=1"));
    }
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(
        resp.headers()["location"],
        format!("{APP_ORIGIN}/page?a=1").as_str()
    );
    let cookies = set_cookies(resp.headers());
    let hs = set_cookie(&cookies, "__clerk_handshake").expect("__clerk_handshake cookie");
    assert!(hs.contains("Path=/") && hs.contains("Max-Age="));
    let jwt = cookie_value(hs);
    let header = common::decode_part(&jwt, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], run.emulator.current_kid());
    let payload = common::verify_with_jwks(&jwt, &run.emulator.jwks());
    (resp, payload)
}

fn directive<'a>(payload: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    payload["handshake"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .find(|d| d.split('=').next() == Some(name))
}

#[tokio::test]
async fn handshake_with_and_without_session_and_sign_out() {
    let run = common::spawn().await;
    let u = run
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "h@example.com".into(),
            public_metadata: json!({"role": "admin"}),
            ..Default::default()
        })
        .await
        .unwrap();
    // Sign in through the page to get a __client cookie.
    let resp = form_client()
        .post(format!("{}/sign-in/pick", run.url))
        .form(&[("user_id", u.id.as_str()), ("redirect_url", APP_ORIGIN)])
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(resp.headers());
    let client = cookie_value(set_cookie(&cookies, "__client").unwrap());
    let uat0: i64 = cookie_value(set_cookie(&cookies, "__client_uat").unwrap())
        .parse()
        .unwrap();

    // Live session: fresh __session + __client_uat directives.
    let (_, payload) = handshake(&run, Some(&client)).await;
    let s = directive(&payload, "__session").expect("__session directive");
    let claims = common::verify_with_jwks(&cookie_value(s), &run.emulator.jwks());
    assert_eq!(claims["sub"], u.id.as_str());
    assert_eq!(claims["azp"], APP_ORIGIN);
    assert_eq!(claims["role"], "admin");
    let uat: i64 = cookie_value(directive(&payload, "__client_uat").unwrap())
        .parse()
        .unwrap();
    assert_eq!(uat, uat0);
    assert!(claims["iat"].as_i64().unwrap() >= uat);

    // No cookie: clear __session, __client_uat=0.
    let (_, payload) = handshake(&run, None).await;
    let s = directive(&payload, "__session").unwrap();
    assert!(s.contains("Max-Age=0") && cookie_value(s).is_empty());
    assert_eq!(
        cookie_value(directive(&payload, "__client_uat").unwrap()),
        "0"
    );
    // Unknown client token: same.
    let (_, payload) = handshake(&run, Some("client_bogus")).await;
    assert_eq!(
        cookie_value(directive(&payload, "__client_uat").unwrap()),
        "0"
    );

    // Sign-out GET shows a confirmation form; POST ends the session and clears cookies.
    let html = form_client()
        .get(format!(
            "{}/sign-out?redirect_url={APP_ORIGIN}/bye",
            run.url
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("action=\"{}/sign-out\"", run.url)));
    let resp = form_client()
        .post(format!(
            "{}/sign-out?redirect_url={APP_ORIGIN}/bye",
            run.url
        ))
        .header("Cookie", format!("__client={client}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("{APP_ORIGIN}/bye").as_str()
    );
    let cleared = set_cookies(resp.headers());
    for name in ["__client", "__session", "__client_uat"] {
        let c = set_cookie(&cleared, name).unwrap_or_else(|| panic!("{name} cleared"));
        assert!(c.contains("Max-Age=0"), "{c}");
    }
    assert_eq!(
        cookie_value(set_cookie(&cleared, "__client_uat").unwrap()),
        "0"
    );
    let (_, payload) = handshake(&run, Some(&client)).await;
    assert_eq!(
        cookie_value(directive(&payload, "__client_uat").unwrap()),
        "0"
    );
}
