//! The one state every handler and server function shares. It lives with the pages because
//! server functions read it from the Leptos context; the server builds it and hands it over.

use crate::app::bundle::{Bundle, OUTPUT_NAME};
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
    /// The browser bundle, when `scripts/build-wasm` made one (the shell then adds its scripts).
    pub bundle: Option<Bundle>,
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
        let bundle = Bundle::find(&config.pkg_dir);
        match &bundle {
            Some(bundle) => {
                tracing::info!(js = %bundle.js, wasm = %bundle.wasm, "pages hydrate with the browser bundle")
            }
            None => {
                tracing::info!(dir = %config.pkg_dir.display(), "no browser bundle: pages are server-rendered only")
            }
        }
        // Hashed names are on exactly when there is a bundle: the shell adds the scripts then,
        // and Leptos reads the names from the bundle's manifest.
        let leptos_options = LeptosOptions::builder()
            .output_name(OUTPUT_NAME)
            .site_root(config.assets_dir.to_string_lossy().into_owned())
            .site_addr(config.site_addr)
            .hash_files(bundle.is_some())
            .hash_file(Arc::from(
                bundle
                    .as_ref()
                    .map(|bundle| bundle.manifest.to_string_lossy().into_owned())
                    .unwrap_or_else(|| crate::app::bundle::MANIFEST.to_owned()),
            ))
            .build();
        AppState(Arc::new(Shared {
            config: Arc::new(config),
            pool,
            users,
            clerk: Arc::new(clerk),
            session: Arc::new(session),
            leptos_options,
            bundle,
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
