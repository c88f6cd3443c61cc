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
//!   from the dashboard reuses the id) and pruned by the outbox worker's loop.
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

pub mod verify;

use crate::clerk::api::ClerkUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::sync::outbox;
use crate::users::{ClerkUserId, Role, UserError, UserStore, VersionedDelete, VersionedUpsert};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use verify::Verifier;

/// Largest accepted body. Clerk's user events are a few KiB; a user with many addresses and
/// large metadata stays far below this.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long processed `svix-id`s are remembered: Svix retries for about a day; a week also
/// covers a replay from the dashboard after a weekend.
pub const PROCESSED_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The envelope of a Clerk event, without its data (read first, to know the data's type).
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub event_type: String,
    /// Clerk's event time: milliseconds in the docs and real deliveries, seconds in the
    /// OpenAPI examples (see [`event_time_ms`]).
    #[serde(default)]
    pub timestamp: Option<i64>,
}

/// The envelope with its data typed: parsing straight into `T` (no intermediate JSON tree)
/// keeps the route cheap.
#[derive(Deserialize)]
struct WithData<T> {
    data: T,
}

/// A `user.*` event with its data parsed.
#[derive(Debug, Clone)]
pub enum UserEvent {
    /// `user.created` or `user.updated`: a full Clerk user.
    Upsert(Box<ClerkUser>),
    /// `user.deleted`; `at_ms` is the event's time in ms.
    Deleted { id: ClerkUserId, at_ms: i64 },
}

#[derive(Deserialize)]
struct DeletedData {
    id: String,
}

/// Why an authentic body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("body is not a JSON event")]
    NotJson,
    #[error("event data does not parse")]
    BadData,
}

/// Parses a verified body. `Ok(None)`: a type we do not handle. `svix_timestamp` (s) stands in
/// for a missing envelope timestamp.
pub fn parse_event(
    body: &[u8],
    svix_timestamp: i64,
) -> Result<(String, Option<UserEvent>), EventError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| EventError::NotJson)?;
    let event = match envelope.event_type.as_str() {
        "user.created" | "user.updated" => {
            let WithData::<ClerkUser> { data: user } =
                serde_json::from_slice(body).map_err(|_| EventError::BadData)?;
            // `updated_at` orders the versions of a user: an event without it (the field
            // defaults to 0) cannot be placed, so it counts as unparseable.
            if user.id.trim().is_empty() || user.updated_at <= 0 {
                return Err(EventError::BadData);
            }
            Some(UserEvent::Upsert(Box::new(user)))
        }
        "user.deleted" => {
            let WithData::<DeletedData> { data } =
                serde_json::from_slice(body).map_err(|_| EventError::BadData)?;
            if data.id.trim().is_empty() {
                return Err(EventError::BadData);
            }
            let at_ms = event_time_ms(envelope.timestamp.unwrap_or(svix_timestamp));
            Some(UserEvent::Deleted {
                id: ClerkUserId::new(data.id),
                at_ms,
            })
        }
        _ => None,
    };
    Ok((envelope.event_type, event))
}

/// Clerk's envelope `timestamp` in ms. The pack's sources disagree on its unit (README
/// "Disagreements" 3): values below 10^11 cannot be milliseconds of any date after 1973, so
/// they are read as seconds.
pub fn event_time_ms(timestamp: i64) -> i64 {
    if timestamp.abs() < 100_000_000_000 {
        timestamp.saturating_mul(1000)
    } else {
        timestamp
    }
}

/// What processing an event did (also the 200's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The `svix-id` was processed before: nothing changed.
    Duplicate,
    Created,
    Updated,
    Deleted,
    /// Tombstone for a user deleted before we saw it.
    Tombstoned,
    /// Older than what the database holds: nothing changed.
    Stale,
    /// The user is deleted here: nothing changed.
    AlreadyDeleted,
    /// Acknowledged without a change (no email, profile rejected).
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Duplicate => "duplicate",
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Deleted => "deleted",
            Outcome::Tombstoned => "tombstoned",
            Outcome::Stale => "stale",
            Outcome::AlreadyDeleted => "already deleted",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The result of [`apply_event_in`]: the outcome, the user whose cache must be invalidated
/// after the commit, and whether a metadata job was queued.
#[derive(Debug, Clone)]
pub struct Applied {
    pub outcome: Outcome,
    pub touched: Option<(crate::users::UserId, ClerkUserId)>,
    pub enqueued: bool,
}

/// The whole effect of one event, inside the caller's transaction: dedupe record, user change,
/// outbox job. The caller commits, then invalidates `touched`.
pub async fn apply_event_in(
    conn: &mut PgConnection,
    users: &UserStore,
    svix_id: &str,
    event_type: &str,
    event: &UserEvent,
) -> Result<Applied, sqlx::Error> {
    let first_time = sqlx::query(
        "INSERT INTO webhook_events (svix_id, event_type) VALUES ($1, $2)
         ON CONFLICT (svix_id) DO NOTHING",
    )
    .bind(svix_id)
    .bind(event_type)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let mut applied = Applied {
        outcome: Outcome::Duplicate,
        touched: None,
        enqueued: false,
    };
    if !first_time {
        return Ok(applied);
    }
    match event {
        UserEvent::Upsert(clerk_user) => {
            let profile = match clerk_user.to_profile() {
                Ok(profile) => profile,
                Err(error) => {
                    tracing::warn!(svix_id, clerk_user = %clerk_user.id, %error,
                        "acknowledged without storing: the user has no email address");
                    applied.outcome = Outcome::Skipped;
                    return Ok(applied);
                }
            };
            // Only a user we create takes Clerk's role; see "Role ownership" in README.
            let role_if_new = clerk_user
                .metadata_str("role")
                .and_then(|role| role.parse::<Role>().ok());
            let result = users
                .upsert_clerk_version_in(conn, &profile, role_if_new, clerk_user.updated_at)
                .await;
            let (outcome, user) = match result {
                Ok(VersionedUpsert::Created(user)) => (Outcome::Created, user),
                Ok(VersionedUpsert::Updated(user)) => (Outcome::Updated, user),
                Ok(VersionedUpsert::Stale(user)) => (Outcome::Stale, user),
                Ok(VersionedUpsert::Deleted(user)) => (Outcome::AlreadyDeleted, user),
                Err(UserError::Database(error)) => return Err(error),
                Err(error) => {
                    // Validation: retries of this message can never pass it.
                    tracing::warn!(svix_id, clerk_user = %clerk_user.id, %error,
                        "acknowledged without storing: the profile was rejected");
                    applied.outcome = Outcome::Skipped;
                    return Ok(applied);
                }
            };
            // Only an applied version speaks for Clerk's current metadata: a stale one may
            // predate the write that already fixed it.
            if matches!(outcome, Outcome::Created | Outcome::Updated)
                && !outbox::metadata_matches(&clerk_user.public_metadata, user.id, user.role)
            {
                outbox::enqueue_metadata(conn, user.id).await?;
                applied.enqueued = true;
            }
            applied.outcome = outcome;
            applied.touched = Some((user.id, user.clerk_user_id));
        }
        UserEvent::Deleted { id, at_ms } => {
            match users.delete_clerk_version_in(conn, id, *at_ms).await {
                Ok(VersionedDelete::Deleted(user)) => {
                    // Nothing left to tell Clerk about this user.
                    sqlx::query(
                        "UPDATE metadata_outbox SET status = 'dropped', finished_at = now(),
                                last_error = 'the user was deleted'
                         WHERE user_id = $1 AND status = 'pending'",
                    )
                    .bind(user.id)
                    .execute(&mut *conn)
                    .await?;
                    applied.outcome = Outcome::Deleted;
                    applied.touched = Some((user.id, user.clerk_user_id));
                }
                Ok(VersionedDelete::Tombstoned(user)) => {
                    applied.outcome = Outcome::Tombstoned;
                    applied.touched = Some((user.id, user.clerk_user_id));
                }
                Ok(VersionedDelete::AlreadyDeleted) => applied.outcome = Outcome::AlreadyDeleted,
                Err(UserError::Database(error)) => return Err(error),
                Err(error) => {
                    tracing::warn!(svix_id, %error, "acknowledged without a change: bad deletion");
                    applied.outcome = Outcome::Skipped;
                }
            }
        }
    }
    Ok(applied)
}

/// The route.
pub async fn clerk_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verifier = match Verifier::new(state.clerk.webhook_signing_secret.expose()) {
        Ok(verifier) => verifier,
        Err(error) => return AppError::internal(error).into_response(),
    };
    let verified = match verifier.verify(&headers, &body, verify::now_secs()) {
        Ok(verified) => verified,
        Err(rejection) => return reject(rejection.to_string(), None),
    };
    let svix_id = verified.svix_id.as_str();
    let (event_type, event) = match parse_event(&body, verified.timestamp) {
        Ok(parsed) => parsed,
        Err(error) => return reject(error.to_string(), Some(svix_id)),
    };
    let Some(event) = event else {
        tracing::info!(
            svix_id,
            event_type,
            "ignored a Clerk event of a type we do not handle"
        );
        return (StatusCode::OK, "ignored").into_response();
    };
    match process(&state.pool, &state.users, svix_id, &event_type, &event).await {
        Ok(applied) => {
            tracing::info!(
                svix_id,
                event_type,
                outcome = applied.outcome.as_str(),
                enqueued = applied.enqueued,
                "processed a Clerk event"
            );
            (StatusCode::OK, applied.outcome.as_str()).into_response()
        }
        // 503 when the database is unreachable, an opaque 500 otherwise; the cause is logged
        // by the conversion. Either way Svix retries.
        Err(error) => AppError::from(error).into_response(),
    }
}

/// One event in its own transaction, then the cache. Public for the benchmark and tests.
pub async fn process(
    pool: &PgPool,
    users: &UserStore,
    svix_id: &str,
    event_type: &str,
    event: &UserEvent,
) -> Result<Applied, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let applied = apply_event_in(&mut tx, users, svix_id, event_type, event).await?;
    tx.commit().await?;
    if let Some((id, clerk_user_id)) = &applied.touched {
        users.invalidate_user(*id, clerk_user_id);
    }
    Ok(applied)
}

fn reject(reason: String, svix_id: Option<&str>) -> Response {
    tracing::warn!(svix_id, reason, "rejected a webhook delivery");
    (StatusCode::BAD_REQUEST, reason).into_response()
}

/// Forgets processed `svix-id`s older than `older_than`; returns how many.
pub async fn prune_processed_events(
    pool: &PgPool,
    older_than: Duration,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM webhook_events WHERE received_at < now() - make_interval(secs => $1)",
    )
    .bind(older_than.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}
