//! Sessions, the current user, route protection and the handshake, over real HTTP against the
//! local Clerk-compatible provider.

use crate::helpers::app::{spawn_app, spawn_app_with, test_config, AppOptions, TestApp};
use crate::helpers::clerk::{clerk_env, good_claims, jwt_header, now_secs};
use serde_json::{json, Value};
use std::time::Duration;

/// An app whose provider sends it no webhooks: for tests of the sync route, which the
/// `user.created` webhook would otherwise beat to creating the user.
async fn spawn_app_without_webhooks() -> TestApp {
    spawn_app_with(AppOptions {
        clerk: Some(Box::new(|config| config.webhook_endpoints.clear())),
        ..Default::default()
    })
    .await
}

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
    let env = clerk_env(app.emulator(), &app.clerk.url, &app.base_url);
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("CLERK_JWT_KEY", &pem));
    let config = test_config(&vars);
    let (context, _) = warden::clerk::context_for(&config).await.unwrap();
    let state = warden::state::AppState::new(config, app.pool.clone(), context).unwrap();
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

#[tokio::test]
async fn profile_needs_sign_in_and_unsynced_people_go_through_the_sync_route() {
    let app = spawn_app_without_webhooks().await;
    // Signed out: to our sign-in route, then to the provider's page, with a way back.
    let response = app.get_page("/profile").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/sign-in?redirect_url=%2Fprofile"
    );
    let response = app.get_page("/sign-in?redirect_url=%2Fprofile").await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/sign-in?redirect_url=", app.clerk.url)),
        "{location}"
    );
    assert!(
        location.contains(&urlencode(&format!("{}/profile", app.base_url))),
        "{location}"
    );

    // Signed in with Clerk but not in our database: through the sync route and back.
    let clerk_user = app.clerk_user("Ada", "Lovelace", "ada@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    let response = browser.get("/profile").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/api/clerk/syncUsers?redirect_url=%2Fprofile"
    );
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/profile");
    let response = browser.get("/profile").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Ada Lovelace") && body.contains("ada@example.com"),
        "{body}"
    );
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn the_sync_route_upserts_and_merges_metadata_into_clerk() {
    let app = spawn_app().await;
    let clerk_user = app
        .emulator()
        .create_user(clerk_emulator::NewUser {
            first_name: None,
            last_name: None,
            username: Some("gracehopper".into()),
            email: "grace@example.com".into(),
            public_metadata: json!({"plan": "pro", "role": "admin"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;

    let (id, name, email, role): (uuid::Uuid, String, String, String) =
        sqlx::query_as("SELECT id, name, email, role::text FROM users WHERE clerk_user_id = $1")
            .bind(&clerk_user.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(name, "gracehopper", "no first or last name: the username");
    assert_eq!(email, "grace@example.com");
    assert_eq!(role, "admin", "Clerk's role seeds a new user's role");

    let in_clerk = app.emulator().get_user(&clerk_user.id).await.unwrap();
    let metadata = serde_json::to_value(&in_clerk).unwrap()["public_metadata"].clone();
    assert_eq!(metadata["plan"], "pro", "other keys are kept: {metadata}");
    assert_eq!(metadata["dbId"], id.to_string());
    assert_eq!(metadata["role"], "admin");
}

#[tokio::test]
async fn the_sync_route_only_returns_to_our_own_origin() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Red", "Irect", "redirect@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    let cases = [
        (
            "/api/clerk/syncUsers?redirect_url=https%3A%2F%2Fevil.example%2F",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2F%2Fevil.example",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2Fapi%2Fclerk%2FsyncUsers",
            None,
            "/",
        ),
        (
            "/api/clerk/syncUsers",
            Some("https://evil.example/phish".to_owned()),
            "/",
        ),
        (
            "/api/clerk/syncUsers",
            Some(format!("{}/profile?tab=1", app.base_url)),
            "/profile?tab=1",
        ),
        (
            "/api/clerk/syncUsers?redirect_url=%2Fprofile",
            Some("https://evil.example/".to_owned()),
            "/profile",
        ),
    ];
    for (path, referer, expected) in cases {
        let mut request = browser
            .client
            .get(app.url(path))
            .header("accept", "text/html")
            .header("cookie", &browser.cookie);
        if let Some(referer) = &referer {
            request = request.header("referer", referer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 303, "{path} {referer:?}");
        assert_eq!(
            response.headers()["location"],
            expected,
            "{path} {referer:?}"
        );
    }
}

#[tokio::test]
async fn the_sync_route_explains_its_failures() {
    let app = spawn_app_without_webhooks().await;
    // No Clerk session: to sign-in.
    let response = app
        .get_page("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/sign-in?redirect_url=%2Fprofile"
    );

    // Clerk answering 5xx: a 502 page with a way to retry, and nothing written.
    let clerk_user = app.clerk_user("Bad", "Gateway", "bg@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.emulator().faults().set_bapi_failures(20, 500);
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 502);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Clerk did not answer") && body.contains("Try again"),
        "{body}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // Once Clerk is back, the same link works.
    app.emulator().faults().reset();
    let response = browser
        .get("/api/clerk/syncUsers?redirect_url=%2Fprofile")
        .await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn a_demoted_admin_is_refused_on_the_very_next_request() {
    let app = spawn_app().await;
    let clerk_user = app
        .emulator()
        .create_user(clerk_emulator::NewUser {
            first_name: Some("Ann".into()),
            email: "ann@example.com".into(),
            public_metadata: json!({"role": "admin"}),
            ..Default::default()
        })
        .await
        .unwrap();
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    app.set_role(&clerk_user.id, "admin").await;
    let response = browser.get("/admin").await;
    assert_ne!(response.status(), 403, "an admin passes the guard");

    // The token still says "admin" (minted before the change); the database says otherwise.
    app.set_role(&clerk_user.id, "user").await;
    let response = browser.get("/admin").await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("for admins"));

    // And a forged role claim does not help either.
    let now = now_secs();
    let forged = app
        .emulator()
        .sign_with_instance_key(
            &jwt_header(&app),
            &json!({"iss": app.clerk.url, "sub": clerk_user.id, "sid": "sess_x", "iat": now, "nbf": now - 10, "exp": now + 60, "role": "admin"}),
        )
        .unwrap();
    let response = app
        .client
        .get(app.url("/admin"))
        .header("accept", "text/html")
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn get_current_user_answers_401_signed_out_and_the_user_signed_in() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .form(&[("include_user", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let clerk_user = app.clerk_user("Cur", "Rent", "current@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    let response = app
        .client
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .header("cookie", &browser.cookie)
        .form(&[("include_user", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["clerk_user_id"], clerk_user.id);
    assert_eq!(body["role"], "user");
    assert_eq!(body["user"]["email"], "current@example.com");
}

#[tokio::test]
async fn an_expired_session_is_refreshed_by_the_handshake_on_pages_but_not_on_api_calls() {
    let app = spawn_app_with(AppOptions {
        clerk: Some(Box::new(|config| {
            config.token_lifetime = Duration::from_secs(1)
        })),
        ..Default::default()
    })
    .await;
    let clerk_user = app.clerk_user("Hand", "Shake", "hs@example.com").await;
    // A real browser: the provider's sign-in sets the cookies, redirects are followed.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let sign_in = browser
        .post(format!("{}/sign-in/pick", app.clerk.url))
        .header("origin", &app.clerk.url)
        .header("accept", "text/html")
        .form(&[
            ("user_id", clerk_user.id.as_str()),
            ("redirect_url", &app.url("/profile")),
        ])
        .send()
        .await
        .unwrap();
    assert!(sign_in.status().is_success(), "{}", sign_in.status());
    let body = sign_in.text().await.unwrap();
    assert!(
        body.contains("Hand Shake"),
        "signed in and synced on the way: {body}"
    );

    // Let the 1-second token expire, past Clerk's 5-second skew.
    tokio::time::sleep(Duration::from_secs(7)).await;

    // An API call is not rescued: 401.
    let api = browser
        .post(app.url("/api/get_current_user"))
        .header("origin", &app.base_url)
        .form(&[("include_user", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    // A page navigation goes through the handshake and comes back signed in.
    let page = browser
        .get(app.url("/profile"))
        .header("accept", "text/html")
        .header("sec-fetch-dest", "document")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().as_str(), app.url("/profile"));
    let body = page.text().await.unwrap();
    assert!(body.contains("Hand Shake"), "still signed in: {body}");
}

#[tokio::test]
async fn signing_out_with_a_plain_form_revokes_the_session_and_clears_the_cookies() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Out", "Going", "out@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;

    let page = browser.get("/sign-out").await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("action=\"/api/sign_out\""),
        "a plain form: {body}"
    );

    let response = app
        .client
        .post(app.url("/api/sign_out"))
        .header("accept", "text/html")
        .header("origin", &app.base_url)
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/");
    let cleared: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(
        cleared.iter().any(|c| c.starts_with("__client_uat=0;")),
        "{cleared:?}"
    );
    assert!(
        app.emulator()
            .mint_session_token(&browser.signed_in.session_id)
            .await
            .is_err(),
        "the provider's session is revoked"
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_valid_session() {
    let app = spawn_app().await;
    let clerk_user = app.clerk_user("Cross", "Site", "csrf@example.com").await;
    let browser = app.signed_in_client(&clerk_user.id).await;
    app.sync(&browser).await;
    for (origin, fetch_site) in [
        (Some("https://evil.example"), Some("cross-site")),
        (Some("https://evil.example"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
    ] {
        let mut request = app
            .client
            .post(app.url("/api/sign_out"))
            .header("accept", "text/html")
            .header("cookie", &browser.cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin:?} {fetch_site:?}");
    }
    assert!(
        app.emulator()
            .mint_session_token(&browser.signed_in.session_id)
            .await
            .is_ok(),
        "nothing happened"
    );
}

/// The authorization matrix of every server function: signed out, user, admin, deleted user.
#[tokio::test]
async fn every_server_function_authorises_itself() {
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for (name, role) in [("Us Er", "user"), ("Ad Min", "admin"), ("De Leted", "user")] {
        let (first, last) = name.split_once(' ').unwrap();
        let email = format!("{}@example.com", first.to_lowercase());
        let clerk_user = app.clerk_user(first, last, &email).await;
        let browser = app.signed_in_client(&clerk_user.id).await;
        app.sync(&browser).await;
        app.set_role(&clerk_user.id, role).await;
        browsers.push((clerk_user.id, browser));
    }
    // The third person is deleted here (their Clerk session lives on).
    let deleted_clerk_id = browsers[2].0.clone();
    app.state
        .users
        .delete_user(&warden::users::ClerkUserId::new(&deleted_clerk_id))
        .await
        .unwrap();
    let target: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE clerk_user_id = $1")
        .bind(&browsers[0].0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let target = target.to_string();

    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/api/get_current_user", vec![("include_user", "true")]),
        ("/api/my_profile", vec![]),
        ("/api/refresh_from_clerk", vec![]),
        ("/api/admin_overview", vec![]),
        ("/api/admin_list_users", vec![("params[q]", "")]),
        ("/api/admin_user_detail", vec![("id", &target)]),
        (
            "/api/admin_set_user_role",
            vec![
                ("user_id", &target),
                ("role", "user"),
                ("expected_role", "user"),
            ],
        ),
    ];
    let admin_only = |path: &str| path.starts_with("/api/admin_");
    for (path, form) in &calls {
        let call = |cookie: Option<&str>| {
            let mut request = app
                .client
                .post(app.url(path))
                .header("origin", &app.base_url)
                .form(form);
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie.to_owned());
            }
            request.send()
        };
        let signed_out = call(None).await.unwrap().status().as_u16();
        let user = call(Some(&browsers[0].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        let admin = call(Some(&browsers[1].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        let deleted = call(Some(&browsers[2].1.cookie))
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(signed_out, 401, "{path} signed out");
        assert_eq!(
            user,
            if admin_only(path) { 403 } else { 200 },
            "{path} as a user"
        );
        assert!(admin == 200 || admin == 302, "{path} as an admin: {admin}");
        assert_eq!(deleted, 403, "{path} as a deleted user");
    }

    // A malformed call is the caller's mistake: 400, not 500.
    let malformed = app
        .client
        .post(app.url("/api/admin_set_user_role"))
        .header("origin", &app.base_url)
        .header("cookie", &browsers[1].1.cookie)
        .form(&[("user_id", target.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);

    // And the pages: a deleted user gets the designed 403 page.
    for path in ["/profile", "/admin", "/admin/users"] {
        let response = browsers[2].1.get(path).await;
        assert_eq!(response.status(), 403, "{path}");
        assert!(response.text().await.unwrap().contains("deleted"), "{path}");
    }
}
