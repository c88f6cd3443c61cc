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
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
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

/// The app on 127.0.0.1:0 over a fresh database.
pub async fn spawn_app() -> TestApp {
    let db = fresh_database().await;
    spawn_app_on(db.pool).await
}

pub async fn spawn_app_on(pool: PgPool) -> TestApp {
    let config = test_config(&[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let state = AppState::new(config, pool.clone());
    let router = warden::server::router(state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serving");
    });
    TestApp {
        base_url: format!("http://{addr}"),
        state,
        pool,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    }
}
