//! Dates as every page shows them, always in UTC.

use time::OffsetDateTime;

/// A date: `2026-11-25`.
pub fn format_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// A moment: `2026-11-25 16:26 UTC`.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{} {:02}:{:02} UTC",
        format_date(at),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_shown_in_utc() {
        let at = time::macros::datetime!(2026-11-25 23:30 -02:00);
        assert_eq!(format_date(at), "2026-11-26");
        assert_eq!(format_time(at), "2026-11-26 01:30 UTC");
    }
}
