//! Administration: the user list, the overview, role management and its audit trail, and a
//! person's data export. The types that travel to the pages are in `models`.
//!
//! - [`list`]: search, filters, sort and keyset pagination over `users`;
//! - [`stats`]: the numbers of the admin overview;
//! - [`roles`]: `set_user_role`, the one way a role changes (pages and CLI alike), and the
//!   audit trail (`role_changes`, which this module owns);
//! - [`export`]: "Download my data".

mod error;
pub mod export;
pub mod list;
pub mod roles;
pub mod stats;

pub use error::AdminError;
