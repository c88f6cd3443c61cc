//! Keeping our users in step with Clerk: the sync route (on sign-in) and the outbox that
//! mirrors our data back into Clerk's metadata.
//!
//! [`outbox`]: the durable queue that writes `{dbId, role}` into Clerk's `public_metadata`.

pub mod outbox;
pub mod route;
