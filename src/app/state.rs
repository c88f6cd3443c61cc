//! The one state every handler and server function shares. It lives with the pages because
//! server functions read it from the Leptos context; the server builds it and hands it over.

use crate::app::page_cache::PageCache;
use crate::cache::CacheTags;
use crate::clerk::context::ClerkContext;
use crate::clerk::session::SessionVerifier;
use crate::config::Config;
use crate::error::AppError;
use crate::users::UserStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use std::sync::Arc;

/// Cloned for every request by each layer and handler that holds it, so a clone is one
/// reference count, not one per service inside.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Arc<Config>,
    pub pool: PgPool,
    pub users: UserStore,
    pub clerk: Arc<ClerkContext>,
    pub session: Arc<SessionVerifier>,
    pub leptos_options: LeptosOptions,
    /// Rendered pages of signed-in people, under their users' tags.
    pub pages: PageCache,
}

impl AppState {
    pub fn new(
        config: Config,
        pool: PgPool,
        clerk: ClerkContext,
        session: SessionVerifier,
    ) -> AppState {
        let cache = CacheTags::new(config.cache_ttl);
        let pages = PageCache::new(cache.clone(), config.cache_max_entries, config.cache_ttl);
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
        AppState(Arc::new(Shared {
            config: Arc::new(config),
            pool,
            users,
            clerk: Arc::new(clerk),
            session: Arc::new(session),
            leptos_options,
            pages,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state inside a server function or a component rendered on the server.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("AppState missing from the Leptos context"))
}
