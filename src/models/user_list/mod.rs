//! The admin user list's types: its query (from the URL) and its pages.

mod page;
mod query;

pub use page::*;
pub use query::*;
