//! The admin user list: search, filters, sort and keyset pagination over `users`.
//!
//! # Why keyset pagination
//! An `OFFSET` deep into a million rows reads and throws away every row before the page. A
//! keyset page instead starts *after the last row seen*: `(sort key, id) > ($key, $id)` is an
//! index condition on the btree `(sort key, id)` (see the migration `…000400_admin_search.sql`),
//! so page 500 costs what page 1 costs. `id` ends every order, so rows with equal names still
//! have one stable order and each row appears on exactly one page.
//!
//! # The cursor
//! Opaque to people: URL-safe base64 of `{"s": sort, "k": key, "id": id}`, where `key` is the
//! last row's sort key as the database computed it (`lower(name)` etc.). It is checked when
//! decoded: a cursor that is not one, or that belongs to another sort, is a
//! [`AdminError::BadRequest`], never a database error.
//!
//! # The total
//! An exact `count(*)` of a common view over a million rows would cost more than the page
//! itself. Without a search the planner's estimate (`EXPLAIN`) decides: when it expects at most
//! [`EXACT_COUNT_MAX_ESTIMATE`] rows we count them (capped, in case it was wrong), else we show
//! the estimate, labelled "about". A search is counted exactly in such a small view, and up to
//! [`SEARCH_COUNT_CAP`] matches in any view; beyond that, a common fragment in a large view gets
//! an estimate from a random sample of the table, and one that is neither reads "more than 1,000
//! users".
//!
//! # Searches: each plan used where it is cheap, every step bounded
//! No single plan serves every search: walking a sort index in page order is cheap when matches
//! are dense and hopeless when they are rare; collecting the matches from the trigram index is
//! the reverse. The planner cannot choose well on its own (it does not know how matches spread
//! along the sort order), so [`search_page`] chooses, in one transaction, from cheap facts: the
//! planner's estimates (`EXPLAIN`, no execution) of the view and of the search.
//! 1. **Bounded walk**, for a fragment the planner expects to be common enough to fill a page
//!    within the walk ([`expect_walk_to_fill_page`]): the covering sort index is walked in page
//!    order, index-only, for at most [`WALK_BUDGET`] entries, filtering on its included
//!    `search_text`. A common fragment fills its page here in a few milliseconds and
//!    never pays for the trigram lookup.
//! 2. **Probe**: every match, one more than [`SEARCH_COUNT_CAP`] at most, then the page is sorted
//!    out of them; at most 1,000 matches give the page and an exact total. The matches come from
//!    the cheapest source (see [`Probe`]): the entries of a small role (an index-only scan of
//!    `users_list_role`), or a bitmap scan of the trigram index looked up by the fragment's
//!    *words*, whose trigrams are rarer than those spanning a word boundary (`"grace hop"`
//!    costs a third of the lookup this way), with the exact substring checked on each row.
//! 3. **Walk**, only for a fragment with more matches than the probe collects that the bounded
//!    walk did not reach: the sort index is walked without a bound.
//!
//! `cargo bench --bench admin_list` measures every shape at 1,000,000 users; `ADMIN_LIST_EXPLAIN`
//! prints the plan of each step a search took ([`explain_list_users`]).

mod cursor;
mod search;
mod sql;

use crate::admin::AdminError;
use crate::models::user_list::{PageFrom, SortDirection, Total, UserListPage, UserListQuery};
use cursor::{Cursor, ListedUser};
use search::*;
use sql::*;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

/// Above this estimate the total is shown as "about N" instead of being counted.
pub const EXACT_COUNT_MAX_ESTIMATE: u64 = 5_000;
/// An exact count stops here, whatever the estimate said.
const EXACT_COUNT_CAP: i64 = 10_000;
/// A search collects and counts at most this many matches (see the module's documentation).
pub const SEARCH_COUNT_CAP: u64 = 1_000;
/// How many entries of the sort index the bounded walk reads at most.
/// The columns of a listed row; `sort_text` follows.
const ROW_COLUMNS: &str = "id, name, email, role, image_url, deleted_at, created_at";

/// The page of users `query` asks for.
pub async fn list_users(pool: &PgPool, query: &UserListQuery) -> Result<UserListPage, AdminError> {
    let (cursor, scan) = start_position(query)?;
    let (rows, total) = if query.search.is_empty() {
        let mut conn = pool.acquire().await?;
        // Unnamed (not cached) statements: the planner sees the actual role every time.
        let rows: Vec<ListedUser> = page_sql(query, cursor.as_ref(), scan, "")
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?;
        (rows, total(&mut conn, query).await?)
    } else {
        search_page(pool, query, cursor.as_ref(), scan, &mut None).await?
    };
    Ok(into_page(query, rows, total))
}

/// The page as it is shown: rows in display order, and the cursors of its neighbours.
fn into_page(query: &UserListQuery, mut rows: Vec<ListedUser>, total: Total) -> UserListPage {
    let more_in_scan_direction = rows.len() > query.page_size as usize;
    rows.truncate(query.page_size as usize);
    let (next, previous) = match &query.from {
        PageFrom::Start => (more_in_scan_direction.then(|| rows.last()).flatten(), None),
        PageFrom::After(_) => (
            more_in_scan_direction.then(|| rows.last()).flatten(),
            rows.first(),
        ),
        PageFrom::Before(_) => {
            rows.reverse();
            (
                rows.last(),
                more_in_scan_direction.then(|| rows.first()).flatten(),
            )
        }
    };
    let next = next.map(|row| row.cursor(query.sort).encode());
    let previous = previous.map(|row| row.cursor(query.sort).encode());
    UserListPage {
        rows: rows.into_iter().map(ListedUser::into_row).collect(),
        next,
        previous,
        total,
    }
}

/// Where a page starts and which way the scan runs. "Previous" walks backwards from its cursor;
/// the rows are put back in display order afterwards.
fn start_position(query: &UserListQuery) -> Result<(Option<Cursor>, SortDirection), AdminError> {
    Ok(match &query.from {
        PageFrom::Start => (None, query.direction),
        PageFrom::After(raw) => (Some(Cursor::decode(raw, query.sort)?), query.direction),
        PageFrom::Before(raw) => (
            Some(Cursor::decode(raw, query.sort)?),
            query.direction.reversed(),
        ),
    })
}

/// The plan of every statement [`list_users`] runs for `query`, executed under
/// `EXPLAIN (ANALYZE, BUFFERS)` with the plan settings it runs with: evidence for the
/// benchmark's report.
pub async fn explain_list_users(
    pool: &PgPool,
    query: &UserListQuery,
) -> Result<String, AdminError> {
    let (cursor, scan) = start_position(query)?;
    let mut explain = Some(Vec::new());
    if query.search.is_empty() {
        let mut conn = pool.acquire().await?;
        let page = |prefix: &str| page_sql(query, cursor.as_ref(), scan, prefix);
        explain_step(&mut conn, &mut explain, "page", page).await?;
    } else {
        search_page(pool, query, cursor.as_ref(), scan, &mut explain).await?;
    }
    Ok(explain.unwrap_or_default().join("\n"))
}

/// How many rows the planner expects `query`'s view to hold (`EXPLAIN`, nothing executed).
async fn estimated_rows(
    conn: &mut PgConnection,
    query: &UserListQuery,
) -> Result<u64, sqlx::Error> {
    let mut explain = QueryBuilder::<Postgres>::new("EXPLAIN (FORMAT JSON) SELECT 1 FROM users");
    push_filters(&mut explain, query, SearchCondition::Exact);
    let plan: serde_json::Value = explain
        .build_query_scalar()
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?;
    Ok(plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
        .max(0.0) as u64)
}

/// The total of an unsearched view: counted when the planner expects it to be small.
async fn total(conn: &mut PgConnection, query: &UserListQuery) -> Result<Total, sqlx::Error> {
    let estimate = estimated_rows(conn, query).await?;
    if estimate > EXACT_COUNT_MAX_ESTIMATE {
        return Ok(Total::About(estimate));
    }
    Ok(match count_small_view(conn, query).await? {
        // The estimate was far off; the cap is the honest lower bound.
        Total::About(counted) => Total::About(estimate.max(counted)),
        counted => counted,
    })
}
