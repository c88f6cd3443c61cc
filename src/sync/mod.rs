//! Keeping Clerk in step with our database.
//!
//! [`outbox`]: the durable queue that writes `{dbId, role}` into Clerk's `public_metadata`.

pub mod outbox;
