//! The database a process runs on: `DATABASE_URL`'s, or the local cluster, started when needed
//! and stopped again by whoever started it.

use crate::db::cluster::LocalCluster;
use crate::db::{connect, describe_error, migrate, DatabaseConfig};
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use std::path::Path;

/// An open, migrated database, and the local cluster when this process started it.
pub struct Database {
    pub pool: PgPool,
    started_cluster: Option<LocalCluster>,
    /// False for a pool the caller opened: the caller closes it.
    owns_pool: bool,
}

impl Database {
    /// A pool opened (and migrated) by the caller, who also closes it.
    pub fn from_pool(pool: PgPool) -> Database {
        Database {
            pool,
            started_cluster: None,
            owns_pool: false,
        }
    }

    /// Closes the pool (if it is ours), then stops the local cluster if this process started it.
    pub async fn close(self) {
        if self.owns_pool {
            self.pool.close().await;
        }
        if let Some(cluster) = self.started_cluster {
            tracing::info!("stopping the local PostgreSQL");
            if let Err(error) = cluster.stop().await {
                tracing::error!(%error, "stopping the local PostgreSQL failed");
            }
        }
    }
}

/// Opens (starting the local cluster under `data_dir` if configured so) and migrates.
pub async fn open(
    config: &DatabaseConfig,
    data_dir: &Path,
    max_connections: u32,
) -> Result<Database, String> {
    let (options, started_cluster) = connect_options(config, data_dir).await?;
    let opened = async {
        let pool = connect(options, max_connections).await?;
        migrate(&pool).await?;
        Ok::<_, String>(pool)
    }
    .await;
    match opened {
        Ok(pool) => Ok(Database {
            pool,
            started_cluster,
            owns_pool: true,
        }),
        Err(error) => {
            if let Some(cluster) = started_cluster {
                let _ = cluster.stop().await;
            }
            Err(error)
        }
    }
}

async fn connect_options(
    config: &DatabaseConfig,
    data_dir: &Path,
) -> Result<(PgConnectOptions, Option<LocalCluster>), String> {
    match config {
        DatabaseConfig::External(options) => Ok(((**options).clone(), None)),
        DatabaseConfig::Managed => {
            let root = data_dir.join("postgres");
            tracing::info!(folder = %root.display(), "DATABASE_URL is not set: using the local PostgreSQL cluster");
            let (cluster, started) = LocalCluster::start_or_reuse(&root)
                .await
                .map_err(|error| error.to_string())?;
            tracing::info!(
                port = cluster.port(),
                reused = !started,
                "local PostgreSQL is up"
            );
            if let Err(error) = ensure_database(&cluster, "warden").await {
                if started {
                    let _ = cluster.stop().await;
                }
                return Err(error);
            }
            let options = cluster.connect_options("warden");
            Ok((options, started.then_some(cluster)))
        }
    }
}

/// Creates `name` on the cluster when it does not exist yet.
pub async fn ensure_database(cluster: &LocalCluster, name: &str) -> Result<(), String> {
    use sqlx::ConnectOptions;
    let mut admin = cluster
        .connect_options("postgres")
        .connect()
        .await
        .map_err(|error| describe_error(&error))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .map_err(|error| describe_error(&error))?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut admin)
            .await
            .map_err(|error| describe_error(&error))?;
    }
    Ok(())
}
