//! The local Clerk-compatible provider: the app's environment for it, its users, browsers
//! signed in with it, the session tokens it mints, and providers on their own.

use super::app::TestApp;
use serde_json::{json, Value};

/// The app's environment for the local provider `provider` (what a deployment sets for
/// clerk.com, with the provider's URLs), serving at `app_origin`.
pub fn clerk_env(
    provider: &clerk_emulator::RunningEmulator,
    app_origin: &str,
) -> Vec<(String, String)> {
    let mut env = vec![("APP_ORIGIN".to_owned(), app_origin.to_owned())];
    env.extend(provider.app_env());
    env
}

impl TestApp {
    /// A user in Clerk (the provider) only; `email` also gives the name.
    pub async fn clerk_user(&self, first: &str, last: &str, email: &str) -> clerk_emulator::User {
        self.emulator()
            .create_user(clerk_emulator::NewUser {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                email: email.into(),
                ..Default::default()
            })
            .await
            .expect("creating a Clerk user")
    }

    /// A browser-like client signed in as `clerk_user_id` (session cookies set, as after the
    /// provider's sign-in page), following no redirects.
    pub async fn signed_in_client(&self, clerk_user_id: &str) -> SignedInClient {
        let signed_in = self
            .emulator()
            .sign_in(clerk_user_id)
            .await
            .expect("signing in");
        SignedInClient {
            cookie: format!(
                "__session={}; __client_uat={}",
                signed_in.session_token, signed_in.client_uat
            ),
            signed_in,
            base_url: self.base_url.clone(),
            client: self.client.clone(),
        }
    }

    /// Syncs the Clerk user into our database through the real sync route.
    pub async fn sync(&self, client: &SignedInClient) {
        let response = client.get("/api/clerk/syncUsers?redirect_url=/").await;
        assert_eq!(response.status(), 303, "sync: {:?}", response.text().await);
    }
}

pub struct SignedInClient {
    pub signed_in: clerk_emulator::SignedIn,
    pub cookie: String,
    pub base_url: String,
    pub client: reqwest::Client,
}

impl SignedInClient {
    /// A page navigation, as a browser sends it.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base_url, path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("sec-fetch-dest", "document")
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("request")
    }
}

/// Now in Unix seconds, as session tokens and Svix timestamps count time.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Session-token claims as Clerk mints them for this app's instance.
pub fn good_claims(app: &TestApp, sub: &str) -> Value {
    let now = now_secs();
    json!({
        "iss": app.clerk.url,
        "sub": sub,
        "sid": "sess_test",
        "azp": app.base_url,
        "iat": now,
        "nbf": now - 10,
        "exp": now + 60,
        "v": 2,
    })
}

/// The JWT header of a session token signed with the instance's current key.
pub fn jwt_header(app: &TestApp) -> Value {
    json!({"alg": "RS256", "kid": app.emulator().current_kid(), "typ": "JWT"})
}

/// A provider of its own whose webhooks go to `endpoint`, with Svix's schedule compressed by
/// `scale`.
pub async fn provider_for(endpoint: &str, scale: f64) -> clerk_emulator::RunningEmulator {
    let mut config = clerk_emulator::Config::for_tests();
    config.webhook_endpoints = vec![endpoint.to_owned()];
    config.webhook_retry_time_scale = scale;
    clerk_emulator::Emulator::spawn(config)
        .await
        .expect("starting the local Clerk provider")
}

/// A new Clerk user named `first_name` Tester.
pub fn new_user(email: &str, first_name: &str, metadata: Value) -> clerk_emulator::NewUser {
    clerk_emulator::NewUser {
        first_name: Some(first_name.into()),
        last_name: Some("Tester".into()),
        username: None,
        email: email.into(),
        image_url: None,
        public_metadata: metadata,
    }
}

/// The user's public metadata as the provider holds it (null for an unknown user).
pub async fn clerk_metadata(provider: &clerk_emulator::Emulator, clerk_id: &str) -> Value {
    provider
        .get_user(clerk_id)
        .await
        .map(|user| serde_json::to_value(&user).unwrap_or_default()["public_metadata"].clone())
        .unwrap_or(Value::Null)
}

/// How many `user.updated` messages (distinct svix ids) the provider sent about anyone.
pub fn updated_messages(provider: &clerk_emulator::Emulator) -> usize {
    let mut ids: Vec<String> = provider
        .webhook_log()
        .into_iter()
        .filter(|attempt| attempt.event_type == "user.updated")
        .map(|attempt| attempt.svix_id)
        .collect();
    ids.sort();
    ids.dedup();
    ids.len()
}

/// The `Set-Cookie` headers of a response, in order.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}
