//! What the tests share, by concern.

pub mod app;
pub mod binary;
pub mod clerk;
pub mod database;
pub mod metrics;
pub mod outbox;
pub mod process;
pub mod webhooks;
