//! `POST /api/webhooks/clerk` over real HTTP and PostgreSQL, with events signed by the Svix
//! scheme: rejections, Svix's test vectors, Clerk's example events, duplicates, ordering,
//! deletion, caching.

use crate::helpers::app::spawn_app;
use crate::helpers::clerk::now_secs;
use crate::helpers::database::count;
use crate::helpers::webhooks::{
    clerk_user, created, deleted, envelope, events_recorded, post, post_ok, post_signed_at, row,
    secret, updated, users_count, WEBHOOK_PATH,
};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use warden::users::ClerkUserId;
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

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let app = spawn_app().await;
    assert_eq!(
        post_ok(&app, "msg_1", &created("user_dup", "Ada", 10)).await,
        "created"
    );
    let before = row(&app.pool, "user_dup").await.unwrap();
    // The same message again (as Svix retries it), and the same id with other content
    // (a replay is byte-identical, so only the id matters).
    assert_eq!(
        post_ok(&app, "msg_1", &created("user_dup", "Ada", 10)).await,
        "duplicate"
    );
    assert_eq!(
        post_ok(&app, "msg_1", &updated("user_dup", "Bob", 20)).await,
        "duplicate"
    );
    assert_eq!(row(&app.pool, "user_dup").await.unwrap(), before);
    assert_eq!(events_recorded(&app).await, 1);

    // Eight copies of a new message at once: exactly one is applied.
    let body = updated("user_dup", "Cleo", 30);
    let (client, base_url, secret) = (app.client.clone(), app.base_url.clone(), secret(&app));
    let ts = now_secs();
    let copies = (0..8).map(|_| {
        let (client, base_url, secret, body) = (
            client.clone(),
            base_url.clone(),
            secret.clone(),
            body.clone(),
        );
        async move { post_signed_at(&client, &base_url, &secret, "msg_2", ts, &body).await }
    });
    let mut outcomes = Vec::new();
    for response in futures_join(copies).await {
        assert_eq!(response.status(), StatusCode::OK);
        outcomes.push(response.text().await.unwrap());
    }
    outcomes.sort();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "updated").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "duplicate").count(),
        7,
        "{outcomes:?}"
    );
    assert_eq!(
        row(&app.pool, "user_dup").await.unwrap().name,
        "Cleo Tester"
    );
}

/// Runs the futures concurrently (no extra crate: one task each).
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn older_versions_arriving_late_change_nothing() {
    let app = spawn_app().await;
    // v3 first, then v1 (created) and v2: only v3 counts.
    assert_eq!(
        post_ok(&app, "msg_v3", &updated("user_ord", "Third", 3_000)).await,
        "created"
    );
    assert_eq!(
        post_ok(&app, "msg_v1", &created("user_ord", "First", 1_000)).await,
        "stale"
    );
    assert_eq!(
        post_ok(&app, "msg_v2", &updated("user_ord", "Second", 2_000)).await,
        "stale"
    );
    let user = row(&app.pool, "user_ord").await.unwrap();
    assert_eq!(user.name, "Third Tester");
    assert_eq!(user.email, "Third@example.com");
    assert_eq!(user.clerk_updated_at, Some(3_000));
    // An equal version (another message for the same state) is not newer either.
    assert_eq!(
        post_ok(&app, "msg_v3b", &updated("user_ord", "Same", 3_000)).await,
        "stale"
    );
    assert_eq!(
        post_ok(&app, "msg_v4", &updated("user_ord", "Fourth", 4_000)).await,
        "updated"
    );
    assert_eq!(
        row(&app.pool, "user_ord").await.unwrap().name,
        "Fourth Tester"
    );
}

#[tokio::test]
async fn a_deleted_user_stays_deleted_whatever_arrives_later() {
    let app = spawn_app().await;
    post_ok(&app, "msg_c", &created("user_del", "Gone", 1_000)).await;
    assert_eq!(
        post_ok(&app, "msg_d", &deleted("user_del", 5_000)).await,
        "deleted"
    );
    let tombstone = row(&app.pool, "user_del").await.unwrap();
    assert!(tombstone.deleted);
    assert_eq!(tombstone.name, "Deleted User");
    assert_eq!(tombstone.email, "redacted@deleted.com");
    assert_eq!(tombstone.image_url, None);

    // Late events: older, newer (clock skew), a second deletion, a replay of the creation.
    assert_eq!(
        post_ok(&app, "msg_u", &updated("user_del", "Late", 2_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_u2", &updated("user_del", "Later", 9_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_d2", &deleted("user_del", 6_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_c", &created("user_del", "Gone", 1_000)).await,
        "duplicate"
    );
    assert_eq!(row(&app.pool, "user_del").await.unwrap(), tombstone);
    assert_eq!(users_count(&app).await, 1);
}

#[tokio::test]
async fn a_deletion_before_the_creation_leaves_a_tombstone() {
    let app = spawn_app().await;
    assert_eq!(
        post_ok(&app, "msg_d", &deleted("user_early", 5_000)).await,
        "tombstoned"
    );
    let tombstone = row(&app.pool, "user_early").await.unwrap();
    assert!(tombstone.deleted);
    assert_eq!(tombstone.email, "redacted@deleted.com");
    assert_eq!(
        post_ok(&app, "msg_c", &created("user_early", "Late", 1_000)).await,
        "already deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_u", &updated("user_early", "Late", 2_000)).await,
        "already deleted"
    );
    assert_eq!(row(&app.pool, "user_early").await.unwrap(), tombstone);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM metadata_outbox").await,
        0,
        "nothing to tell Clerk about a deleted user"
    );
}

#[tokio::test]
async fn a_second_users_deletion_does_not_collide_with_the_first() {
    let app = spawn_app().await;
    post_ok(&app, "msg_a", &created("user_a", "Ada", 1_000)).await;
    post_ok(&app, "msg_b", &created("user_b", "Bob", 1_000)).await;
    post_ok(&app, "msg_c", &created("user_c", "Cleo", 1_000)).await;
    assert_eq!(
        post_ok(&app, "msg_da", &deleted("user_a", 2_000)).await,
        "deleted"
    );
    assert_eq!(
        post_ok(&app, "msg_db", &deleted("user_b", 3_000)).await,
        "deleted"
    );
    assert!(row(&app.pool, "user_a").await.unwrap().deleted);
    assert!(row(&app.pool, "user_b").await.unwrap().deleted);
    let cleo = row(&app.pool, "user_c").await.unwrap();
    assert!(!cleo.deleted);
    assert_eq!(cleo.name, "Cleo Tester");
}

#[tokio::test]
async fn clerk_seeds_the_role_once_and_never_overwrites_it() {
    let app = spawn_app().await;
    let data = |role: &str, version: i64| {
        clerk_user(
            "user_role",
            Some("r@example.com"),
            "Rae",
            version,
            json!({"role": role}),
        )
    };
    post_ok(
        &app,
        "msg_1",
        &envelope("user.created", data("admin", 1_000), 1_000),
    )
    .await;
    assert_eq!(row(&app.pool, "user_role").await.unwrap().role, "admin");
    // Clerk's copy says otherwise later: the database keeps its role.
    post_ok(
        &app,
        "msg_2",
        &envelope("user.updated", data("user", 2_000), 2_000),
    )
    .await;
    assert_eq!(row(&app.pool, "user_role").await.unwrap().role, "admin");
    // An unknown value seeds the default.
    let other = clerk_user(
        "user_role2",
        Some("q@example.com"),
        "Quinn",
        1,
        json!({"role": "owner"}),
    );
    post_ok(&app, "msg_3", &envelope("user.created", other, 1)).await;
    assert_eq!(row(&app.pool, "user_role2").await.unwrap().role, "user");
}

#[tokio::test]
async fn a_user_without_email_is_acknowledged_and_not_stored() {
    let app = spawn_app().await;
    let data = clerk_user("user_noemail", None, "Nemo", 1_000, json!({}));
    assert_eq!(
        post_ok(&app, "msg_1", &envelope("user.created", data, 1_000)).await,
        "skipped"
    );
    assert!(row(&app.pool, "user_noemail").await.is_none());
    // Once Clerk has an address, the next update creates the user.
    assert_eq!(
        post_ok(&app, "msg_2", &updated("user_noemail", "Nemo", 2_000)).await,
        "created"
    );
    // A later version without email keeps what we have.
    let data = clerk_user("user_noemail", None, "Nobody", 3_000, json!({}));
    assert_eq!(
        post_ok(&app, "msg_3", &envelope("user.updated", data, 3_000)).await,
        "skipped"
    );
    assert_eq!(
        row(&app.pool, "user_noemail").await.unwrap().name,
        "Nemo Tester"
    );
}

#[tokio::test]
async fn metadata_is_queued_only_when_clerk_differs() {
    let app = spawn_app().await;
    let jobs = || {
        count(
            &app.pool,
            "SELECT count(*) FROM metadata_outbox WHERE status = 'pending'",
        )
    };
    post_ok(&app, "msg_1", &created("user_meta", "Mia", 1_000)).await;
    assert_eq!(jobs().await, 1, "Clerk has no dbId yet");
    let user = row(&app.pool, "user_meta").await.unwrap();
    // The echo of our write: equal, nothing queued (and the pending job is not duplicated).
    let echo = clerk_user(
        "user_meta",
        Some("Mia@example.com"),
        "Mia",
        2_000,
        json!({"dbId": user.id.to_string(), "role": "user", "department": "x"}),
    );
    post_ok(&app, "msg_2", &envelope("user.updated", echo, 2_000)).await;
    assert_eq!(jobs().await, 1);
    sqlx::query("UPDATE metadata_outbox SET status = 'delivered', finished_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    // Someone edits the role in Clerk's dashboard: we put ours back.
    let edited = clerk_user(
        "user_meta",
        Some("Mia@example.com"),
        "Mia",
        3_000,
        json!({"dbId": user.id.to_string(), "role": "admin"}),
    );
    post_ok(&app, "msg_3", &envelope("user.updated", edited, 3_000)).await;
    assert_eq!(jobs().await, 1);
    assert_eq!(row(&app.pool, "user_meta").await.unwrap().role, "user");
}

#[tokio::test]
async fn a_processed_event_invalidates_the_cache() {
    let app = spawn_app().await;
    let users = &app.state.users;
    let clerk_id = ClerkUserId::new("user_cache");
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
    post_ok(&app, "msg_1", &created("user_cache", "Old", 1_000)).await;
    let cached = users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.name, "Old Tester");
    let by_id = users.get_user(cached.id).await.unwrap().unwrap();
    assert_eq!(by_id.name, "Old Tester");
    post_ok(&app, "msg_2", &updated("user_cache", "New", 2_000)).await;
    assert_eq!(
        users
            .get_user_by_clerk_id(&clerk_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "New Tester"
    );
    assert_eq!(
        users.get_user(cached.id).await.unwrap().unwrap().name,
        "New Tester"
    );
    post_ok(&app, "msg_3", &deleted("user_cache", 3_000)).await;
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
    assert!(users.get_user(cached.id).await.unwrap().is_none());
}

#[tokio::test]
async fn metrics_show_the_outbox() {
    let app = spawn_app().await;
    post_ok(&app, "msg_1", &created("user_m1", "One", 1)).await;
    post_ok(&app, "msg_2", &created("user_m2", "Two", 1)).await;
    sqlx::query(
        "UPDATE metadata_outbox SET status = 'parked', finished_at = now(), last_error = 'x'
         WHERE user_id = (SELECT id FROM users WHERE clerk_user_id = 'user_m2')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let stats = warden::sync::outbox::outbox_stats(&app.pool).await.unwrap();
    assert_eq!(
        (stats.pending, stats.parked, stats.delivered_recent),
        (1, 1, 0)
    );
    assert!(stats.oldest_pending_age.is_some());
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE warden_outbox_pending gauge\nwarden_outbox_pending 1\n"),
        "{text}"
    );
    assert!(text.contains("\nwarden_outbox_parked 1\n"), "{text}");
    assert!(
        text.contains("\nwarden_outbox_delivered_recent 0\n"),
        "{text}"
    );
    assert!(
        text.contains("warden_outbox_oldest_pending_age_seconds "),
        "{text}"
    );
}

#[tokio::test]
async fn old_processed_ids_are_pruned() {
    let app = spawn_app().await;
    post_ok(&app, "msg_old", &created("user_p", "Pat", 1)).await;
    post_ok(&app, "msg_new", &updated("user_p", "Pat", 2)).await;
    sqlx::query("UPDATE webhook_events SET received_at = now() - interval '8 days' WHERE svix_id = 'msg_old'")
        .execute(&app.pool)
        .await
        .unwrap();
    let outbox = warden::sync::outbox::Outbox::from_state(&app.state, Default::default());
    let (_, events) = outbox.prune().await.unwrap();
    assert_eq!(events, 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT svix_id FROM webhook_events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, vec!["msg_new".to_string()]);
}
