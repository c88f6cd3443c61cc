//! `POST /api/webhooks/clerk` over real HTTP: what it refuses (every bad delivery, bodies over
//! the limit), Svix's test vectors, Clerk's example events, and event types it ignores.

use crate::helpers::app::spawn_app;
use crate::helpers::clerk::now_secs;
use crate::helpers::webhooks::{
    created, envelope, events_recorded, post, post_ok, post_signed_at, row, secret, users_count,
    WEBHOOK_PATH,
};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use warden::webhooks::verify::{Rejection, Verifier};

async fn assert_rejected(response: reqwest::Response, reason: &str) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains(reason), "{text:?} should say {reason:?}");
    assert!(text.len() < 100, "a short reason: {text:?}");
}

#[tokio::test]
async fn every_bad_delivery_gets_400_and_touches_nothing() {
    let app = spawn_app().await;
    let body = created("user_rej", "Rejected", 1_000);
    let ts = now_secs();
    let secret = secret(&app);
    let url = app.url(WEBHOOK_PATH);
    let good_signature = clerk_emulator::svix_signature(&secret, "msg_rej", ts, &body);

    // Missing each header in turn.
    for missing in ["svix-id", "svix-timestamp", "svix-signature"] {
        let mut request = app.client.post(&url).body(body.clone());
        for (name, value) in [
            ("svix-id", "msg_rej".to_string()),
            ("svix-timestamp", ts.to_string()),
            ("svix-signature", good_signature.clone()),
        ] {
            if name != missing {
                request = request.header(name, value);
            }
        }
        assert_rejected(request.send().await.unwrap(), "missing").await;
    }
    // Garbled headers.
    for (id, timestamp, signature) in [
        ("msg_rej", "yesterday".to_string(), good_signature.clone()),
        ("", ts.to_string(), good_signature.clone()),
        ("msg_rej", ts.to_string(), "garbage".to_string()),
        ("msg_rej", ts.to_string(), "v1,not base64!".to_string()),
    ] {
        let response = app
            .client
            .post(&url)
            .header("svix-id", id)
            .header("svix-timestamp", timestamp)
            .header("svix-signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // A signature by another secret, and a body changed after signing.
    let other = clerk_emulator::generate_webhook_secret();
    let response = post_signed_at(&app.client, &app.base_url, &other, "msg_rej", ts, &body).await;
    assert_rejected(response, "no matching signature").await;
    let response = app
        .client
        .post(&url)
        .header("svix-id", "msg_rej")
        .header("svix-timestamp", ts.to_string())
        .header("svix-signature", &good_signature)
        .body(created("user_rej", "Tampered", 1_000))
        .send()
        .await
        .unwrap();
    assert_rejected(response, "no matching signature").await;
    // Stale and future timestamps (correctly signed).
    let response = post_signed_at(
        &app.client,
        &app.base_url,
        &secret,
        "msg_rej",
        ts - 301,
        &body,
    )
    .await;
    assert_rejected(response, "too old").await;
    let response = post_signed_at(
        &app.client,
        &app.base_url,
        &secret,
        "msg_rej",
        ts + 400,
        &body,
    )
    .await;
    assert_rejected(response, "too new").await;
    // Authentic but not JSON; not UTF-8; JSON without an event shape.
    for body in [
        b"not json at all".to_vec(),
        vec![0xff, 0xfe, 0x00],
        b"[1,2,3]".to_vec(),
    ] {
        let response = post(&app, "msg_rej", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // Authentic JSON events whose data does not parse.
    for body in [
        envelope("user.created", json!({"id": 42}), 1),
        envelope("user.created", json!("a string"), 1),
        envelope(
            "user.updated",
            json!({"id": "user_x", "email_addresses": []}),
            1,
        ),
        envelope("user.deleted", json!({"deleted": true}), 1),
        envelope("user.deleted", json!({"id": ""}), 1),
    ] {
        assert_rejected(post(&app, "msg_rej", &body).await, "data does not parse").await;
    }

    assert_eq!(events_recorded(&app).await, 0, "no svix id was recorded");
    assert_eq!(users_count(&app).await, 0, "no user was written");
    // The id was never consumed: the genuine delivery still works.
    assert_eq!(post_ok(&app, "msg_rej", &body).await, "created");
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = spawn_app().await;
    let mut big = created("user_big", "Big", 1).to_vec();
    big.truncate(big.len() - 1);
    big.extend_from_slice(format!(",\"pad\":\"{}\"}}", "x".repeat(1024 * 1024)).as_bytes());
    let response = post(&app, "msg_big", &big).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(users_count(&app).await, 0);
}

#[tokio::test]
async fn the_verifier_agrees_with_the_svix_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/clerk/test-vectors/svix-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("the Svix test vectors");
    let pack: Value = serde_json::from_str(&text).unwrap();
    let vectors = pack["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 10);
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(vector["body_base64"].as_str().unwrap())
            .unwrap();
        let mut headers = axum::http::HeaderMap::new();
        for header in ["svix-id", "svix-timestamp", "svix-signature"] {
            headers.insert(header, vector[header].as_str().unwrap().parse().unwrap());
        }
        let verifier = Verifier::new(vector["verify_with_secret"].as_str().unwrap()).unwrap();
        let verdict = verifier.verify(&headers, &body, vector["now"].as_i64().unwrap());
        let expected = vector["expect"].as_str().unwrap();
        let got = match verdict {
            Ok(_) => "valid",
            Err(Rejection::NoMatchingSignature) => "no_matching_signature",
            Err(Rejection::TimestampTooOld) => "timestamp_too_old",
            Err(Rejection::TimestampTooNew) => "timestamp_too_new",
            Err(other) => panic!("{name}: unexpected {other:?}"),
        };
        assert_eq!(got, expected, "vector {name}");
    }
}

#[tokio::test]
async fn clerks_example_events_are_accepted_over_http() {
    let app = spawn_app().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/clerk/examples");
    for (file, expected) in [
        // Its email_addresses is empty: acknowledged, not stored.
        ("user.created.json", "skipped"),
        ("user.created.docs-example.json", "created"),
        ("user.deleted.json", "tombstoned"),
    ] {
        let body = std::fs::read(format!("{dir}/{file}")).unwrap();
        assert_eq!(
            post_ok(&app, &format!("msg_{file}"), &body).await,
            expected,
            "{file}"
        );
    }
    let docs = row(&app.pool, "user_29w83sxmDNGwOuEthce5gg56FcC")
        .await
        .unwrap();
    assert_eq!(docs.email, "example@example.org");
    assert_eq!(docs.name, "Example Example");
    assert_eq!(docs.clerk_updated_at, Some(1654012591835));
}

#[tokio::test]
async fn other_event_types_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let body = envelope("session.created", json!({"id": "sess_1"}), 1);
    assert_eq!(post_ok(&app, "msg_session", &body).await, "ignored");
    assert_eq!(events_recorded(&app).await, 0);
}
