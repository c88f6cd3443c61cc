//! Clerk: keys, the Backend API client, session verification and the current user.
//!
//! The app speaks Clerk's real protocol only. In development without Clerk keys it runs the
//! local identity provider (`clerk-emulator`) inside the process, mounted at `/__clerk` the way
//! Clerk's proxy mode mounts the Frontend API, and reaches it over HTTP like clerk.com: the code
//! paths are the same, only the URLs differ.

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
mod context;
pub mod current_user;
#[cfg(feature = "ssr")]
pub mod jwks;
#[cfg(feature = "ssr")]
pub mod keys;
pub mod redirects;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub use context::*;

#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod sign_in;

pub use current_user::CurrentUser;
#[cfg(feature = "ssr")]
pub use current_user::{current_user, maybe_current_user, require_admin, MaybeCurrentUser};
