//! The types every layer shares, from the database rows to the pages. They import nothing from
//! the rest of the crate, and they also compile for the browser (they travel through server
//! functions), so anything server-only stays behind the `ssr` feature.

pub mod current_user;
pub mod overview;
pub mod roles;
pub mod user;
pub mod user_list;

pub use current_user::CurrentUser;
pub use user::{ClerkUserId, Role, User, UserId, UserProfile};
