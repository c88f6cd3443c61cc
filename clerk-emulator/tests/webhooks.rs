//! Webhook delivery over real HTTP: Svix signatures, payload shapes, retries, fault knobs.

mod common;

use axum::http::{HeaderMap, StatusCode};
use clerk_emulator::verify_svix_signature;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Status codes to answer, in order; 204 once exhausted.
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> (Receiver, String) {
        let r = Receiver {
            got: Arc::default(),
            script: Arc::new(Mutex::new(script)),
        };
        let r2 = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let r = r2.clone();
                async move {
                    r.got.lock().unwrap().push(Received {
                        headers,
                        body: body.to_vec(),
                        at: Instant::now(),
                    });
                    let mut s = r.script.lock().unwrap();
                    let code = if s.is_empty() { 204 } else { s.remove(0) };
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, url)
    }
    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn h<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).unwrap().to_str().unwrap()
}

fn verify(secret: &str, r: &Received) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    verify_svix_signature(
        secret,
        h(r, "svix-id"),
        h(r, "svix-timestamp"),
        h(r, "svix-signature"),
        &r.body,
        now,
    )
    .expect("signature verifies");
}

async fn idle(run: &clerk_emulator::RunningEmulator) {
    tokio::time::timeout(Duration::from_secs(30), run.emulator.webhooks_idle())
        .await
        .expect("webhooks become idle");
}

#[tokio::test]
async fn user_events_are_signed_and_shaped_like_clerk() {
    let (rx, url) = Receiver::start(vec![]).await;
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![url]).await;
    let secret = run.emulator.config().webhook_signing_secret.clone();
    assert!(secret.starts_with("whsec_"));
    let b = common::Bapi::new(&run);
    let (_, u) = b
        .json(
            Method::POST,
            "/users",
            json!({"email_address": ["w@example.com"], "external_id": "ext-1"}),
        )
        .await;
    let id = u["id"].as_str().unwrap();
    idle(&run).await;
    b.json(
        Method::PATCH,
        &format!("/users/{id}/metadata"),
        json!({"public_metadata": {"dbId": 3}}),
    )
    .await;
    idle(&run).await;
    b.json(Method::DELETE, &format!("/users/{id}"), Value::Null)
        .await;
    idle(&run).await;

    let got = rx.received();
    assert_eq!(got.len(), 3);
    let mut ids = Vec::new();
    for (r, ty) in got
        .iter()
        .zip(["user.created", "user.updated", "user.deleted"])
    {
        verify(&secret, r);
        assert!(h(r, "svix-id").starts_with("msg_"));
        ids.push(h(r, "svix-id").to_string());
        let ts: i64 = h(r, "svix-timestamp").parse().unwrap();
        assert!(
            ts > 1_600_000_000 && ts < 10_000_000_000,
            "svix-timestamp in seconds"
        );
        let ev: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(ev["type"], ty);
        assert_eq!(ev["object"], "event");
        assert_eq!(ev["instance_id"], run.emulator.instance_id());
        assert!(
            ev["timestamp"].as_i64().unwrap() > 1_600_000_000_000,
            "timestamp in ms"
        );
        let example = common::fixture_json(&format!("examples/{ty}.json"));
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&ev), keys(&example), "{ty} envelope keys");
        assert!(ev["event_attributes"]["http_request"]["user_agent"].is_string());
        if ty == "user.deleted" {
            assert_eq!(
                ev["data"],
                json!({"object": "user", "id": id, "deleted": true, "external_id": "ext-1"})
            );
            common::assert_valid(
                common::component_schema("DeletedObject"),
                &ev["data"],
                "user.deleted data",
            );
        } else {
            common::assert_valid(common::component_schema("User"), &ev["data"], ty);
            // The example's data keys are all present.
            for k in example["data"].as_object().unwrap().keys() {
                assert!(ev["data"].get(k).is_some(), "{ty} data lacks {k}");
            }
        }
    }
    let updated: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(updated["data"]["public_metadata"], json!({"dbId": 3}));
    ids.dedup();
    assert_eq!(ids.len(), 3, "one svix-id per message");
}

#[tokio::test]
async fn failed_attempts_are_retried_with_the_same_svix_id() {
    // Receiver fails twice with 500 then a 302 (3xx counts as failure), then accepts.
    let (rx, url) = Receiver::start(vec![500, 500, 302]).await;
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![url]).await;
    let secret = run.emulator.config().webhook_signing_secret.clone();
    run.emulator
        .create_user(clerk_emulator::NewUser {
            email: "r@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    idle(&run).await;
    let got = rx.received();
    assert_eq!(got.len(), 4);
    let first_id = h(&got[0], "svix-id").to_string();
    for r in &got {
        assert_eq!(h(r, "svix-id"), first_id);
        verify(&secret, r);
    }
    // Scaled Svix schedule: 0, 5 s, 300 s, 1800 s × 0.001.
    assert!(got[3].at.duration_since(got[0].at) >= Duration::from_millis(300));
    let log = run.emulator.webhook_log();
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        log.iter().map(|a| a.status).collect::<Vec<_>>(),
        [Some(500), Some(500), Some(302), Some(204)]
    );
    assert!(log[3].succeeded());
}

#[tokio::test]
async fn fail_first_attempts_skips_the_receiver_then_retries() {
    let (rx, url) = Receiver::start(vec![]).await;
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![url]).await;
    run.emulator.faults().fail_first_attempts(2);
    let u = run
        .emulator
        .create_user(clerk_emulator::NewUser {
            email: "f@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    idle(&run).await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "receiver asked only on the third attempt");
    let log = run.emulator.webhook_log();
    assert_eq!(log.len(), 3);
    assert!(log[0].simulated_failure && log[1].simulated_failure && !log[2].simulated_failure);
    assert!(log.iter().all(|a| a.svix_id == h(&got[0], "svix-id")));
    assert!(log.iter().all(|a| a.event_type == "user.created"));
    assert_eq!(log[2].status, Some(204));
    // Knob applies per message.
    run.emulator.faults().fail_first_attempts(0);
    run.emulator.delete_user(&u.id).await.unwrap();
    idle(&run).await;
    assert_eq!(run.emulator.webhook_log().len(), 4);
}

#[tokio::test]
async fn duplicate_shuffle_and_delay_knobs() {
    let (rx, url) = Receiver::start(vec![]).await;
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![url]).await;
    let f = run.emulator.faults();
    f.duplicate_deliveries(true);
    f.delay_deliveries(Duration::from_millis(300));
    let start = Instant::now();
    run.emulator
        .create_user(clerk_emulator::NewUser {
            email: "d@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    idle(&run).await;
    let got = rx.received();
    assert_eq!(got.len(), 2);
    assert_eq!(h(&got[0], "svix-id"), h(&got[1], "svix-id"));
    assert_eq!(got[0].body, got[1].body);
    assert!(got[0].at.duration_since(start) >= Duration::from_millis(300));

    f.reset();
    f.shuffle_deliveries(true);
    let mut created = Vec::new();
    for i in 0..6 {
        let u = run
            .emulator
            .create_user(clerk_emulator::NewUser {
                email: format!("s{i}@example.com"),
                ..Default::default()
            })
            .await
            .unwrap();
        created.push(u.id);
    }
    idle(&run).await;
    let got = rx.received();
    assert_eq!(
        got.len(),
        2 + 6,
        "every message still delivered exactly once"
    );
}

#[tokio::test]
async fn seeded_users_fire_no_webhook_but_keep_the_rules() {
    let (rx, url) = Receiver::start(vec![]).await;
    let run = common::spawn_with(|c| c.webhook_endpoints = vec![url]).await;
    let seeded = run
        .emulator
        .seed_users((0..3).map(|i| clerk_emulator::NewUser {
            email: format!("seed{i}@example.com"),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(seeded.len(), 3);
    assert!(seeded.windows(2).all(|w| w[0].created_at < w[1].created_at));
    let duplicate = run
        .emulator
        .seed_users([clerk_emulator::NewUser {
            email: "SEED1@example.com".into(),
            ..Default::default()
        }])
        .await;
    assert!(duplicate.is_err(), "emails stay unique");
    idle(&run).await;
    assert!(run.emulator.webhook_log().is_empty());
    assert!(rx.received().is_empty());
    assert_eq!(run.emulator.list_users().await.len(), 3);
}
