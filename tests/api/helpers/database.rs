//! One throwaway PostgreSQL for the whole run, and a fresh, migrated database on it per test.

use sqlx::PgPool;
use std::sync::OnceLock;
use warden::db::cluster::LocalCluster;

/// The cluster shared by every test. It is removed when the test binary exits.
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

/// A cluster of the calling test's own, for a test that stops and starts it.
///
/// It shares the shared cluster's owner (this process) on purpose: the owner is the process
/// whose exit removes the cluster, not a name. Each throwaway cluster gets a folder of its own
/// (the owner and a random suffix) and a port of its own (picked free at start), so any number
/// of them run side by side with the shared one.
pub async fn own_cluster() -> LocalCluster {
    LocalCluster::start_throwaway(std::process::id())
        .await
        .expect("a throwaway PostgreSQL")
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

/// A new, migrated database on `cluster`.
pub async fn fresh_database_on(cluster: &LocalCluster) -> TestDb {
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    warden::db::ensure_database(cluster, &name)
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

/// A new, migrated database on the shared cluster.
pub async fn fresh_database() -> TestDb {
    fresh_database_on(shared_cluster()).await
}

/// The single number `sql` selects.
pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count")
}
