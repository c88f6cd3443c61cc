//! Keeping our users in step with Clerk, both ways.
//!
//! - [`apply`]: the one way a Clerk user comes in (webhooks, the sync route, reconciling):
//!   versioned, tombstones win, the role seeded only on first sight;
//! - [`from_clerk`]: fetch a person from the Backend API and apply them (the sync on sign-in);
//! - [`outbox`]: the durable queue that writes `{dbId, role}` into Clerk's `public_metadata`;
//! - [`reconcile`]: walk all of Clerk's users through [`apply`], and find the ones Clerk lost.

pub mod apply;
pub mod from_clerk;
pub mod outbox;
pub mod reconcile;

pub use apply::{apply_clerk_user, apply_clerk_user_in, AppliedUser, ApplyError, MetadataMirror};
