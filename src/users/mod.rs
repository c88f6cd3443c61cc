//! Users: the people Clerk knows, as we store them (the `users` table's one owner).
//!
//! - [`store`]: `UserStore`, every statement on `users` and the cache in front of it;
//! - [`versioned`]: the order-safe writes that apply one version of a Clerk user;
//! - [`changes`]: follows the database's change feed, so other processes' writes reach the cache;
//! - [`catch_up`]: a request waits until the feed has brought in every change before it;
//! - [`current`]: who a request belongs to, resolved against the database.

pub mod catch_up;
pub mod changes;
pub mod current;
mod error;
pub mod store;
mod unversioned;
pub mod versioned;

pub use changes::USERS_CHANGED_CHANNEL;
pub use error::UserError;
pub use store::{LockedUser, UserStore};
pub use versioned::{VersionedDelete, VersionedUpsert};
