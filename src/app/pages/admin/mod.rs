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

/// The authorization the admin server functions call.
///
/// TEMPORARY, fail-closed: sign-in (issue 4) lands `crate::clerk::require_admin` and
/// `crate::clerk::current_user` on main; until then every admin request is refused. This is
/// replaced by a `use` of those functions, with the same signatures, when they land.
#[cfg(feature = "ssr")]
pub(crate) mod access {
    use crate::error::AppError;

    pub struct CurrentUser {
        pub user_id: crate::users::UserId,
    }

    pub async fn require_admin() -> Result<CurrentUser, AppError> {
        Err(AppError::Forbidden(
            "Admin pages open once sign-in is available.".into(),
        ))
    }
}
