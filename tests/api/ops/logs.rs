//! The real binary's JSON logs at debug level through a whole session: every line is JSON,
//! every line written inside a request carries its id, and no secret, token or cookie is ever
//! written.

use crate::helpers::binary::{free_port, RunningBinary};
use crate::helpers::clerk::{clerk_env, now_secs};
use crate::helpers::database::fresh_database;
use crate::helpers::metrics::METRICS_TOKEN;
use crate::helpers::webhooks::{created, post_signed_at};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// The request ids of the responses, as the app sent them back.
fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .expect("an ASCII request id")
        .to_owned()
}

/// The values of a `Cookie` header (`a=1; b=2` → `1`, `2`).
fn cookie_values(jar: &Jar, url: &str) -> Vec<String> {
    let Some(header) = jar.cookies(&url.parse().expect("a URL")) else {
        return Vec::new();
    };
    header
        .to_str()
        .expect("ASCII cookies")
        .split("; ")
        .filter_map(|pair| pair.split_once('=').map(|(_, value)| value.to_owned()))
        .collect()
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_never_a_secret() {
    let db = fresh_database().await;
    let port = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let mut clerk_config = clerk_emulator::Config::for_tests();
    clerk_config.webhook_endpoints = vec![format!("{base_url}/api/webhooks/clerk")];
    clerk_config.allowed_redirect_origins = vec![base_url.clone()];
    // Short-lived tokens, so that the session below also goes through a real handshake.
    clerk_config.token_lifetime = Duration::from_secs(1);
    let clerk = clerk_emulator::Emulator::spawn(clerk_config)
        .await
        .expect("starting the local Clerk provider");
    let provider = &clerk.emulator;
    let mut env = clerk_env(&clerk, &base_url);
    env.extend(
        [
            ("DATABASE_URL", db.url.as_str()),
            ("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{port}")),
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "debug,warden=trace"),
            ("METRICS_TOKEN", METRICS_TOKEN),
        ]
        .map(|(key, value)| (key.to_owned(), value.to_owned())),
    );
    let mut binary = RunningBinary::start(&env);
    binary
        .wait_until_serving(&format!("{base_url}/livez"))
        .await;

    // A person signs in on the provider and comes back signed in and synced.
    let user = provider
        .create_user(clerk_emulator::NewUser {
            first_name: Some("Log".into()),
            last_name: Some("Watcher".into()),
            email: "logs@example.com".into(),
            ..Default::default()
        })
        .await
        .expect("a Clerk user");
    let jar = Arc::new(Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let page = |path: &str| {
        browser
            .get(format!("{base_url}{path}"))
            .header("accept", "text/html")
            .header("sec-fetch-dest", "document")
            .send()
    };
    let signed_in = browser
        .post(format!("{}/sign-in/pick", clerk.url))
        .header("origin", &clerk.url)
        .header("accept", "text/html")
        .form(&[
            ("user_id", user.id.as_str()),
            ("redirect_url", &format!("{base_url}/profile")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let mut cookies: BTreeSet<String> = cookie_values(&jar, &base_url).into_iter().collect();
    let profile = page("/profile").await.unwrap();
    assert_eq!(profile.status(), 200);
    let profile_id = request_id(&profile);
    assert!(profile.text().await.unwrap().contains("Log Watcher"));

    // A session token as a bearer, and again in the handshake's query parameters.
    let session = provider.sign_in(&user.id).await.expect("a session");
    let bearer = browser
        .get(format!("{base_url}/profile/data.json"))
        .bearer_auth(&session.session_token)
        .send()
        .await
        .unwrap();
    assert!(bearer.status().is_success(), "{}", bearer.status());
    let token = &session.session_token;
    let handshake_query = format!(
        "/profile?__clerk_handshake={token}&__clerk_db_jwt={token}&__clerk_handshake_nonce={}",
        session.client_token
    );
    let handshake = page(&handshake_query).await.unwrap();
    let handshake_id = request_id(&handshake);

    // The 1-second token expires (past Clerk's 5-second skew): a page navigation goes through
    // the provider's handshake and comes back signed in with new cookies.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let refreshed = page("/profile").await.unwrap();
    assert_eq!(refreshed.status(), 200);
    assert!(refreshed.text().await.unwrap().contains("Log Watcher"));

    // A webhook signed as Svix signs it.
    let webhook_secret = provider.config().webhook_signing_secret.clone();
    let webhook = post_signed_at(
        &reqwest::Client::new(),
        &base_url,
        &webhook_secret,
        "msg_logs_1",
        now_secs(),
        &created("user_logs_1", "Logan", 1),
    )
    .await;
    assert_eq!(webhook.status(), 200);
    let webhook_id = request_id(&webhook);

    let metrics = reqwest::Client::new()
        .get(format!("{base_url}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    tokio::time::timeout(Duration::from_secs(30), provider.webhooks_idle())
        .await
        .expect("the provider's webhooks delivered");

    let (stdout, stderr) = binary.stop().await;

    cookies.extend(cookie_values(&jar, &base_url));
    cookies.extend(cookie_values(&jar, &clerk.url));
    // The cookies' short values (`__client_uat`'s seconds, `0`) are not secrets and could
    // appear by chance; every token is far longer.
    cookies.retain(|value| value.len() >= 20);
    assert!(
        cookies.len() >= 2,
        "the session's cookies: {}",
        cookies.len()
    );
    let database_password = db.url.split(['@', ':']).nth(2).unwrap_or_default();
    let mut secrets: Vec<(String, &str)> = vec![
        (
            "CLERK_SECRET_KEY".into(),
            provider.config().secret_key.as_str(),
        ),
        ("the webhook signing secret".into(), &webhook_secret),
        (
            "the webhook signing secret's key".into(),
            webhook_secret.trim_start_matches("whsec_"),
        ),
        ("a session token".into(), &session.session_token),
        ("the __client token".into(), &session.client_token),
        ("METRICS_TOKEN".into(), METRICS_TOKEN),
        ("the database password".into(), database_password),
    ];
    secrets.extend(
        cookies
            .iter()
            .enumerate()
            .map(|(index, value)| (format!("cookie value #{index}"), value.as_str())),
    );
    // A token's signature alone is as good as the token.
    let signatures: Vec<(String, &str)> = secrets
        .iter()
        .filter(|(_, value)| value.matches('.').count() == 2)
        .filter_map(|(what, jwt)| {
            Some((format!("the signature of {what}"), jwt.rsplit('.').next()?))
        })
        .collect();
    secrets.extend(signatures);
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is a real secret");
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{what} is in the logs"
        );
    }
    assert!(!stdout.contains("__clerk_handshake="), "no query strings");
    assert!(!stdout.contains("__clerk_db_jwt="), "no query strings");

    let lines: Vec<Value> = stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect();
    assert!(lines.len() > 50, "debug logs of a whole session: {stdout}");
    // The request's span, wherever it is in the line's span list.
    let request_span = |line: &Value| -> Option<Value> {
        line["spans"]
            .as_array()?
            .iter()
            .find(|span| span["name"] == "request")
            .cloned()
    };
    let mut ids_seen = BTreeSet::new();
    for line in &lines {
        let Some(span) = request_span(line) else {
            continue;
        };
        let id = span["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "a request's line without its id: {line}");
        assert_eq!(
            line["span"]["request_id"], id,
            "the innermost span is the request's here: {line}"
        );
        assert!(
            span["method"].is_string() && span["path"].is_string(),
            "{line}"
        );
        assert!(!span["path"].as_str().unwrap().contains('?'), "{line}");
        ids_seen.insert(id.to_owned());
    }
    for id in [&profile_id, &handshake_id, &webhook_id] {
        assert!(ids_seen.contains(id), "no line of request {id}");
    }
    let processed = lines
        .iter()
        .find(|line| {
            line["message"] == "processed a Clerk event" && line["svix_id"] == "msg_logs_1"
        })
        .expect("the webhook's log line");
    assert_eq!(processed["span"]["request_id"], webhook_id.as_str());
    assert_eq!(processed["span"]["route"], "/api/webhooks/clerk");
}

#[test]
fn an_unknown_log_format_stops_the_binary_naming_the_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .env_clear()
        .env("LOG_FORMAT", "yaml")
        .output()
        .expect("running warden");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LOG_FORMAT") && stderr.contains("json"),
        "{stderr}"
    );
}
