//! The admin pages: overview, user list and user detail. Each server function authorises
//! itself (`require_admin`, by the database's role), so calling one directly is no way around
//! a page.

pub mod overview;
pub mod user;
pub mod users;

use time::OffsetDateTime;

/// A date as the admin pages show it: `2026-11-25`.
pub fn format_date(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// A moment as the admin pages show it: `2026-11-25 16:26 UTC`.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {:02}:{:02} UTC",
        format_date(at),
        at.hour(),
        at.minute()
    )
}

/// The way out of every admin server function: the layer's errors as an `AppError`, whose
/// status the server's `server_fn_status` layer gives API callers.
#[cfg(feature = "ssr")]
pub(crate) fn failure(error: impl Into<crate::error::AppError>) -> crate::error::AppError {
    error.into()
}
