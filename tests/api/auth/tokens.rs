//! Session-token verification over real HTTP: every way a token can be bad, a PEM key that
//! needs no JWKS fetch, and JWKS rotation under a flood of unknown kids.

use crate::helpers::app::{
    build_application, spawn_app, spawn_app_with, test_config, AppOptions, TestApp,
};
use crate::helpers::clerk::{clerk_env, good_claims, jwt_header, now_secs};
use serde_json::{json, Value};
use std::time::Duration;

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// The auth state the app gave a request carrying `token` as a bearer token.
async fn auth_of(app: &TestApp, token: &str) -> (String, String) {
    let response = app
        .client
        .get(app.url("/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a bad token is never an error page");
    let status = response.headers()["x-clerk-auth-status"]
        .to_str()
        .unwrap()
        .to_owned();
    let reason = response
        .headers()
        .get("x-clerk-auth-reason")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, reason)
}

#[tokio::test]
async fn every_bad_token_is_signed_out_with_its_reason() {
    let app = spawn_app().await;
    let emulator = app.emulator();
    let sign =
        |header: Value, claims: Value| emulator.sign_with_instance_key(&header, &claims).unwrap();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good_claims(&app, "user_x");
        change(&mut claims);
        claims
    };

    // The control: a well-formed token is accepted.
    let good = sign(jwt_header(&app), good_claims(&app, "user_x"));
    assert_eq!(
        auth_of(&app, &good).await,
        ("signed-in".into(), String::new())
    );

    let public_pem = emulator.public_key_pem();
    let hs256_with_public_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good_claims(&app, "user_x"),
        &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    let stranger = clerk_emulator::SigningKey::generate(emulator.current_kid(), 0).unwrap();
    let wrong_key = stranger
        .sign_jwt(&jwt_header(&app), &good_claims(&app, "user_x"))
        .unwrap();
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good_claims(&app, "user_x"))
    );
    let no_alg = sign(
        json!({"kid": emulator.current_kid(), "typ": "JWT"}),
        good_claims(&app, "user_x"),
    );

    let cases: Vec<(&str, String, &str)> = vec![
        ("no alg", no_alg, "token-invalid-algorithm"),
        ("alg none, unsigned", unsigned, "token-invalid-algorithm"),
        (
            "HS256 signed with the public key",
            hs256_with_public_key,
            "token-invalid-algorithm",
        ),
        (
            "signed by another key",
            wrong_key,
            "token-invalid-signature",
        ),
        (
            "unknown kid",
            sign(
                json!({"alg": "RS256", "kid": "ins_unknown", "typ": "JWT"}),
                good_claims(&app, "user_x"),
            ),
            "jwk-kid-mismatch",
        ),
        (
            "expired",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c["iat"] = json!(now_secs() - 120);
                    c["nbf"] = json!(now_secs() - 130);
                    c["exp"] = json!(now_secs() - 60);
                }),
            ),
            "token-expired",
        ),
        (
            "not yet valid",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c["nbf"] = json!(now_secs() + 120);
                }),
            ),
            "token-not-active-yet",
        ),
        (
            "issued in the future",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c["iat"] = json!(now_secs() + 120);
                }),
            ),
            "token-iat-in-the-future",
        ),
        (
            "wrong issuer",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c["iss"] = json!("https://clerk.evil.example");
                }),
            ),
            "token-invalid-issuer",
        ),
        (
            "wrong azp",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c["azp"] = json!("https://evil.example");
                }),
            ),
            "token-invalid-authorized-parties",
        ),
        (
            "no sub",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
            ),
            "token-invalid-subject",
        ),
        (
            "not a session token (no sid)",
            sign(
                jwt_header(&app),
                with(&|c| {
                    c.as_object_mut().unwrap().remove("sid");
                }),
            ),
            "token-type-mismatch",
        ),
        (
            "OAuth typ",
            sign(
                json!({"alg": "RS256", "kid": emulator.current_kid(), "typ": "at+jwt"}),
                good_claims(&app, "user_x"),
            ),
            "token-type-mismatch",
        ),
        ("garbled", "not.a.token".to_owned(), "token-invalid"),
        ("two segments", "abc.def".to_owned(), "token-invalid"),
        (
            "tampered payload",
            {
                let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
                parts[1] = b64(&good_claims(&app, "user_admin"));
                parts.join(".")
            },
            "token-invalid-signature",
        ),
    ];
    for (name, token, reason) in cases {
        assert_eq!(
            auth_of(&app, &token).await,
            ("signed-out".to_owned(), reason.to_owned()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_pem_key_verifies_without_any_jwks_fetch() {
    // CLERK_JWT_KEY: networkless verification, as with Clerk's "JWKS Public Key".
    let app = spawn_app().await;
    let pem = app.emulator().public_key_pem();
    let env = clerk_env(&app.clerk, &app.base_url);
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("CLERK_JWT_KEY", &pem));
    let application = build_application(test_config(&vars), &app.pool, None, None).await;
    let state = application.state();
    let token = app
        .emulator()
        .sign_with_instance_key(&jwt_header(&app), &good_claims(&app, "user_pem"))
        .unwrap();
    let claims = state.session.verify(&token).await.unwrap();
    assert_eq!(claims.sub, "user_pem");
    assert_eq!(state.session.keys().fetch_count(), 0);
}

#[tokio::test]
async fn jwks_rotation_is_picked_up_and_a_kid_flood_fetches_at_most_once_per_interval() {
    let app = spawn_app_with(AppOptions {
        jwks_min_refetch: Some(Duration::from_millis(1500)),
        ..Default::default()
    })
    .await;
    let emulator = app.emulator();
    let first = emulator
        .sign_with_instance_key(&jwt_header(&app), &good_claims(&app, "user_r"))
        .unwrap();
    assert_eq!(auth_of(&app, &first).await.0, "signed-in");
    let keys = app.state.session.keys();
    assert_eq!(keys.fetch_count(), 1);

    // A flood of made-up kids, all at once.
    let mut flood = Vec::new();
    for i in 0..40 {
        let token = emulator
            .sign_with_instance_key(
                &json!({"alg": "RS256", "kid": format!("ins_bogus_{i}"), "typ": "JWT"}),
                &good_claims(&app, "user_r"),
            )
            .unwrap();
        let app_url = app.url("/");
        let client = app.client.clone();
        flood.push(tokio::spawn(async move {
            client.get(app_url).bearer_auth(token).send().await.unwrap()
        }));
    }
    for request in flood {
        let response = request.await.unwrap();
        assert_eq!(
            response.headers()["x-clerk-auth-reason"],
            "jwk-kid-mismatch"
        );
    }
    assert!(
        keys.fetch_count() <= 2,
        "the flood fetched {} times",
        keys.fetch_count()
    );

    // Rotation: after the interval, a token under the new kid is accepted.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let new_kid = emulator.rotate_key().await;
    let rotated = emulator
        .sign_with_instance_key(
            &json!({"alg": "RS256", "kid": new_kid, "typ": "JWT"}),
            &good_claims(&app, "user_r"),
        )
        .unwrap();
    assert_eq!(auth_of(&app, &rotated).await.0, "signed-in");
    // The old key is still served for a while, so tokens minted before still pass.
    let before = emulator.sign_with_instance_key(&jwt_header(&app), &good_claims(&app, "user_r"));
    assert!(before.is_ok());
}
