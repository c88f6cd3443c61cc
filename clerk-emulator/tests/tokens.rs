//! Session tokens: header, claim set, template semantics, key rotation, PEM.

mod common;

use clerk_emulator::{Config, Emulator, NewUser};
use serde_json::{json, Value};
use std::time::Duration;

fn new_user(email: &str, meta: Value) -> NewUser {
    NewUser {
        first_name: Some("Grace".into()),
        last_name: Some("Hopper".into()),
        username: None,
        email: email.into(),
        image_url: None,
        public_metadata: meta,
    }
}

#[tokio::test]
async fn token_has_clerk_v2_claims() {
    let run = common::spawn().await;
    let emu = &run.emulator;
    let u = emu
        .create_user(new_user(
            "g@example.com",
            json!({"dbId": 42, "role": "admin"}),
        ))
        .await
        .unwrap();
    let s = emu.sign_in(&u.id).await.unwrap();
    assert!(s.session_id.starts_with("sess_"));
    let header = common::decode_part(&s.session_token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], emu.instance_id());
    let jwks = emu.jwks();
    let claims = common::verify_with_jwks(&s.session_token, &jwks);

    let example = common::fixture_json("examples/session-token.v2.decoded.json");
    let mut want: Vec<String> = example["payload_signed_in_no_active_org"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut got: Vec<String> = claims.as_object().unwrap().keys().cloned().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "claim names match the pack's example");
    for (k, v) in claims.as_object().unwrap() {
        let ex = &example["payload_signed_in_no_active_org"][k];
        assert_eq!(
            std::mem::discriminant(v),
            std::mem::discriminant(ex),
            "claim {k} has the example's JSON type"
        );
    }
    assert_eq!(claims["iss"], run.url.as_str());
    assert_eq!(claims["sub"], u.id.as_str());
    assert_eq!(claims["sid"], s.session_id.as_str());
    assert_eq!(claims["azp"], common::APP_ORIGIN);
    assert_eq!(claims["v"], 2);
    assert_eq!(claims["sts"], "active");
    assert_eq!(claims["fva"], json!([0, -1]));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["nbf"].as_i64().unwrap(), iat - 10);
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 60);
    assert!(iat >= s.client_uat);
    assert_eq!(claims["dbId"], 42, "single shortcode keeps JSON type");
    assert_eq!(claims["role"], "admin");
}

#[tokio::test]
async fn template_semantics_and_lifetime() {
    let mut c = Config::for_tests();
    c.token_lifetime = Duration::from_secs(5);
    c.session_token_template = json!({
        "dbId": "{{user.public_metadata.dbId}}",
        "role": "{{user.public_metadata.role}}",
        "meta": "{{user.public_metadata}}",
        "label": "{{user.last_name}} x",
        "missing_label": "{{user.public_metadata.nope}} x",
        "fallback": "{{user.public_metadata.nope || 'guest'}}",
        "email": "{{user.primary_email_address}}",
        "nested": {"first": "{{user.first_name}}"},
        "sub": "{{user.first_name}}"
    });
    let run = Emulator::spawn(c).await.unwrap();
    let emu = &run.emulator;
    let u = emu
        .create_user(new_user("t@example.com", json!({})))
        .await
        .unwrap();
    let s = emu.sign_in(&u.id).await.unwrap();
    let claims = common::verify_with_jwks(&s.session_token, &emu.jwks());
    assert_eq!(claims["dbId"], Value::Null, "missing → null (key present)");
    assert!(claims.as_object().unwrap().contains_key("role"));
    assert_eq!(claims["meta"], json!({}));
    assert_eq!(claims["label"], "Hopper x");
    assert_eq!(claims["missing_label"], "null x");
    assert_eq!(claims["fallback"], "guest");
    assert_eq!(claims["email"], "t@example.com");
    assert_eq!(claims["nested"], json!({"first": "Grace"}));
    assert_eq!(
        claims["sub"],
        u.id.as_str(),
        "default claims can't be overridden"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        5
    );
    // Claims follow metadata at the next mint.
    emu.update_user_metadata(
        &u.id,
        json!({"public_metadata": {"dbId": 7, "role": "editor"}}),
    )
    .await
    .unwrap();
    let t2 = emu.mint_session_token(&s.session_id).await.unwrap();
    let c2 = common::verify_with_jwks(&t2, &emu.jwks());
    assert_eq!(c2["dbId"], 7);
    assert_eq!(c2["role"], "editor");
}

#[tokio::test]
async fn key_rotation_serves_both_kids() {
    let run = common::spawn().await;
    let emu = &run.emulator;
    let u = emu
        .create_user(new_user("k@example.com", json!({})))
        .await
        .unwrap();
    let s = emu.sign_in(&u.id).await.unwrap();
    let old_kid = emu.instance_id();
    let old_pem = emu.public_key_pem();
    let new_kid = emu.rotate_key().await;
    assert_ne!(new_kid, old_kid);
    assert!(new_kid.starts_with("ins_"));
    let b = common::Bapi::new(&run);
    let (_, jwks) = b.get("/jwks").await;
    common::assert_response("/jwks", "get", 200, &jwks);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    // Old token still verifies; new tokens use the new kid.
    common::verify_with_jwks(&s.session_token, &jwks);
    let t = emu.mint_session_token(&s.session_id).await.unwrap();
    assert_eq!(common::decode_part(&t, 0)["kid"], new_kid.as_str());
    common::verify_with_jwks(&t, &jwks);
    // PEM follows the current key and verifies its tokens (CLERK_JWT_KEY style).
    let pem = emu.public_key_pem();
    assert_ne!(pem, old_pem);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let dk = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(&t, &dk, &v).expect("verifies with PEM");
}

#[tokio::test]
async fn file_storage_survives_restart() {
    let dir = std::env::temp_dir().join(format!("clerk-emu-test-{}", std::process::id()));
    let path = dir.join("state.json");
    let _ = std::fs::remove_file(&path);
    let mut c = Config::new("http://127.0.0.1:3000/__clerk");
    c.storage = clerk_emulator::Storage::File(path.clone());
    let emu = Emulator::new(c.clone()).await.unwrap();
    let u = emu
        .create_user(new_user("p@example.com", json!({"dbId": 1})))
        .await
        .unwrap();
    let s = emu.sign_in(&u.id).await.unwrap();
    let kid = emu.current_kid();
    let sk = emu.config().secret_key.clone();
    let pk = emu.config().publishable_key.clone();
    let stored = emu.get_user(&u.id).await.unwrap();
    drop(emu);
    let emu2 = Emulator::new(c).await.unwrap();
    assert_eq!(emu2.current_kid(), kid);
    assert_eq!(emu2.config().secret_key, sk);
    assert_eq!(emu2.config().publishable_key, pk);
    assert_eq!(emu2.get_user(&u.id).await.unwrap(), stored);
    let t = emu2.mint_session_token(&s.session_id).await.unwrap();
    let claims = common::verify_with_jwks(&t, &emu2.jwks());
    assert_eq!(claims["iss"], "http://127.0.0.1:3000/__clerk");
    let _ = std::fs::remove_dir_all(&dir);
}
