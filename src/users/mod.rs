//! Users: the people Clerk knows, as we store them.
//!
//! [`model`] holds the types every layer shares (they also compile for the browser); [`store`]
//! holds the SQL and the cache, server-only.

pub mod model;
#[cfg(feature = "ssr")]
pub mod store;

pub use model::{ClerkUserId, Role, User, UserId, UserProfile};
#[cfg(feature = "ssr")]
pub use store::{UserError, UserStore, VersionedDelete, VersionedUpsert};
