//! `POST /api/webhooks/clerk`: Clerk's user events, delivered by Svix.
//!
//! Svix delivers **at least once, in no guaranteed order**, and retries for about a day until
//! it gets a 2xx. The database must end equal to Clerk's truth whatever the delivery does:
//!
//! * **Authentic or nothing.** The Svix signature is checked over the raw bytes before
//!   anything is parsed. Missing or garbled `svix-*` headers, a bad signature, a timestamp
//!   outside ±5 min, a body that is not JSON and a `user.*` event whose `data` does not parse
//!   get a 400 with a short reason and a log line, and touch nothing. Bodies over
//!   [`MAX_BODY_BYTES`] get a 413.
//! * **Idempotent.** The `svix-id` goes into `webhook_events` in the same transaction as the
//!   event's effect; a message seen before is acknowledged (200) and changes nothing. Ids are
//!   kept for [`PROCESSED_EVENT_RETENTION`] (Svix's retries span about a day; a manual replay
//!   from the dashboard reuses the id) and pruned by the server's maintenance loop.
//! * **Order-safe.** Each user row records the Clerk version it holds (`clerk_updated_at`, the
//!   user's `updated_at` in ms); `user.created`/`user.updated` apply only when newer. A
//!   `user.deleted` always applies — a deleted Clerk user can have no later version — and
//!   leaves a tombstone (redacted, `deleted_at` set, Clerk id kept) even for a user we never
//!   saw, so that its late `user.created` creates nothing. Tombstones never change.
//! * **Atomic.** Dedupe record, user change and outbox job commit in one transaction; the 2xx
//!   is sent only after the commit. A database that cannot be reached gives a 503 (Svix
//!   retries); nothing is ever half-applied.
//! * **Role ownership.** `public_metadata.role` seeds the role of a user we create; afterwards
//!   the database owns the role and no webhook changes it (see README, "Role ownership").
//! * **Metadata echo.** `{dbId, role}` is queued for Clerk (outbox) only when the event's
//!   `public_metadata` differs from the database. The write makes Clerk send `user.updated`,
//!   which then matches: the exchange settles after one round trip.
//! * **A user without an email address** is acknowledged (200) and not stored, with a log line:
//!   the seed's rules need an email, and no retry of the same message could ever supply one.
//!   When Clerk later gets an address, its `user.updated` creates the user. Likewise a profile
//!   our rules reject (e.g. a 500-character name).
//! * Every processed event invalidates the user's cache tags after the commit, as a direct
//!   mutation does. Other event types get 200 and a log line, so that Svix stops retrying.
//!
//! The HTTP route is the server's (`server::routes::webhooks`); this module is what it does:
//! [`verify`] the signature, parse the [`event`], [`apply`] it, and [`dedupe`], the owner of
//! `webhook_events`.

pub mod apply;
pub mod dedupe;
pub mod event;
pub mod verify;

pub use apply::{apply_event_in, process, Applied, Outcome};
pub use dedupe::prune_processed_events;
pub use event::{event_time_ms, parse_event, EventError, UserEvent};

use std::time::Duration;

/// Largest accepted body. Clerk's user events are a few KiB; a user with many addresses and
/// large metadata stays far below this.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long processed `svix-id`s are remembered: Svix retries for about a day; a week also
/// covers a replay from the dashboard after a weekend.
pub const PROCESSED_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
