//! The library mounted under `/__clerk` in another axum app, and the binary.

mod common;

use clerk_emulator::{Config, Emulator};
use std::io::BufRead as _;

#[tokio::test]
async fn works_when_nested_under_a_prefix() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let mut c = Config::for_tests();
    c.frontend_api_url = format!("{origin}/__clerk");
    c.allowed_redirect_origins = vec![origin.clone()];
    let emu = Emulator::new(c).await.unwrap();
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "app home" }))
        .nest("/__clerk", emu.router());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let http = common::http();
    let html = http
        .get(format!("{origin}/__clerk/sign-in?redirect_url={origin}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("action=\"{origin}/__clerk/sign-in\"")));
    let resp = http
        .post(format!("{origin}/__clerk/sign-in"))
        .header("Origin", origin.as_str())
        .form(&[
            ("email_address", "n@example.com"),
            ("redirect_url", &format!("{origin}/")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], format!("{origin}/").as_str());
    let cookies = common::set_cookies(resp.headers());
    let jwt = common::cookie_value(common::set_cookie(&cookies, "__session").unwrap());
    let claims = common::verify_with_jwks(&jwt, &emu.jwks());
    assert_eq!(claims["iss"], format!("{origin}/__clerk").as_str());
    let resp = http
        .get(format!("{origin}/__clerk/v1/users/count"))
        .bearer_auth(&emu.config().secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (ty, host) = clerk_emulator::parse_publishable_key(&emu.config().publishable_key).unwrap();
    assert_eq!(ty, clerk_emulator::InstanceType::Production);
    assert_eq!(format!("http://{host}"), origin);
}

#[test]
fn binary_prints_its_url_and_serves_jwks() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_clerk-emulator"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--allow-origin",
            "http://127.0.0.1:3000",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start binary");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jwks: serde_json::Value = rt.block_on(async {
        common::http()
            .get(format!("{url}/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(jwks["keys"][0]["kid"].as_str().unwrap().starts_with("ins_"));
}
