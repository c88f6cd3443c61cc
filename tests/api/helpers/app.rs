//! The app served over real HTTP on 127.0.0.1:0 (in the spirit of zero2prod's `spawn_app`),
//! each with a local Clerk-compatible provider of its own; and app instances that can be
//! stopped and restarted on the same address and database.

use super::clerk::clerk_env;
use super::database::fresh_database;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use warden::config::Config;
use warden::state::AppState;

/// A configuration for tests: development mode, small cache, given overrides.
pub fn test_config(overrides: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("CACHE_TTL_SECONDS".into(), "60".into()),
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
    /// Makes this Clerk user an admin in our database, as the role service would (and with the
    /// same cache invalidation).
    // TODO(store): raw SQL on `users` plus hand-made cache invalidation; becomes a call to
    // `UserStore::set_role_in`.
    pub async fn set_role(&self, clerk_user_id: &str, role: &str) {
        let id: uuid::Uuid = sqlx::query_scalar(
            "UPDATE users SET role = $2::user_role WHERE clerk_user_id = $1 RETURNING id",
        )
        .bind(clerk_user_id)
        .bind(role)
        .fetch_one(&self.pool)
        .await
        .expect("setting a role");
        self.state.cache.invalidate(&[
            warden::cache::Tag::all_users(),
            warden::cache::Tag::user(id),
            warden::cache::Tag::clerk_user(clerk_user_id),
        ]);
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

/// Every app a test gets is built here: the provider, the app's configuration for it, the
/// state, the router, served on 127.0.0.1:0.
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

    let env = clerk_env(&clerk.emulator, &clerk.url, &base_url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = test_config(&env);
    let (context, _) = warden::clerk::context_for(&config)
        .await
        .expect("the Clerk context");
    let state = match options.jwks_min_refetch {
        None => AppState::new(config, pool.clone(), context).expect("the app state"),
        Some(interval) => {
            let keys = warden::clerk::jwks::KeyStore::from_jwks(context.api.0.clone())
                .with_min_refetch_interval(interval);
            let verifier = warden::clerk::session::SessionVerifier::new(
                std::sync::Arc::new(keys),
                context.frontend_api_url.clone(),
                context.authorized_parties.clone(),
            );
            AppState::with_session(config, pool.clone(), context, verifier)
        }
    };
    // As in production: changes made by other processes reach this one's cache.
    state.users.follow_database_changes();
    let router = warden::server::router(state.clone(), None);
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serving");
    });
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
    /// Serves the app on `listener` over `pool`, configured for `provider` at `provider_url`.
    pub async fn start(
        listener: tokio::net::TcpListener,
        pool: PgPool,
        provider: &clerk_emulator::Emulator,
        provider_url: &str,
    ) -> Instance {
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let env = clerk_env(provider, provider_url, &base_url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let config = test_config(&env);
        let (context, _) = warden::clerk::context_for(&config)
            .await
            .expect("the Clerk context");
        let state = AppState::new(config, pool, context).expect("the app state");
        let router = warden::server::router(state.clone(), None);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
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
