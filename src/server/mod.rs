//! The HTTP server: routes, tower layers, start-up and shutdown.

pub mod assets;
pub mod metrics;
pub mod security;

use crate::app::{shell, App};
use crate::config::{Config, DatabaseConfig};
use crate::db::cluster::LocalCluster;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Every route of the app, with its layers. `local_provider` is the development identity
/// provider, mounted at `/__clerk` when the app runs without Clerk keys.
pub fn router(state: AppState, local_provider: Option<clerk_emulator::Emulator>) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let router = Router::new()
        .route(crate::app::STYLESHEET_PATH, get(assets::stylesheet))
        .route("/health", get(health))
        .route("/metrics", get(metrics::metrics))
        // Public (Svix signs it; no Clerk session), with its own body limit: 413 above it.
        .route(
            "/api/webhooks/clerk",
            post(crate::webhooks::clerk_webhook)
                .layer(DefaultBodyLimit::max(crate::webhooks::MAX_BODY_BYTES)),
        )
        .route(
            "/profile/data.json",
            get(crate::admin::export::download_my_data),
        )
        .route("/sign-in", get(crate::clerk::sign_in::sign_in))
        .route(
            crate::clerk::redirects::SYNC_PATH,
            get(crate::sync::route::sync_users),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(assets::fallback)
        .layer(axum::middleware::from_fn(security::server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::clerk::guard::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::clerk::auth::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::same_origin_writes,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(CatchPanicLayer::custom(security::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // Mounted after the layers: the provider's pages are its own business (it stands in for
    // clerk.com, which sets its own headers).
    let router = match local_provider {
        Some(emulator) => router.nest_service(crate::clerk::LOCAL_PROVIDER_PATH, emulator.router()),
        None => router,
    };
    router.with_state(state)
}

/// A designed error page (with its status) for a request that never reaches a page.
pub async fn render_error_page(
    state: &AppState,
    parts: axum::http::request::Parts,
    error: crate::error::AppError,
) -> axum::response::Response {
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        {
            let state = state.clone();
            move || {
                leptos::prelude::provide_context(state.clone());
                leptos::prelude::provide_context(crate::app::ForcedError(error.clone()));
            }
        },
        move || shell(options.clone()),
    );
    let mut request = axum::http::Request::from_parts(parts, axum::body::Body::empty());
    *request.method_mut() = axum::http::Method::GET;
    render(request).await
}

/// Liveness and readiness in one: 200 when the database answers, 503 when it does not.
async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(error = %crate::db::describe_error(&error), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,warden=info,sqlx=warn,tower_http=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// The database to use: `DATABASE_URL`'s, or the local cluster (started when needed). The
/// cluster is returned when this call started it, so that the caller stops it at the end.
async fn open_database(
    config: &Config,
) -> Result<(sqlx::postgres::PgConnectOptions, Option<LocalCluster>), String> {
    match &config.database {
        DatabaseConfig::External(options) => Ok(((**options).clone(), None)),
        DatabaseConfig::Managed => {
            let root = config.data_dir.join("postgres");
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
                stop_cluster(started.then_some(cluster)).await;
                return Err(error);
            }
            let options = cluster.connect_options("warden");
            Ok((options, started.then_some(cluster)))
        }
    }
}

async fn stop_cluster(cluster: Option<LocalCluster>) {
    if let Some(cluster) = cluster {
        tracing::info!("stopping the local PostgreSQL");
        if let Err(error) = cluster.stop().await {
            tracing::error!(%error, "stopping the local PostgreSQL failed");
        }
    }
}

/// Runs the app until Ctrl-C or SIGTERM: database (started if needed), migrations, server.
pub async fn run(config: Config) -> Result<(), String> {
    let (options, cluster) = open_database(&config).await?;
    let result = serve_until_shutdown(config, options).await;
    stop_cluster(cluster).await;
    result
}

/// Runs `work` with a migrated pool on the configured database (starting the local cluster when
/// needed, and stopping it again afterwards): for one-shot commands such as `users set-role`.
pub async fn with_migrated_pool<T, F, Fut>(config: Config, work: F) -> Result<T, String>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let (options, cluster) = open_database(&config).await?;
    let result = async {
        let pool = crate::db::connect(options, 2).await?;
        crate::db::migrate(&pool).await?;
        let result = work(pool.clone()).await;
        pool.close().await;
        result
    }
    .await;
    stop_cluster(cluster).await;
    result
}

/// Applies the migrations and exits.
pub async fn migrate_only(config: Config) -> Result<(), String> {
    let (options, cluster) = open_database(&config).await?;
    let result = async {
        let pool = crate::db::connect(options, 1).await?;
        crate::db::migrate(&pool).await?;
        pool.close().await;
        tracing::info!("migrations applied");
        Ok(())
    }
    .await;
    stop_cluster(cluster).await;
    result
}

async fn serve_until_shutdown(
    config: Config,
    options: sqlx::postgres::PgConnectOptions,
) -> Result<(), String> {
    let pool = crate::db::connect(options, config.database_max_connections).await?;
    crate::db::migrate(&pool).await?;
    let addr = config.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {error}"))?;
    let (clerk, local) = crate::clerk::context_for(&config).await?;
    if clerk.is_local_provider {
        tracing::warn!(
            sign_in = %clerk.sign_in_url,
            "no Clerk keys are set: development mode with the built-in local identity provider"
        );
    }
    let state = AppState::new(config, pool, clerk)?;
    let user_changes = state.users.follow_database_changes();
    // The metadata outbox: its state is all in the database, so stopping it between two
    // rounds loses nothing, and another instance's worker may run at the same time.
    let worker = crate::sync::outbox::Outbox::from_state(&state, Default::default()).spawn();
    tracing::info!("listening on http://{addr}");
    let app = router(state, local.map(|local| local.emulator));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|error| format!("server error: {error}"));
    worker.shutdown().await;
    user_changes.abort();
    served
}

/// Creates `name` on the cluster when it does not exist yet.
pub async fn ensure_database(cluster: &LocalCluster, name: &str) -> Result<(), String> {
    use sqlx::ConnectOptions;
    let mut admin = cluster
        .connect_options("postgres")
        .connect()
        .await
        .map_err(|error| crate::db::describe_error(&error))?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .map_err(|error| crate::db::describe_error(&error))?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut admin)
            .await
            .map_err(|error| crate::db::describe_error(&error))?;
    }
    Ok(())
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
