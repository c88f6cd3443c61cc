//! The app served over real HTTP on 127.0.0.1:0 (in the spirit of zero2prod's `spawn_app`),
//! each with a local Clerk-compatible provider of its own; and app instances that can be
//! stopped and restarted on the same address and database.

use super::clerk::clerk_env;
use super::database::fresh_database;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use warden::app::state::AppState;
use warden::config::Config;
use warden::server::{Application, Options};

/// A configuration for tests: development mode, small cache, given overrides.
pub fn test_config(overrides: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("CACHE_TTL_SECONDS".into(), "60".into()),
        // No browser bundle unless a test brings one: whether `scripts/build-wasm` ran in this
        // checkout must not change what the tests see.
        (
            "WARDEN_PKG_DIR".into(),
            "/nonexistent/warden-tests/pkg".into(),
        ),
    ]);
    for (key, value) in overrides {
        vars.insert(key.to_string(), value.to_string());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid test configuration")
}

pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    pub pool: PgPool,
    pub client: reqwest::Client,
    /// The local Clerk-compatible provider this app talks to over HTTP, as it would to clerk.com.
    pub clerk: clerk_emulator::RunningEmulator,
}

impl TestApp {
    /// Gives this Clerk user a role in our database through the user store (which also
    /// invalidates the cache), without the role service's rules: test set-up.
    pub async fn set_role(&self, clerk_user_id: &str, role: &str) {
        let users = &self.state.users;
        let clerk_user_id = warden::models::ClerkUserId::new(clerk_user_id);
        let id = users
            .id_by_clerk_id(&clerk_user_id)
            .await
            .expect("looking the user up")
            .expect("a synced user");
        let role = role.parse().expect("a role");
        let mut tx = self.pool.begin().await.expect("a transaction");
        users
            .set_role_in(&mut tx, id, role)
            .await
            .expect("setting a role");
        tx.commit().await.expect("committing");
        users.invalidate_user(id, &clerk_user_id);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn emulator(&self) -> &clerk_emulator::Emulator {
        &self.clerk.emulator
    }

    /// A GET as a browser sends it (HTML accepted).
    pub async fn get_page(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("request")
    }
}

/// A change to the provider's configuration.
pub type ClerkConfigChange = Box<dyn FnOnce(&mut clerk_emulator::Config) + Send>;

/// Options of [`spawn_app_with`].
#[derive(Default)]
pub struct AppOptions {
    /// Changes to the provider's configuration (token lifetime, …).
    pub clerk: Option<ClerkConfigChange>,
    /// The session verifier's minimum interval between JWKS fetches for unknown kids.
    pub jwks_min_refetch: Option<Duration>,
    /// How long the users change feed waits before listening again after it dropped.
    pub change_feed_retry: Option<Duration>,
    /// More of the app's environment (`METRICS_TOKEN`, …), over the test defaults.
    pub env: Vec<(&'static str, String)>,
}

/// The app on 127.0.0.1:0 over a fresh database, with its own local Clerk provider.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_on(pool: PgPool) -> TestApp {
    spawn_app_on_with(pool, AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let db = fresh_database().await;
    spawn_app_on_with(db.pool, options).await
}

/// An app whose provider's session tokens live `lifetime` (Clerk's: 60 s).
pub async fn spawn_app_with_token_lifetime(lifetime: Duration) -> TestApp {
    spawn_app_with(AppOptions {
        clerk: Some(Box::new(move |config| config.token_lifetime = lifetime)),
        ..Default::default()
    })
    .await
}

/// Every app a test gets is built here: the provider, the app's configuration for it, and the
/// app as `main` builds it, served on 127.0.0.1:0.
pub async fn spawn_app_on_with(pool: PgPool, options: AppOptions) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let base_url = format!("http://{addr}");

    let mut clerk_config = clerk_emulator::Config::for_tests();
    clerk_config.webhook_endpoints = vec![format!("{base_url}/api/webhooks/clerk")];
    clerk_config.allowed_redirect_origins = vec![base_url.clone()];
    if let Some(change) = options.clerk {
        change(&mut clerk_config);
    }
    let clerk = clerk_emulator::Emulator::spawn(clerk_config)
        .await
        .expect("starting the local Clerk provider");

    let mut env = clerk_env(&clerk, &base_url);
    env.extend(
        options
            .env
            .iter()
            .map(|(key, value)| (key.to_string(), value.clone())),
    );
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let application = Application::build_with(
        test_config(&env),
        Options {
            listener: Some(listener),
            pool: Some(pool.clone()),
            outbox: None,
            maintenance: None,
            key_refetch_interval: options.jwks_min_refetch,
            change_feed_retry: options.change_feed_retry,
        },
    )
    .await
    .expect("building the app");
    let state = application.state().clone();
    tokio::spawn(application.run_until(std::future::pending()));
    TestApp {
        base_url,
        state,
        pool,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        clerk,
    }
}

/// An app instance that can be stopped, on a fixed listener, talking to `provider`.
pub struct Instance {
    pub state: AppState,
    pub base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Instance {
    /// Serves the app on `listener` over `pool`, configured for `provider`.
    pub async fn start(
        listener: tokio::net::TcpListener,
        pool: PgPool,
        provider: &clerk_emulator::RunningEmulator,
    ) -> Instance {
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let env = clerk_env(provider, &base_url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let application = build_application(test_config(&env), &pool, Some(listener), None).await;
        let state = application.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = application
                .run_until(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Instance {
            state,
            base_url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops serving (the port is free again afterwards).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

/// The app as `main` builds it (`Application::build_with`), on the test's own pool (some tests
/// tune its timeouts), with no outbox worker or prunes of its own (tests that need them start
/// them).
pub async fn build_application(
    config: Config,
    pool: &PgPool,
    listener: Option<tokio::net::TcpListener>,
    key_refetch_interval: Option<Duration>,
) -> Application {
    Application::build_with(
        config,
        Options {
            listener,
            pool: Some(pool.clone()),
            outbox: None,
            maintenance: None,
            key_refetch_interval,
            change_feed_retry: None,
        },
    )
    .await
    .expect("building the app")
}
