//! Test support: a throwaway PostgreSQL per test binary, a fresh database per test, and the app
//! served over real HTTP on 127.0.0.1:0 (in the spirit of zero2prod's `spawn_app`).
#![allow(dead_code)]

use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::OnceLock;
use warden::config::Config;
use warden::db::cluster::LocalCluster;
use warden::state::AppState;

/// The cluster shared by every test of this binary. It is removed when the binary exits.
pub fn shared_cluster() -> &'static LocalCluster {
    static CLUSTER: OnceLock<LocalCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        // A runtime of its own: the tests' runtimes come and go, the cluster stays.
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to start PostgreSQL")
                .block_on(LocalCluster::start_throwaway(std::process::id()))
                .unwrap_or_else(|error| panic!("starting the test PostgreSQL failed: {error}"))
        })
        .join()
        .expect("the thread starting PostgreSQL")
    })
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

/// A new, migrated database on `cluster`.
pub async fn fresh_database_on(cluster: &LocalCluster) -> TestDb {
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    warden::server::ensure_database(cluster, &name)
        .await
        .expect("creating the test database");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect_with(cluster.connect_options(&name))
        .await
        .expect("connecting to the test database");
    warden::db::migrate(&pool).await.expect("migrations");
    TestDb {
        url: cluster.url(&name),
        name,
        pool,
    }
}

pub async fn fresh_database() -> TestDb {
    fresh_database_on(shared_cluster()).await
}

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

    /// Makes this Clerk user an admin in our database, as the role service would (and with the
    /// same cache invalidation).
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

    /// Syncs the Clerk user into our database through the real sync route.
    pub async fn sync(&self, client: &SignedInClient) {
        let response = client.get("/api/clerk/syncUsers?redirect_url=/").await;
        assert_eq!(response.status(), 303, "sync: {:?}", response.text().await);
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
    /// Extra or overriding environment variables of the app.
    pub env: Vec<(String, String)>,
    /// Changes to the provider's configuration (token lifetime, …).
    pub clerk: Option<ClerkConfigChange>,
    /// The session verifier's minimum interval between JWKS fetches for unknown kids.
    pub jwks_min_refetch: Option<std::time::Duration>,
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

/// The app's environment for a Clerk-compatible provider at `clerk_url` (what a deployment
/// sets for clerk.com, with the provider's URLs).
pub fn clerk_env(
    provider: &clerk_emulator::Emulator,
    clerk_url: &str,
    app_origin: &str,
) -> Vec<(String, String)> {
    let config = provider.config();
    vec![
        ("APP_ORIGIN".into(), app_origin.into()),
        ("CLERK_SECRET_KEY".into(), config.secret_key.clone()),
        (
            "CLERK_PUBLISHABLE_KEY".into(),
            config.publishable_key.clone(),
        ),
        ("CLERK_API_URL".into(), clerk_url.into()),
        ("CLERK_PROXY_URL".into(), clerk_url.into()),
        ("CLERK_SIGN_IN_URL".into(), format!("{clerk_url}/sign-in")),
        (
            "CLERK_WEBHOOK_SIGNING_SECRET".into(),
            config.webhook_signing_secret.clone(),
        ),
    ]
}

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

    let mut env = clerk_env(&clerk.emulator, &clerk.url, &base_url);
    env.extend(options.env);
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
