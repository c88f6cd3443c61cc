//! The admin area: the CLI, the pages and server functions, the user list, role management.

mod cli;
mod http;
mod list;
mod roles;
