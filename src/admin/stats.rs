//! The numbers of the admin overview.

use crate::admin::AdminError;
use crate::models::overview::{DailySignups, Overview};
use sqlx::PgPool;
use time::OffsetDateTime;

/// How many days the sign-up chart covers, today included.
pub const SIGNUP_DAYS: i32 = 30;

/// Users by role, active and deleted counts, and sign-ups per day (UTC) over the last
/// [`SIGNUP_DAYS`] days.
///
/// The counts read the whole table once (a million rows take tens of milliseconds), which is
/// fine for a page that one admin opens now and then; the sign-ups use the `created_at` index.
pub async fn overview(pool: &PgPool) -> Result<Overview, AdminError> {
    let (active_admins, active_users, deleted): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE deleted_at IS NULL AND role = 'admin'),
                count(*) FILTER (WHERE deleted_at IS NULL AND role = 'user'),
                count(*) FILTER (WHERE deleted_at IS NOT NULL)
         FROM users",
    )
    .fetch_one(pool)
    .await?;
    // generate_series gives every day, so days without sign-ups are zeros, not gaps.
    let signups: Vec<(OffsetDateTime, i64)> = sqlx::query_as(
        "WITH days AS (
             SELECT generate_series(
                 date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => $1 - 1),
                 date_trunc('day', now() AT TIME ZONE 'UTC'),
                 interval '1 day') AS day
         ),
         counted AS (
             SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS day, count(*) AS n
             FROM users
             WHERE created_at >= (date_trunc('day', now() AT TIME ZONE 'UTC')
                                  - make_interval(days => $1 - 1)) AT TIME ZONE 'UTC'
             GROUP BY 1
         )
         SELECT days.day AT TIME ZONE 'UTC', COALESCE(counted.n, 0)
         FROM days LEFT JOIN counted USING (day)
         ORDER BY days.day",
    )
    .bind(SIGNUP_DAYS)
    .fetch_all(pool)
    .await?;
    Ok(Overview {
        active_admins: active_admins.max(0) as u64,
        active_users: active_users.max(0) as u64,
        deleted: deleted.max(0) as u64,
        signups: signups
            .into_iter()
            .map(|(day, count)| DailySignups {
                day,
                count: count.max(0) as u64,
            })
            .collect(),
    })
}
