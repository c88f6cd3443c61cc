//! PostgreSQL: the pool, the migrations and the cluster the app can run for itself.

pub mod cluster;
mod open;

pub use open::{ensure_database, open, Database};

use crate::error::AppError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::time::Duration;

/// Where the app's database is (read from `DATABASE_URL` by `config`).
#[derive(Clone)]
pub enum DatabaseConfig {
    /// `DATABASE_URL` was set: use it and start nothing.
    External(Box<PgConnectOptions>),
    /// Run (or reuse) a local cluster under the data folder.
    Managed,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // PgConnectOptions' Debug would print the password.
        match self {
            DatabaseConfig::External(options) => write!(
                f,
                "External({}:{}/{})",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("")
            ),
            DatabaseConfig::Managed => f.write_str("Managed"),
        }
    }
}

/// How long a pooled connection may sit unused before it is pinged when taken again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool and checks that the database answers. The error is already written for a person
/// (see [`describe_error`]); it never contains the password.
pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, String> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // A connection in steady use has just proved itself; pinging it before each use would
        // add a round trip to every transaction. One that sat idle (through a database restart,
        // say) is still checked, and replaced if dead.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(|error| describe_error(&error))?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> Result<(), String> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|error| format!("running the migrations failed: {error}"))
}

/// True when the error means "the database cannot be reached right now" rather than "this query
/// is wrong": such errors become a 503, the others a 500.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // Class 08 (connection exception), 57P01..57P03 (admin/crash shutdown, cannot
            // connect now), 53300 (too many connections), 28P01/28000 (authentication).
            db.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(
                        &*code,
                        "57P01" | "57P02" | "57P03" | "53300" | "28P01" | "28000"
                    )
            })
        }
        _ => false,
    }
}

/// A one-line description of a database error for logs and start-up messages, with a hint for
/// the common mistakes. Connection options are never included, so no password can leak.
pub fn describe_error(error: &sqlx::Error) -> String {
    let hint = match error {
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("28P01" | "28000")) => {
            " (hint: password authentication failed; check the user and password in DATABASE_URL)"
        }
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
            " (hint: the database in DATABASE_URL does not exist; create it first)"
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
            " (hint: is PostgreSQL running and reachable at the host and port in DATABASE_URL?)"
        }
        _ => "",
    };
    format!("database unavailable: {error}{hint}")
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            tracing::error!(error = %describe_error(&error), "database unavailable");
            AppError::DatabaseUnavailable
        } else {
            AppError::internal(format_args!("database error: {error}"))
        }
    }
}
