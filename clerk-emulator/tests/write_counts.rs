//! The count of metadata writes per user: what an app's writer did, including writes that
//! changed nothing, and none of the writes the Backend API refused.

mod common;

use common::Bapi;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_accepted_metadata_write_counts_once_and_refusals_do_not() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let emulator = &run.emulator;
    let (s, ada) = b
        .json(
            Method::POST,
            "/users",
            json!({"email_address": ["ada@example.com"]}),
        )
        .await;
    assert_eq!(s, 200, "{ada}");
    let (_, grace) = b
        .json(
            Method::POST,
            "/users",
            json!({"email_address": ["grace@example.com"]}),
        )
        .await;
    let (ada, grace) = (ada["id"].as_str().unwrap(), grace["id"].as_str().unwrap());
    assert_eq!(emulator.metadata_writes(ada), 0, "creating is not a write");

    let path = format!("/users/{ada}/metadata");
    let write = json!({"public_metadata": {"role": "admin"}});
    for _ in 0..2 {
        let (s, body) = b.json(Method::PATCH, &path, write.clone()).await;
        assert_eq!(s, 200, "{body}");
    }
    assert_eq!(
        emulator.metadata_writes(ada),
        2,
        "the same write twice counts twice, though the second changed nothing"
    );
    let (s, _) = b
        .json(
            Method::PUT,
            &path,
            json!({"public_metadata": {"role": "user"}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(emulator.metadata_writes(ada), 3, "PUT counts too");

    // Refused writes: a bad body, an unknown user, an injected failure, the rate limit.
    let (s, _) = b
        .json(Method::PATCH, &path, json!({"public_metadata": "x"}))
        .await;
    assert_eq!(s, 422);
    let (s, _) = b
        .json(Method::PATCH, "/users/user_missing/metadata", write.clone())
        .await;
    assert_eq!(s, 404);
    emulator.faults().set_bapi_failures(1, 503);
    let (s, _) = b.json(Method::PATCH, &path, write.clone()).await;
    assert_eq!(s, 503);
    emulator.faults().set_metadata_rate_limit(Some(1));
    let grace_path = format!("/users/{grace}/metadata");
    let (s, _) = b.json(Method::PATCH, &grace_path, write.clone()).await;
    assert_eq!(s, 200);
    let (s, _) = b.json(Method::PATCH, &grace_path, write.clone()).await;
    assert_eq!(s, 429);
    assert_eq!(emulator.metadata_writes(ada), 3, "no refusal counted");
    assert_eq!(emulator.metadata_writes(grace), 1);

    // Edits that do not come through the Backend API are not an app's writes.
    emulator
        .update_user_metadata(ada, json!({"public_metadata": {"x": 1}}))
        .await
        .unwrap();
    assert_eq!(emulator.metadata_writes(ada), 3);
    let counts = emulator.metadata_write_counts();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert_eq!(counts[ada], 3);
    assert_eq!(emulator.metadata_writes("user_never_written"), 0);
}
