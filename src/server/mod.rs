//! The HTTP server: routes and their layers, the handlers that are not pages, start-up,
//! background work and shutdown. [`Application`] is the one way the app is put together, for
//! `main` and for the tests alike.

pub mod auth;
pub mod logs;
pub mod maintenance;
pub mod metrics;
pub mod page_cache;
pub mod routes;
pub mod security;
pub mod session;

pub use logs::init_tracing;

use crate::app::state::AppState;
use crate::clerk::context::{ClerkContext, LocalProvider, LocalProviderSettings};
use crate::clerk::settings::ClerkSettings;
use crate::config::Config;
use crate::db::Database;
use crate::sync::outbox::{Outbox, OutboxConfig, OutboxWorker};
use maintenance::MaintenanceConfig;
use std::future::{Future, IntoFuture};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What may differ between a deployment and a test of the same app.
pub struct Options {
    /// Serve on this listener instead of binding `LEPTOS_SITE_ADDR`.
    pub listener: Option<TcpListener>,
    /// Use this (migrated) pool instead of opening the configured database.
    pub pool: Option<sqlx::PgPool>,
    /// The metadata outbox worker's tuning; `None` runs no worker.
    pub outbox: Option<OutboxConfig>,
    /// The periodic prunes; `None` runs none.
    pub maintenance: Option<MaintenanceConfig>,
    /// The JWKS key store's minimum interval between fetches for unknown kids (default 5 s).
    pub key_refetch_interval: Option<Duration>,
    /// How long the users change feed waits before listening again after it dropped (default
    /// 1 s); the users cache is bypassed meanwhile.
    pub change_feed_retry: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listener: None,
            pool: None,
            outbox: Some(OutboxConfig::default()),
            maintenance: Some(MaintenanceConfig::default()),
            key_refetch_interval: None,
            change_feed_retry: None,
        }
    }
}

/// The app, built and bound, not serving yet.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    router: axum::Router,
    database: Database,
    user_changes: JoinHandle<()>,
    maintenance: Option<JoinHandle<()>>,
    worker: Option<OutboxWorker>,
    metrics: Option<MetricsListener>,
}

/// The listener of `METRICS_ADDR` and what it serves.
struct MetricsListener {
    listener: TcpListener,
    port: u16,
    router: axum::Router,
}

impl Application {
    /// Database (started and migrated if needed), Clerk (the local provider without keys),
    /// state, background work and listener, as `main` runs them.
    pub async fn build(config: Config) -> Result<Application, String> {
        Self::build_with(config, Options::default()).await
    }

    pub async fn build_with(config: Config, mut options: Options) -> Result<Application, String> {
        let database = match options.pool.take() {
            Some(pool) => Database::from_pool(pool),
            None => {
                crate::db::open(
                    &config.database,
                    &config.data_dir,
                    config.database_max_connections,
                )
                .await?
            }
        };
        match Self::assemble(config, database.pool.clone(), options).await {
            Ok(parts) => Ok(parts.with_database(database)),
            Err(error) => {
                database.close().await;
                Err(error)
            }
        }
    }

    async fn assemble(
        config: Config,
        pool: sqlx::PgPool,
        options: Options,
    ) -> Result<Assembled, String> {
        let listener = match options.listener {
            Some(listener) => listener,
            None => TcpListener::bind(config.site_addr).await.map_err(|error| {
                format!(
                    "cannot listen on {} (LEPTOS_SITE_ADDR): {error}",
                    config.site_addr
                )
            })?,
        };
        let port = listener
            .local_addr()
            .map_err(|error| format!("the listener has no address: {error}"))?
            .port();
        let metrics_listener = match config.metrics.addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|error| format!("cannot listen on {addr} (METRICS_ADDR): {error}"))?;
                Some(listener)
            }
            None => None,
        };
        let handle = if config.metrics.is_enabled() {
            Some(metrics::recorder()?)
        } else {
            None
        };
        let (clerk, local) = clerk_context(&config).await?;
        if clerk.is_local_provider {
            tracing::warn!(
                sign_in = %clerk.sign_in_url,
                "no Clerk keys are set: development mode with the built-in local identity provider"
            );
        }
        let session = clerk.session_verifier(options.key_refetch_interval)?;
        let state = AppState::new(config, pool, clerk, session);
        let user_changes = state.users.follow_database_changes_with(
            options
                .change_feed_retry
                .unwrap_or(crate::users::changes::CHANGE_FEED_RETRY),
        );
        // The outbox's state is all in the database, so stopping its worker between two rounds
        // loses nothing, and another instance's worker may run at the same time.
        let worker = options.outbox.map(|config| {
            Outbox::new(state.users.clone(), state.clerk.api.0.clone(), config).spawn()
        });
        let maintenance = options
            .maintenance
            .map(|config| maintenance::spawn(state.pool.clone(), config));
        let metrics = match (metrics_listener, &handle) {
            (Some(listener), Some(handle)) => Some(MetricsListener {
                port: listener
                    .local_addr()
                    .map_err(|error| format!("the metrics listener has no address: {error}"))?
                    .port(),
                listener,
                router: routes::metrics::listener_router(state.clone(), handle.clone()),
            }),
            _ => None,
        };
        let router = routes::router(state.clone(), local.map(|local| local.emulator), handle);
        Ok(Assembled {
            listener,
            port,
            state,
            router,
            user_changes,
            maintenance,
            worker,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The port of the metrics listener, when `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|metrics| metrics.port)
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> Result<(), String> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes: in-flight requests finish, then the metrics listener
    /// and the worker stop (the worker between two jobs), and the local PostgreSQL (if this
    /// process started it) stops last.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        tracing::info!("listening on {}", self.state.config.app_origin);
        // Dropping `stop_metrics` tells the metrics listener to stop: it keeps answering while
        // the main listener drains, so a scrape can watch the shutdown.
        let (stop_metrics, mut metrics_stopped) = tokio::sync::watch::channel(());
        let metrics = self.metrics.map(|metrics| {
            tracing::info!(port = metrics.port, "serving /metrics on its own listener");
            let stopped = async move { while metrics_stopped.changed().await.is_ok() {} };
            tokio::spawn(
                axum::serve(metrics.listener, metrics.router)
                    .with_graceful_shutdown(stopped)
                    .into_future(),
            )
        });
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|error| format!("server error: {error}"));
        drop(stop_metrics);
        if let Some(metrics) = metrics {
            match metrics.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "the metrics listener failed"),
                Err(error) => tracing::error!(%error, "the metrics listener ended badly"),
            }
        }
        if let Some(worker) = self.worker {
            worker.shutdown().await;
        }
        if let Some(maintenance) = self.maintenance {
            maintenance.abort();
        }
        self.user_changes.abort();
        self.database.close().await;
        served
    }
}

/// An application without its database handle yet.
struct Assembled {
    listener: TcpListener,
    port: u16,
    state: AppState,
    router: axum::Router,
    user_changes: JoinHandle<()>,
    maintenance: Option<JoinHandle<()>>,
    worker: Option<OutboxWorker>,
    metrics: Option<MetricsListener>,
}

impl Assembled {
    fn with_database(self, database: Database) -> Application {
        Application {
            listener: self.listener,
            port: self.port,
            state: self.state,
            router: self.router,
            database,
            user_changes: self.user_changes,
            maintenance: self.maintenance,
            worker: self.worker,
            metrics: self.metrics,
        }
    }
}

/// The Clerk instance of the configuration, starting the local provider when there are no keys.
async fn clerk_context(config: &Config) -> Result<(ClerkContext, Option<LocalProvider>), String> {
    match &config.clerk {
        ClerkSettings::Remote(keys) => {
            Ok((ClerkContext::from_keys(keys, &config.app_origin)?, None))
        }
        ClerkSettings::Local => {
            let local = LocalProvider::start(&LocalProviderSettings {
                app_origin: config.app_origin.clone(),
                data_dir: config.data_dir.clone(),
                token_lifetime: config.local_clerk_token_lifetime,
                development: config.local_clerk_development,
            })
            .await?;
            Ok((local.context.clone(), Some(local)))
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
