//! Handshake payloads behind a nonce, and the emulator playing a development instance
//! (`pk_test_`): browsers known by `__clerk_db_jwt`, payloads in the URL, no cookies on the
//! app's site.

mod common;

use common::{cookie_value, set_cookie, set_cookies, APP_ORIGIN};

fn query_value(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

async fn redeem(run: &clerk_emulator::RunningEmulator, nonce: &str) -> (u16, serde_json::Value) {
    common::Bapi::new(run)
        .get(&format!("/clients/handshake_payload?nonce={nonce}"))
        .await
}

fn session_directive(directives: &serde_json::Value) -> Option<String> {
    directives["directives"]
        .as_array()?
        .iter()
        .filter_map(|d| d.as_str())
        .find(|d| d.starts_with("__session="))
        .map(cookie_value)
}

#[tokio::test]
async fn a_production_nonce_is_redeemed_once_through_the_backend_api() {
    let run = common::spawn().await;
    let user = run
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "nonce@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let signed = run.emulator.sign_in(&user.id).await.unwrap();
    let response = common::http()
        .get(format!("{}/v1/client/handshake", run.url))
        .query(&[
            ("redirect_url", format!("{APP_ORIGIN}/page").as_str()),
            ("format", "nonce"),
        ])
        .header("Cookie", format!("__client={}", signed.client_token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.headers()["location"],
        format!("{APP_ORIGIN}/page").as_str()
    );
    let cookies = set_cookies(response.headers());
    assert!(set_cookie(&cookies, "__clerk_handshake").is_none());
    let nonce = cookie_value(set_cookie(&cookies, "__clerk_handshake_nonce").expect("a nonce"));

    let (status, payload) = redeem(&run, &nonce).await;
    assert_eq!(status, 200, "{payload}");
    let token = session_directive(&payload).expect("a __session directive");
    let claims = common::verify_with_jwks(&token, &run.emulator.jwks());
    assert_eq!(claims["sub"], user.id.as_str());

    let (again, body) = redeem(&run, &nonce).await;
    assert_eq!(again, 404, "a nonce is single-use: {body}");
    let (forged, _) = redeem(&run, "hsn_forged").await;
    assert_eq!(forged, 404);
    let unauthorised = common::http()
        .get(format!("{}/v1/clients/handshake_payload?nonce=x", run.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
}

#[tokio::test]
async fn a_development_instance_signs_in_its_development_browser() {
    let run = common::spawn_with(|config| {
        config.instance_type = clerk_emulator::InstanceType::Development;
        config.secret_key = String::new();
    })
    .await;
    assert!(run
        .emulator
        .config()
        .publishable_key
        .starts_with("pk_test_"));
    assert!(run.emulator.config().secret_key.starts_with("sk_test_"));
    let http = common::http();

    // A browser without a development browser gets one, signed out, in the URL.
    let first = http
        .get(format!("{}/v1/client/handshake", run.url))
        .query(&[
            ("redirect_url", format!("{APP_ORIGIN}/profile").as_str()),
            ("format", "nonce"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 307);
    assert!(
        set_cookies(first.headers()).is_empty(),
        "no cookie on the app's site"
    );
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{APP_ORIGIN}/profile?")));
    let nonce = query_value(&location, "__clerk_handshake_nonce").expect("the nonce in the URL");
    let (_, payload) = redeem(&run, &nonce).await;
    let directives: Vec<&str> = payload["directives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d.as_str())
        .collect();
    assert_eq!(session_directive(&payload).as_deref(), Some(""));
    let dev_browser = directives
        .iter()
        .find(|d| d.starts_with("__clerk_db_jwt="))
        .map(|d| cookie_value(d))
        .expect("the development browser's cookie");
    let suffix = clerk_emulator::cookie_suffix(&run.emulator.config().publishable_key);
    assert!(directives
        .iter()
        .any(|d| d.starts_with(&format!("__clerk_db_jwt_{suffix}={dev_browser}"))));

    // The Account Portal signs that browser in and sends it back with it in the URL.
    let user = run
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "dev@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let picked = http
        .post(format!("{}/sign-in/pick", run.url))
        .form(&[
            ("user_id", user.id.as_str()),
            ("redirect_url", &format!("{APP_ORIGIN}/profile")),
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
    let cookies = set_cookies(picked.headers());
    assert!(set_cookie(&cookies, "__session").is_none(), "{cookies:?}");

    // The app's handshake with that browser now carries the session, token format too.
    let second = http
        .get(format!("{}/v1/client/handshake", run.url))
        .query(&[
            ("redirect_url", format!("{APP_ORIGIN}/profile").as_str()),
            ("__clerk_db_jwt", dev_browser.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let location = second.headers()["location"].to_str().unwrap().to_owned();
    let token = query_value(&location, "__clerk_handshake").expect("the token in the URL");
    let payload = common::verify_with_jwks(&token, &run.emulator.jwks());
    let session = payload["handshake"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d.as_str())
        .find(|d| d.starts_with("__session="))
        .map(cookie_value)
        .expect("a session");
    let claims = common::verify_with_jwks(&session, &run.emulator.jwks());
    assert_eq!(claims["sub"], user.id.as_str());
}
