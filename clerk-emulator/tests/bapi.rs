//! Backend API fidelity: auth, errors, users CRUD, metadata merge, list/count, faults; every
//! response validated against openapi-users.yml.

mod common;

use common::{assert_response, Bapi};
use reqwest::Method;
use serde_json::{json, Value};

async fn create(b: &Bapi, body: Value) -> Value {
    let (s, u) = b.json(Method::POST, "/users", body).await;
    assert_eq!(s, 200, "{u}");
    assert_response("/users", "post", 200, &u);
    u
}

#[tokio::test]
async fn auth_errors_are_clerk_shaped() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    // Missing header.
    let rb = b.client.get(format!("{}/v1/users", run.url));
    let (s, _, body) = b.send(rb).await;
    assert_eq!(s, 401);
    assert_eq!(
        body["errors"][0]["code"],
        "authorization_header_format_invalid"
    );
    assert_response("/users", "get", 401, &body);
    // Wrong key.
    let rb = b
        .client
        .get(format!("{}/v1/users", run.url))
        .bearer_auth("sk_live_nope");
    let (s, _, body) = b.send(rb).await;
    assert_eq!(s, 401);
    assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    assert!(body["clerk_trace_id"].is_string());
    assert_response("/users", "get", 401, &body);
    // JWKS needs the key too.
    let rb = b
        .client
        .get(format!("{}/v1/jwks", run.url))
        .bearer_auth("sk_live_nope");
    let (s, _, _) = b.send(rb).await;
    assert_eq!(s, 401);
    // Bad API version.
    let rb = b
        .client
        .get(format!("{}/v1/users", run.url))
        .bearer_auth(&b.sk)
        .header("Clerk-API-Version", "yesterday");
    let (s, _, body) = b.send(rb).await;
    assert_eq!(s, 400);
    assert_eq!(body["errors"][0]["code"], "api_version_invalid");
}

#[tokio::test]
async fn jwks_matches_schema_and_fapi() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let (s, jwks) = b.get("/jwks").await;
    assert_eq!(s, 200);
    assert_response("/jwks", "get", 200, &jwks);
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], run.emulator.instance_id());
    assert!(key["kid"].as_str().unwrap().starts_with("ins_"));
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["e"], "AQAB");
    // Same key set as the example's shape.
    let example = common::fixture_json("examples/jwks.json");
    let mut want: Vec<_> = example["keys"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut got: Vec<_> = key.as_object().unwrap().keys().cloned().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let fapi: Value = common::http()
        .get(format!("{}/.well-known/jwks.json", run.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fapi, jwks);
}

#[tokio::test]
async fn users_crud_validates_against_schema() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let u = create(
        &b,
        json!({"email_address": ["ada@example.com"], "first_name": "Ada", "last_name": "Lovelace",
               "username": "ada_l", "public_metadata": {"role": "admin", "dbId": 7}}),
    )
    .await;
    let id = u["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("user_"));
    assert!(u["primary_email_address_id"]
        .as_str()
        .unwrap()
        .starts_with("idn_"));
    assert_eq!(u["email_addresses"][0]["email_address"], "ada@example.com");
    assert_eq!(
        u["email_addresses"][0]["verification"]["status"],
        "verified"
    );
    let created = u["created_at"].as_i64().unwrap();
    assert!(created > 1_600_000_000_000, "timestamps are milliseconds");

    let (s, got) = b.get(&format!("/users/{id}")).await;
    assert_eq!(s, 200);
    assert_response("/users/{user_id}", "get", 200, &got);
    assert_eq!(got, u);

    let (s, upd) = b
        .json(
            Method::PATCH,
            &format!("/users/{id}"),
            json!({"first_name": "Augusta"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_response("/users/{user_id}", "patch", 200, &upd);
    assert_eq!(upd["first_name"], "Augusta");
    assert!(upd["updated_at"].as_i64().unwrap() > u["updated_at"].as_i64().unwrap());

    // Metadata on PATCH /users/{id} is an unknown parameter in 2026-05-12.
    let (s, err) = b
        .json(
            Method::PATCH,
            &format!("/users/{id}"),
            json!({"public_metadata": {}}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(err["errors"][0]["code"], "form_param_unknown");
    assert_response("/users/{user_id}", "patch", 422, &err);

    let (s, list) = b.get("/users").await;
    assert_eq!(s, 200);
    assert_response("/users", "get", 200, &list);
    assert!(list.is_array());

    let (s, count) = b.get("/users/count").await;
    assert_eq!(s, 200);
    assert_response("/users/count", "get", 200, &count);
    assert_eq!(count, json!({"object": "total_count", "total_count": 1}));

    let (s, del) = b
        .json(Method::DELETE, &format!("/users/{id}"), json!(null))
        .await;
    assert_eq!(s, 200);
    assert_response("/users/{user_id}", "delete", 200, &del);
    assert_eq!(del, json!({"object": "user", "id": id, "deleted": true}));

    let (s, nf) = b.get(&format!("/users/{id}")).await;
    assert_eq!(s, 404);
    assert_eq!(nf["errors"][0]["code"], "resource_not_found");
    assert_eq!(
        nf["errors"][0]["long_message"],
        format!("No user was found with id {id}")
    );
    assert_response("/users/{user_id}", "get", 404, &nf);
    let (s, nf) = b
        .json(Method::DELETE, &format!("/users/{id}"), json!(null))
        .await;
    assert_eq!(s, 404);
    assert_response("/users/{user_id}", "delete", 404, &nf);
}

#[tokio::test]
async fn bad_input_gives_clerk_errors() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    create(
        &b,
        json!({"email_address": ["taken@example.com"], "username": "taken"}),
    )
    .await;
    for (body, code) in [
        (
            json!({"email_address": ["taken@example.com"]}),
            "form_identifier_exists",
        ),
        (
            json!({"email_address": ["TAKEN@example.com"]}),
            "form_identifier_exists",
        ),
        (
            json!({"email_address": ["x@example.com"], "username": "taken"}),
            "form_identifier_exists",
        ),
        (
            json!({"email_address": ["not-an-email"]}),
            "form_param_format_invalid",
        ),
        (
            json!({"email_address": ["a@example.com"], "favourite_colour": "red"}),
            "form_param_unknown",
        ),
        (
            json!({"email_address": ["a@example.com"], "first_name": 5}),
            "form_param_value_invalid",
        ),
        (
            json!({"email_address": ["a@example.com"], "public_metadata": [1]}),
            "form_param_value_invalid",
        ),
        (json!({"first_name": "nobody"}), "form_data_missing"),
    ] {
        let (s, err) = b.json(Method::POST, "/users", body.clone()).await;
        assert_eq!(s, 422, "{body} → {err}");
        assert_eq!(err["errors"][0]["code"], code, "{body}");
        assert_response("/users", "post", 422, &err);
    }
    // Malformed JSON → 400 request_body_invalid.
    let rb = b
        .req(Method::POST, "/users")
        .header("content-type", "application/json")
        .body("{not json");
    let (s, _, err) = b.send(rb).await;
    assert_eq!(s, 400);
    assert_eq!(err["errors"][0]["code"], "request_body_invalid");
    assert_response("/users", "post", 400, &err);
    // Bad list params → 422.
    for q in [
        "limit=0",
        "limit=501",
        "limit=x",
        "offset=-1",
        "order_by=password",
    ] {
        let (s, err) = b.get(&format!("/users?{q}")).await;
        assert_eq!(s, 422, "{q}");
        assert_response("/users", "get", 422, &err);
    }
}

#[tokio::test]
async fn list_filters_order_and_paging() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    for (email, first) in [
        ("carol@example.com", "Carol"),
        ("alice@example.com", "Alice"),
        ("bob@example.org", "Bob"),
    ] {
        create(&b, json!({"email_address": [email], "first_name": first})).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["first_name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, l) = b.get("/users").await;
    assert_eq!(names(&l), ["Bob", "Alice", "Carol"], "default -created_at");
    let (_, l) = b.get("/users?order_by=%2Bcreated_at").await;
    assert_eq!(names(&l), ["Carol", "Alice", "Bob"]);
    let (_, l) = b.get("/users?order_by=first_name").await;
    assert_eq!(names(&l), ["Alice", "Bob", "Carol"]);
    let (_, l) = b.get("/users?order_by=-email_address").await;
    assert_eq!(names(&l), ["Carol", "Bob", "Alice"]);
    let (_, l) = b.get("/users?order_by=first_name&limit=1&offset=1").await;
    assert_eq!(names(&l), ["Bob"]);
    let (_, l) = b.get("/users?query=EXAMPLE.COM&order_by=first_name").await;
    assert_eq!(names(&l), ["Alice", "Carol"]);
    let (_, l) = b
        .get("/users?email_address=bob@example.org&email_address=ALICE@example.com&order_by=first_name")
        .await;
    assert_eq!(names(&l), ["Alice", "Bob"]);
    let (_, c) = b.get("/users/count?query=example.com").await;
    assert_eq!(c["total_count"], 2);
    let (_, c) = b.get("/users/count?email_address=nobody@example.com").await;
    assert_eq!(c["total_count"], 0);
    assert_response("/users/count", "get", 200, &c);
}

#[tokio::test]
async fn metadata_deep_merge_and_replace() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let u = create(
        &b,
        json!({"email_address": ["m@example.com"],
               "public_metadata": {"role": "user", "prefs": {"theme": "dark", "lang": "en", "tags": [1, 2]}, "keep": true},
               "private_metadata": {"secret": 1}}),
    )
    .await;
    let id = u["id"].as_str().unwrap();
    let path = format!("/users/{id}/metadata");
    let (s, m) = b
        .json(
            Method::PATCH,
            &path,
            json!({"public_metadata": {"role": "admin", "dbId": 42, "prefs": {"lang": null, "tags": [3], "new": {"a": null, "b": 1}}}}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_response("/users/{user_id}/metadata", "patch", 200, &m);
    assert_eq!(
        m["public_metadata"],
        json!({"role": "admin", "dbId": 42, "keep": true, "prefs": {"theme": "dark", "tags": [3], "new": {"b": 1}}})
    );
    assert_eq!(
        m["private_metadata"],
        json!({"secret": 1}),
        "omitted fields untouched"
    );
    assert!(m["updated_at"].as_i64().unwrap() > u["updated_at"].as_i64().unwrap());
    // Top-level null deletes a key.
    let (_, m) = b
        .json(
            Method::PATCH,
            &path,
            json!({"public_metadata": {"keep": null}}),
        )
        .await;
    assert!(m["public_metadata"].get("keep").is_none());
    // PUT replaces.
    let (s, m) = b
        .json(Method::PUT, &path, json!({"public_metadata": {"only": 1}}))
        .await;
    assert_eq!(s, 200);
    assert_response("/users/{user_id}/metadata", "put", 200, &m);
    assert_eq!(m["public_metadata"], json!({"only": 1}));
    assert_eq!(m["private_metadata"], json!({"secret": 1}));
    // Errors.
    let (s, e) = b
        .json(Method::PATCH, &path, json!({"public_metadata": "x"}))
        .await;
    assert_eq!(s, 422);
    assert_response("/users/{user_id}/metadata", "patch", 422, &e);
    let (s, e) = b
        .json(Method::PATCH, "/users/user_missing/metadata", json!({}))
        .await;
    assert_eq!(s, 404);
    assert_response("/users/{user_id}/metadata", "patch", 404, &e);
    // Library helper uses the same merge.
    let u2 = run
        .emulator
        .update_user_metadata(
            id,
            json!({"public_metadata": {"only": null, "x": {"y": 1}}}),
        )
        .await
        .unwrap();
    assert_eq!(u2.public_metadata, json!({"x": {"y": 1}}));
}

#[tokio::test]
async fn metadata_rate_limit_answers_429_with_retry_after() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let u = create(&b, json!({"email_address": ["r@example.com"]})).await;
    let path = format!("/users/{}/metadata", u["id"].as_str().unwrap());
    run.emulator.faults().set_metadata_rate_limit(Some(2));
    for i in 0..2 {
        let (s, _) = b
            .json(Method::PATCH, &path, json!({"public_metadata": {"i": i}}))
            .await;
        assert_eq!(s, 200);
    }
    let (s, h, e) = b
        .send(
            b.req(Method::PATCH, &path)
                .json(&json!({"public_metadata": {"i": 3}})),
        )
        .await;
    assert_eq!(s, 429);
    assert_eq!(e["errors"][0]["code"], "too_many_requests");
    let ra: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&ra));
    assert_response("/users/{user_id}/metadata", "patch", 422, &e); // ClerkErrors shape
                                                                    // Another user is not limited.
    let u2 = create(&b, json!({"email_address": ["r2@example.com"]})).await;
    let (s, _) = b
        .json(
            Method::PATCH,
            &format!("/users/{}/metadata", u2["id"].as_str().unwrap()),
            json!({"public_metadata": {}}),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn injected_bapi_failures() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    run.emulator.faults().set_bapi_failures(2, 500);
    for _ in 0..2 {
        let (s, e) = b.get("/users").await;
        assert_eq!(s, 500);
        assert_eq!(e["errors"][0]["code"], "internal_clerk_error");
        assert_response("/users", "get", 401, &e); // ClerkErrors shape
    }
    let (s, _) = b.get("/users").await;
    assert_eq!(s, 200);
    run.emulator.faults().set_bapi_failures(1, 429);
    let (s, h, e) = b.send(b.req(Method::GET, "/users/count")).await;
    assert_eq!(s, 429);
    assert_eq!(e["errors"][0]["code"], "too_many_requests");
    assert!(h.get("retry-after").is_some());
    let (s, _) = b.get("/users/count").await;
    assert_eq!(s, 200);
    // JWKS is unaffected by BAPI failures.
    run.emulator.faults().set_bapi_failures(1, 500);
    let (s, _) = b.get("/jwks").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn schema_validation_is_not_vacuous() {
    let run = common::spawn().await;
    let b = Bapi::new(&run);
    let u = create(&b, json!({"email_address": ["v@example.com"]})).await;
    let schema = common::response_schema("/users/{user_id}", "get", "200");
    let root_check = |inst: &Value| {
        std::panic::catch_unwind(|| common::assert_valid(schema.clone(), inst, "probe")).is_ok()
    };
    assert!(root_check(&u));
    let mut missing = u.clone();
    missing.as_object_mut().unwrap().remove("banned");
    assert!(!root_check(&missing), "missing required field must fail");
    let mut extra = u.clone();
    extra["surprise"] = json!(1);
    assert!(!root_check(&extra), "additionalProperties: false must fail");
    let mut wrong = u.clone();
    wrong["created_at"] = json!("yesterday");
    assert!(!root_check(&wrong), "wrong type must fail");
    let mut nulled = u.clone();
    nulled["first_name"] = Value::Null;
    assert!(root_check(&nulled), "nullable fields accept null");
}
