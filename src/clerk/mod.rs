//! Clerk: keys, the Backend API client, session verification and the current user.

pub mod api;
pub mod keys;
