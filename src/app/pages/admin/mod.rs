//! The admin pages: overview, user list and user detail. Each server function authorises
//! itself (`require_admin`, by the database's role), so calling one directly is no way around
//! a page.

pub mod overview;
pub mod search_form;
pub mod user;
pub mod users;
