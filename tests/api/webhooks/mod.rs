//! Clerk's webhooks, `POST /api/webhooks/clerk`, over real HTTP and PostgreSQL with events
//! signed by the Svix scheme; and the metadata outbox that writes back to Clerk.

mod delivery;
mod effects;
mod model;
mod outages;
mod outbox;
mod verification;
