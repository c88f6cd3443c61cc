//! warden: Clerk users in your own PostgreSQL, kept in step, with profile and admin pages.
//!
//! The module map, top to bottom (see ARCHITECTURE.md): a module may import only from the
//! layers below its own, never from one above, and never from a sibling of its layer unless
//! ARCHITECTURE.md lists it. Code that only makes sense on the server sits behind the `ssr`
//! feature so that a `hydrate` (wasm) build of the same crate can follow.

// Entry points: the HTTP server and the command line.
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod server;

// The Leptos app: pages, components, server functions, the shared state.
pub mod app;

// Services.
#[cfg(feature = "ssr")]
pub mod admin;
#[cfg(feature = "ssr")]
pub mod sync;
#[cfg(feature = "ssr")]
pub mod users;
#[cfg(feature = "ssr")]
pub mod webhooks;

// Infrastructure.
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod clerk;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;

// Models and the error policy.
pub mod error;
pub mod models;

/// The browser's entry point: the script of `<HydrationScripts/>` calls it once the wasm loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::browser::keep_links_as_page_loads();
    leptos::mount::hydrate_body(app::App);
    app::browser::mark_hydrated();
}
