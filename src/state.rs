//! The one state every handler and server function shares.

use crate::cache::CacheTags;
use crate::clerk::jwks::KeyStore;
use crate::clerk::session::SessionVerifier;
use crate::clerk::ClerkContext;
use crate::config::Config;
use crate::users::UserStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: PgPool,
    /// The cache's invalidation API (tags); typed caches live with the stores that fill them.
    pub cache: Arc<CacheTags>,
    pub users: UserStore,
    pub clerk: Arc<ClerkContext>,
    pub session: Arc<SessionVerifier>,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    pub fn new(config: Config, pool: PgPool, clerk: ClerkContext) -> Result<AppState, String> {
        let keys = match &clerk.jwt_key {
            Some(pem) => KeyStore::from_pem(pem)?,
            None => KeyStore::from_jwks(clerk.api.0.clone()),
        };
        let session = SessionVerifier::new(
            Arc::new(keys),
            clerk.frontend_api_url.clone(),
            clerk.authorized_parties.clone(),
        );
        Ok(Self::with_session(config, pool, clerk, session))
    }

    /// With a session verifier of the caller's (tests tune its key store).
    pub fn with_session(
        config: Config,
        pool: PgPool,
        clerk: ClerkContext,
        session: SessionVerifier,
    ) -> AppState {
        let cache = CacheTags::new(config.cache_ttl);
        let users = UserStore::new(
            pool.clone(),
            cache.clone(),
            config.cache_max_entries,
            config.cache_ttl,
        );
        let leptos_options = LeptosOptions::builder()
            .output_name("warden")
            .site_root(config.assets_dir.to_string_lossy().into_owned())
            .site_addr(config.site_addr)
            .build();
        AppState {
            config: Arc::new(config),
            pool,
            cache,
            users,
            clerk: Arc::new(clerk),
            session: Arc::new(session),
            leptos_options,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state inside a server function or a component rendered on the server.
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| crate::error::AppError::internal("AppState missing from the Leptos context"))
}
