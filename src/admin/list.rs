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

use crate::admin::model::{
    PageFrom, SortDirection, SortField, Total, UserListPage, UserListQuery, UserListRow,
};
use crate::admin::AdminError;
use crate::users::{Role, UserId};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

/// Above this estimate the total is shown as "about N" instead of being counted.
pub const EXACT_COUNT_MAX_ESTIMATE: u64 = 5_000;
/// An exact count stops here, whatever the estimate said.
const EXACT_COUNT_CAP: i64 = 10_000;
/// A search collects and counts at most this many matches (see the module's documentation).
pub const SEARCH_COUNT_CAP: u64 = 1_000;
/// How many entries of the sort index the bounded walk reads at most.
const WALK_BUDGET: i64 = 12_000;
/// A role filter whose view the planner expects to hold at most this many users is probed
/// through the role index: reading all its entries index-only costs at most a few milliseconds.
const ROLE_PROBE_MAX_ROWS: u64 = 20_000;
/// How many rows [`Search::sampled_matches`] reads (in whole pages, chosen at random).
const SAMPLE_ROWS: f64 = 5_000.0;

/// Where a search's probe takes its matches from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// An index-only scan of one role's entries in `users_list_role` (which includes
    /// `search_text`): for a role with few members, whatever the fragment.
    Role,
    /// One bitmap scan of the trigram index, looked up by the fragment's words.
    Trigram,
    /// Whatever the planner picks: a fragment without three ASCII letters or digits in a row
    /// gives pg_trgm nothing to look up (a short fragment usually matches many rows early).
    Planner,
}

impl Probe {
    /// How the probe writes the search condition.
    fn condition(self) -> SearchCondition {
        match self {
            Probe::Trigram => SearchCondition::TrigramLookup,
            Probe::Role | Probe::Planner => SearchCondition::Exact,
        }
    }

    /// The plan settings for the rest of the transaction (`set_config(…, true)` is `SET LOCAL`).
    fn plan(self) -> Option<&'static str> {
        match self {
            // Index scans only: the role's entries index-only, then the matches' rows by key.
            Probe::Role => Some(WALK_PLAN),
            Probe::Trigram => Some(TRIGRAM_PROBE_PLAN),
            Probe::Planner => None,
        }
    }
}

/// The trigram probe: one bitmap scan of the trigram index, nothing else.
const TRIGRAM_PROBE_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true), \
     set_config('enable_bitmapscan', 'on', true)";
/// The walk of a search: the sort index in page order, never a bitmap. No parallel workers
/// either: starting them costs ~8 ms, and the walk itself takes about one.
const WALK_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'on', true), set_config('enable_indexonlyscan', 'on', true), \
     set_config('enable_bitmapscan', 'off', true)";

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

/// The SQL of one page: filters, keyset condition, order and limit (`prefix` is for EXPLAIN).
fn page_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = select_rows(prefix, query.sort);
    sql.push(" FROM users");
    push_filters(&mut sql, query, SearchCondition::Exact);
    push_keyset_and_order(&mut sql, query, cursor, scan);
    push_page_limit(&mut sql, query);
    sql
}

/// `{prefix}SELECT <row columns>, <sort text> AS sort_text`.
fn select_rows<'q>(prefix: &str, sort: SortField) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push("SELECT ")
        .push(ROW_COLUMNS)
        .push(", ")
        .push(sort_text_expression(sort))
        .push(" AS sort_text");
    sql
}

/// One row more than the page, to know whether there is a next one.
fn push_page_limit(sql: &mut QueryBuilder<'_, Postgres>, query: &UserListQuery) {
    sql.push(" LIMIT ")
        .push_bind(i64::from(query.page_size) + 1);
}

/// ` AND (key, id) > (…)` (or `<`) when there is a cursor, then ` ORDER BY key, id`.
fn push_keyset_and_order(
    sql: &mut QueryBuilder<'_, Postgres>,
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
) {
    if let Some(cursor) = cursor {
        sql.push(" AND (")
            .push(sort_expression(query.sort))
            .push(", id) ")
            .push(match scan {
                SortDirection::Asc => ">",
                SortDirection::Desc => "<",
            })
            .push(" (");
        match &cursor.key {
            SortKey::Text(text) => sql.push_bind(text.clone()),
            SortKey::Time(at) => sql.push_bind(*at),
            SortKey::Role(role) => sql.push_bind(*role),
        };
        sql.push(", ").push_bind(cursor.id).push(")");
    }
    let direction = match scan {
        SortDirection::Asc => " ASC",
        SortDirection::Desc => " DESC",
    };
    sql.push(" ORDER BY ")
        .push(sort_expression(query.sort))
        .push(direction)
        .push(", id")
        .push(direction);
}

/// The probe of a search: at most [`SEARCH_COUNT_CAP`] + 1 matches, how many there were, and
/// the page among them (meaningful only when there were at most the cap).
fn probe_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    probe: Probe,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    // The role probe collects only ids (its scan is index-only) and fetches the rows by key.
    let (collected, page_source) = match probe {
        Probe::Role => (
            "id".to_owned(),
            "users WHERE id IN (SELECT id FROM matches)",
        ),
        Probe::Trigram | Probe::Planner => (
            format!("{ROW_COLUMNS}, name_key, email_key"),
            "matches WHERE true",
        ),
    };
    sql.push("WITH matches AS MATERIALIZED (SELECT ")
        .push(collected)
        .push(" FROM users");
    push_filters(&mut sql, query, probe.condition());
    sql.push(" LIMIT ")
        .push_bind(SEARCH_COUNT_CAP as i64 + 1)
        .push(") SELECT ")
        .push(ROW_COLUMNS)
        .push(", ")
        .push(sort_text_expression(query.sort))
        .push(" AS sort_text, (SELECT count(*) FROM matches) AS matched FROM ")
        .push(page_source);
    push_keyset_and_order(&mut sql, query, cursor, scan);
    push_page_limit(&mut sql, query);
    sql
}

/// How many users match, counting at most `cap` + 1 of them.
fn capped_count_sql<'q>(
    query: &UserListQuery,
    condition: SearchCondition,
    cap: i64,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new("SELECT count(*) FROM (SELECT 1 FROM users");
    push_filters(&mut sql, query, condition);
    sql.push(" LIMIT ").push_bind(cap + 1).push(") AS capped");
    sql
}

/// The walk of a search: the page's ids from the sort index (index-only), then their rows.
fn walk_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = select_rows(prefix, query.sort);
    sql.push(" FROM users WHERE id = ANY(ARRAY(SELECT id FROM users");
    push_filters(&mut sql, query, SearchCondition::Exact);
    push_keyset_and_order(&mut sql, query, cursor, scan);
    push_page_limit(&mut sql, query);
    sql.push("))");
    push_keyset_and_order(&mut sql, query, None, scan);
    sql
}

/// The first, bounded step of a search: up to [`WALK_BUDGET`] entries of the covering sort
/// index in page order (index-only), filtered, stopping at the page's last row.
fn bounded_walk_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let key = sort_expression(query.sort);
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push(format!(
        "SELECT id FROM (SELECT id, {key}, search_text, deleted_at, role FROM users WHERE true"
    ));
    push_keyset_and_order(&mut sql, query, cursor, scan);
    sql.push(" LIMIT ")
        .push_bind(WALK_BUDGET)
        .push(") AS walked");
    push_filters(&mut sql, query, SearchCondition::Exact);
    // The subquery's order carries through (no sort): the limit stops the walk early.
    push_keyset_and_order(&mut sql, query, None, scan);
    push_page_limit(&mut sql, query);
    sql
}

/// The rows of `ids`, in page order.
fn rows_by_id_sql<'q>(
    query: &UserListQuery,
    ids: Vec<Uuid>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = select_rows(prefix, query.sort);
    sql.push(" FROM users WHERE id = ANY(")
        .push_bind(ids)
        .push(")");
    push_keyset_and_order(&mut sql, query, None, scan);
    sql
}

/// The matches in a random sample of the table's pages (`TABLESAMPLE SYSTEM`): unbiased, unlike
/// the walk, whose matches may cluster in sort order.
fn sampled_count_sql<'q>(
    query: &UserListQuery,
    percent: f64,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "{prefix}SELECT count(*) FROM users TABLESAMPLE SYSTEM ({percent})"
    ));
    push_filters(&mut sql, query, SearchCondition::Exact);
    sql
}

/// A search's page and total, by the steps of the module's documentation. With `explain`, each
/// step's statement is also run under `EXPLAIN (ANALYZE, BUFFERS)`, with the same plan settings,
/// just before it runs for real.
async fn search_page(
    pool: &PgPool,
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    explain: &mut Option<Vec<String>>,
) -> Result<(Vec<ListedUser>, Total), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let search = Search {
        query,
        cursor,
        scan,
        view_rows: estimated_rows(
            &mut tx,
            &UserListQuery {
                search: String::new(),
                ..query.clone()
            },
        )
        .await?,
    };
    let by_trigram = has_trigram(&query.search) && !query.search.contains('\n');
    let probe = if query.role.is_some() && search.view_rows <= ROLE_PROBE_MAX_ROWS {
        Probe::Role
    } else if by_trigram {
        Probe::Trigram
    } else {
        Probe::Planner
    };
    let mut found = None;
    if probe == Probe::Trigram
        && expect_walk_to_fill_page(
            query,
            search.view_rows,
            estimated_rows(&mut tx, query).await?,
        )
    {
        found = search.bounded_walk(&mut tx, explain).await?;
    }
    if found.is_none() {
        found = search.probe(&mut tx, probe, explain).await?;
    }
    let found = match found {
        Some(found) => found,
        None => search.walk(&mut tx, explain).await?,
    };
    tx.commit().await?;
    Ok(found)
}

/// One search being answered: the steps of [`search_page`], each in the caller's transaction.
struct Search<'a> {
    query: &'a UserListQuery,
    cursor: Option<&'a Cursor>,
    scan: SortDirection,
    /// The planner's estimate of the view without the search.
    view_rows: u64,
}

impl Search<'_> {
    /// Step 1: the page from at most [`WALK_BUDGET`] entries of the sort index, if they hold one.
    async fn bounded_walk(
        &self,
        tx: &mut PgConnection,
        explain: &mut Option<Vec<String>>,
    ) -> Result<Option<(Vec<ListedUser>, Total)>, sqlx::Error> {
        let (query, scan) = (self.query, self.scan);
        sqlx::query(WALK_PLAN).execute(&mut *tx).await?;
        let walk = |prefix: &str| bounded_walk_sql(query, self.cursor, scan, prefix);
        explain_step(tx, explain, "bounded walk", walk).await?;
        let ids: Vec<Uuid> = walk("")
            .build_query_scalar()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
        if ids.len() <= query.page_size as usize {
            return Ok(None);
        }
        let walked = ids.len() as u64;
        let by_id = |prefix: &str| rows_by_id_sql(query, ids.clone(), scan, prefix);
        let rows = fetch_rows(tx, explain, "rows of the walked page", by_id).await?;
        let total = if self.view_rows <= EXACT_COUNT_MAX_ESTIMATE {
            count_small_view(tx, query).await?
        } else {
            Total::About(self.sampled_matches(tx, explain).await?.max(walked))
        };
        Ok(Some((rows, total)))
    }

    /// How many users of a large view match, estimated from a random sample of about
    /// [`SAMPLE_ROWS`] rows, whatever the table's size.
    async fn sampled_matches(
        &self,
        tx: &mut PgConnection,
        explain: &mut Option<Vec<String>>,
    ) -> Result<u64, sqlx::Error> {
        let percent = (SAMPLE_ROWS * 100.0 / self.view_rows.max(1) as f64).clamp(0.01, 100.0);
        let sample = |prefix: &str| sampled_count_sql(self.query, percent, prefix);
        explain_step(tx, explain, "sampled total", sample).await?;
        let sampled: i64 = sample("")
            .build_query_scalar()
            .persistent(false)
            .fetch_one(&mut *tx)
            .await?;
        Ok((sampled.max(0) as f64 * 100.0 / percent).round() as u64)
    }

    /// Step 2: every match from `probe`, up to [`SEARCH_COUNT_CAP`]; the page and an exact total
    /// unless there were more.
    async fn probe(
        &self,
        tx: &mut PgConnection,
        probe: Probe,
        explain: &mut Option<Vec<String>>,
    ) -> Result<Option<(Vec<ListedUser>, Total)>, sqlx::Error> {
        let query = self.query;
        if let Some(plan) = probe.plan() {
            sqlx::query(plan).execute(&mut *tx).await?;
        }
        let probe_query = |prefix: &str| probe_sql(query, self.cursor, self.scan, probe, prefix);
        let probed = fetch_rows(tx, explain, "probe", probe_query).await?;
        let matched = match probed.first() {
            Some(row) => row.matched.unwrap_or(0),
            // An empty page (no match, or a cursor past the last one) still needs its total.
            None => {
                capped_count_sql(query, probe.condition(), SEARCH_COUNT_CAP as i64)
                    .build_query_scalar()
                    .persistent(false)
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let matched = matched.max(0) as u64;
        Ok((matched <= SEARCH_COUNT_CAP).then_some((probed, Total::Exact(matched))))
    }

    /// Step 3: many matches, none within the bounded walk: the sort order walked to the page.
    async fn walk(
        &self,
        tx: &mut PgConnection,
        explain: &mut Option<Vec<String>>,
    ) -> Result<(Vec<ListedUser>, Total), sqlx::Error> {
        sqlx::query(WALK_PLAN).execute(&mut *tx).await?;
        let walk = |prefix: &str| walk_sql(self.query, self.cursor, self.scan, prefix);
        let rows = fetch_rows(tx, explain, "walk", walk).await?;
        let total = if self.view_rows <= EXACT_COUNT_MAX_ESTIMATE {
            count_small_view(tx, self.query).await?
        } else {
            Total::MoreThan(SEARCH_COUNT_CAP)
        };
        Ok((rows, total))
    }
}

/// Every row of a view the planner expects to be small, counted (capped, in case
/// the estimate was wrong).
async fn count_small_view(
    conn: &mut PgConnection,
    query: &UserListQuery,
) -> Result<Total, sqlx::Error> {
    let counted: i64 = capped_count_sql(query, SearchCondition::Exact, EXACT_COUNT_CAP)
        .build_query_scalar()
        .persistent(false)
        .fetch_one(&mut *conn)
        .await?;
    Ok(if counted > EXACT_COUNT_CAP {
        Total::About(counted as u64)
    } else {
        Total::Exact(counted.max(0) as u64)
    })
}

/// Whether the planner's estimates say that the bounded walk meets a page of matches: at the
/// estimated share of matches, [`WALK_BUDGET`] entries hold at least a page. With PostgreSQL's
/// default statistics (100 sampled values of `search_text`) a fragment seen in none of them is
/// estimated at about 0.01 % of the rows and one seen once at about 1 %, so this tells "seen in
/// the sample" from "not seen" (a 2 % fragment is missed by one `ANALYZE` in five: it then takes
/// the probe and the walk, a few milliseconds more, with the same result).
fn expect_walk_to_fill_page(query: &UserListQuery, view_rows: u64, matches: u64) -> bool {
    let page = u64::from(query.page_size) + 1;
    matches.saturating_mul(WALK_BUDGET as u64) >= view_rows.saturating_mul(page)
}

/// The rows of the statement `build` makes (explained first, with `explain`).
async fn fetch_rows<'q>(
    conn: &mut PgConnection,
    explain: &mut Option<Vec<String>>,
    label: &str,
    build: impl Fn(&str) -> QueryBuilder<'q, Postgres>,
) -> Result<Vec<ListedUser>, sqlx::Error> {
    explain_step(conn, explain, label, &build).await?;
    build("")
        .build_query_as()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
}

/// With `explain`, runs the statement `build` makes under `EXPLAIN (ANALYZE, BUFFERS)` and keeps
/// its plan under `label`.
async fn explain_step<'q>(
    conn: &mut PgConnection,
    explain: &mut Option<Vec<String>>,
    label: &str,
    build: impl Fn(&str) -> QueryBuilder<'q, Postgres>,
) -> Result<(), sqlx::Error> {
    let Some(lines) = explain.as_mut() else {
        return Ok(());
    };
    let plan: Vec<String> = build("EXPLAIN (ANALYZE, BUFFERS) ")
        .build_query_scalar()
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    lines.push(format!("-- {label}"));
    lines.extend(plan);
    Ok(())
}

/// Whether pg_trgm can look the search up: it extracts trigrams from runs of word characters,
/// and ASCII letters and digits are word characters in every locale.
fn has_trigram(search: &str) -> bool {
    !trigram_words(search).is_empty()
}

/// The runs of at least three ASCII letters or digits in `search`, lower-cased: each is a
/// substring of every match, and its trigrams lie inside a word (no boundary trigrams such as
/// `"  h"`, which every word starting with an h shares).
fn trigram_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| word.len() >= 3)
        .map(str::to_ascii_lowercase)
        .collect()
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

/// The key a sort orders by; it matches an index of the migration exactly.
fn sort_expression(sort: SortField) -> &'static str {
    match sort {
        // Stored `lower(name)` and `lower(email)` (migration `…000400_admin_search.sql`).
        SortField::Name => "name_key",
        SortField::Email => "email_key",
        SortField::Created => "created_at",
        SortField::Role => "role",
    }
}

/// The text form of a text sort key, selected so that the cursor carries exactly what the
/// database compared (Rust's and PostgreSQL's `lower()` need not agree on every character).
fn sort_text_expression(sort: SortField) -> &'static str {
    match sort {
        SortField::Name => "name_key",
        SortField::Email => "email_key",
        SortField::Created | SortField::Role => "NULL::text",
    }
}

/// How a search's condition is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchCondition {
    /// One `LIKE` on `search_text`: cheapest to check on each row of a walk.
    Exact,
    /// A `LIKE` per word of the fragment (what the trigram index looks up) and the exact
    /// substring as `strpos`, which the index cannot use, so the lookup stays on the words.
    TrigramLookup,
}

/// The WHERE clause shared by the page and its count.
fn push_filters(
    sql: &mut QueryBuilder<'_, Postgres>,
    query: &UserListQuery,
    condition: SearchCondition,
) {
    sql.push(" WHERE true");
    if !query.include_deleted {
        sql.push(" AND deleted_at IS NULL");
    }
    if !query.search.is_empty() {
        let pattern = format!("%{}%", escape_like(&query.search));
        match condition {
            SearchCondition::Exact => {
                // `search_text` is `lower(name || E'\n' || email)`, and ILIKE is LIKE on
                // lower()ed text: for a fragment without a newline this is
                // `name ILIKE p OR email ILIKE p`.
                sql.push(" AND search_text LIKE lower(")
                    .push_bind(pattern.clone())
                    .push(")");
            }
            SearchCondition::TrigramLookup => {
                let words = trigram_words(&query.search);
                for word in &words {
                    // Letters and digits only: nothing to escape.
                    sql.push(" AND search_text LIKE ")
                        .push_bind(format!("%{word}%"));
                }
                // One word that is the whole fragment is already the exact condition.
                if words.len() != 1 || words[0].len() != query.search.len() {
                    sql.push(" AND strpos(search_text, lower(")
                        .push_bind(query.search.clone())
                        .push(")) > 0");
                }
            }
        }
        if query.search.contains('\n') {
            // It could match across the separator: check each column (rare, not fast).
            sql.push(" AND (name ILIKE ")
                .push_bind(pattern.clone())
                .push(" OR email ILIKE ")
                .push_bind(pattern)
                .push(")");
        }
    }
    if let Some(role) = query.role {
        sql.push(" AND role = ").push_bind(role);
    }
}

/// A search is a literal substring: `%`, `_` and `\` typed by a person match themselves.
fn escape_like(search: &str) -> String {
    let mut out = String::with_capacity(search.len());
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

#[derive(sqlx::FromRow)]
struct ListedUser {
    id: UserId,
    name: String,
    email: String,
    role: Role,
    image_url: Option<String>,
    deleted_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    sort_text: Option<String>,
    /// How many matches a search's probe collected (only the probe selects it).
    #[sqlx(default)]
    matched: Option<i64>,
}

impl ListedUser {
    fn cursor(&self, sort: SortField) -> Cursor {
        let key = match sort {
            SortField::Name | SortField::Email => {
                SortKey::Text(self.sort_text.clone().unwrap_or_default())
            }
            SortField::Created => SortKey::Time(self.created_at),
            SortField::Role => SortKey::Role(self.role),
        };
        Cursor {
            sort,
            key,
            id: self.id.0,
        }
    }

    fn into_row(self) -> UserListRow {
        UserListRow {
            id: self.id,
            name: self.name,
            email: self.email,
            role: self.role,
            image_url: self.image_url,
            deleted: self.deleted_at.is_some(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    Text(String),
    Time(OffsetDateTime),
    Role(Role),
}

/// A position in one sort order: the last row's sort key and id.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    sort: SortField,
    key: SortKey,
    id: Uuid,
}

/// The cursor as it travels in the URL.
#[derive(Serialize, Deserialize)]
struct WireCursor {
    s: SortField,
    k: String,
    id: Uuid,
}

/// Longest cursor accepted: a 200-character name in base64 JSON fits easily.
const MAX_CURSOR_LEN: usize = 2_048;

impl Cursor {
    fn encode(&self) -> String {
        let k = match &self.key {
            SortKey::Text(text) => text.clone(),
            // Microseconds: PostgreSQL's precision, so the key compares exactly.
            SortKey::Time(at) => (at.unix_timestamp_nanos() / 1_000).to_string(),
            SortKey::Role(role) => role.as_str().to_owned(),
        };
        let wire = WireCursor {
            s: self.sort,
            k,
            id: self.id,
        };
        // Serialising a struct of strings and a uuid cannot fail; an empty cursor would only
        // restart the list.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(raw: &str, sort: SortField) -> Result<Cursor, AdminError> {
        let bad = || {
            AdminError::BadRequest(
                "That page link is broken or out of date. Start again from the first page.".into(),
            )
        };
        if raw.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| bad())?;
        let wire: WireCursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if wire.s != sort {
            return Err(bad());
        }
        let key = match sort {
            SortField::Name | SortField::Email => {
                // A NUL byte cannot be sent to PostgreSQL as text.
                if wire.k.contains('\0') {
                    return Err(bad());
                }
                SortKey::Text(wire.k)
            }
            SortField::Created => {
                let micros: i64 = wire.k.parse().map_err(|_| bad())?;
                let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                    .map_err(|_| bad())?;
                SortKey::Time(at)
            }
            SortField::Role => SortKey::Role(wire.k.parse().map_err(|_| bad())?),
        };
        Ok(Cursor {
            sort,
            key,
            id: wire.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000).unwrap();
        for (sort, key) in [
            (SortField::Name, SortKey::Text("ada \"lovelace\"".into())),
            (SortField::Created, SortKey::Time(at)),
            (SortField::Role, SortKey::Role(Role::Admin)),
        ] {
            let cursor = Cursor {
                sort,
                key,
                id: Uuid::new_v4(),
            };
            assert_eq!(Cursor::decode(&cursor.encode(), sort).unwrap(), cursor);
        }
        let name_cursor = Cursor {
            sort: SortField::Name,
            key: SortKey::Text("x".into()),
            id: Uuid::nil(),
        }
        .encode();
        assert!(Cursor::decode(&name_cursor, SortField::Email).is_err());
        for garbage in ["", "not a cursor", "eyJ9", &"A".repeat(10_000)] {
            assert!(matches!(
                Cursor::decode(garbage, SortField::Name),
                Err(AdminError::BadRequest(_))
            ));
        }
    }

    #[test]
    fn trigrams_need_three_ascii_word_characters_in_a_row() {
        for yes in ["ada", "4242@", "ada lovel", "x.hop"] {
            assert!(has_trigram(yes), "{yes}");
        }
        for no in ["", "ab", "a b c", "@.-_%", "zoë", "a.b.c"] {
            assert!(!has_trigram(no), "{no}");
        }
    }

    #[test]
    fn a_fragment_is_looked_up_by_its_words() {
        assert_eq!(trigram_words("Ada LOVEL"), ["ada", "lovel"]);
        assert_eq!(trigram_words("O'Brien-Ada 12"), ["brien", "ada"]);
        assert_eq!(trigram_words("4242@ex"), ["4242"]);
        assert!(trigram_words("zoë a.b").is_empty());
    }

    #[test]
    fn the_walk_goes_first_only_when_a_page_is_expected_within_it() {
        let query = UserListQuery::default();
        // 1 % of a million: ~120 matches within the walk.
        assert!(expect_walk_to_fill_page(&query, 1_000_000, 10_000));
        // 0.01 %: about one.
        assert!(!expect_walk_to_fill_page(&query, 1_000_000, 100));
        // A view smaller than the walk: it meets every match there is.
        assert!(expect_walk_to_fill_page(&query, 5_000, 30));
        assert!(!expect_walk_to_fill_page(&query, 1_000_000, 0));
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
