//! warden: Clerk users in your own PostgreSQL, kept in step, with profile and admin pages.
//!
//! The module map. Code that only makes sense on the server sits behind the `ssr` feature so
//! that a `hydrate` (wasm) build of the same crate can follow.

pub mod admin;
pub mod app;
pub mod error;
pub mod users;

#[cfg(feature = "ssr")]
pub mod cache;
pub mod clerk;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod sync;
#[cfg(feature = "ssr")]
pub mod webhooks;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
