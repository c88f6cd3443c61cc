//! Keeping our users in step with Clerk: the sync route (on sign-in) and the outbox that
//! mirrors our data back into Clerk's metadata.

pub mod route;
