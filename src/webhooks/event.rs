//! A verified body read as a Clerk event.

use crate::clerk::api::ClerkUser;
use crate::models::ClerkUserId;
use serde::Deserialize;

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

/// Clerk's envelope `timestamp` in ms. Clerk's own documents disagree on its unit (the docs and
/// real deliveries say milliseconds, the OpenAPI examples seconds): values below 10^11 cannot
/// be milliseconds of any date after 1973, so they are read as seconds.
pub fn event_time_ms(timestamp: i64) -> i64 {
    if timestamp.abs() < 100_000_000_000 {
        timestamp.saturating_mul(1000)
    } else {
        timestamp
    }
}
