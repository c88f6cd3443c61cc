//! The admin user list: search, filters, sort and keyset pagination over `users`.
//!
//! # Why keyset pagination
//! An `OFFSET` deep into a million rows reads and throws away every row before the page. A
//! keyset page instead starts *after the last row seen*: `(sort key, id) > ($key, $id)` is an
//! index condition on the btree `(sort key, id)` (see the migration `…000200_admin_roles.sql`),
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
//! the estimate, labelled "about". A search is counted up to [`SEARCH_COUNT_CAP`] (the planner
//! cannot estimate substring matches); past it the total reads "more than 1,000 users".
//!
//! # Searches: plans chosen by what the data does, not by the planner
//! The planner cannot tell a rare fragment from a common one (`LIKE '%…%'` estimates come from
//! a 100-value histogram and are clamped), and each good plan is 10–100× too slow for the other
//! kind. So a search runs in one transaction, each step bounded:
//! 1. **Bounded walk**: the covering sort index is walked in page order, index-only, for at most
//!    [`WALK_BUDGET`] entries, filtering on its included `search_text`. A common fragment fills
//!    its page here (a few milliseconds) and never pays for the trigram lookup. Its total is then
//!    counted in a small view, and in a large one estimated from a random sample of the table's
//!    pages (`TABLESAMPLE SYSTEM`), shown as "about N".
//! 2. **Probe**, when the walk did not fill the page: the matches (one more than
//!    [`SEARCH_COUNT_CAP`] at most) from one bitmap scan of the trigram GIN index on `search_text` (sequential and
//!    index scans are switched off for this statement), then the page is sorted out of them. At
//!    most 1,000 matches: that is the page and an exact total.
//! 3. **Walk**, only for a fragment with more matches that all lie beyond the bounded walk: the
//!    sort index is walked without a bound and the page's rows are fetched by id; the total reads
//!    "more than 1,000 users".
//!
//! A fragment without three ASCII letters or digits in a row gives no trigram to look up, so its
//! probe is left to the planner (a short fragment usually matches many rows early).

use crate::admin::model::{
    PageFrom, SortDirection, SortField, Total, UserListPage, UserListQuery, UserListRow,
};
use crate::admin::AdminError;
use crate::users::{Role, UserId};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

/// Above this estimate the total is shown as "about N" instead of being counted.
pub const EXACT_COUNT_MAX_ESTIMATE: u64 = 5_000;
/// An exact count stops here, whatever the estimate said.
const EXACT_COUNT_CAP: i64 = 10_000;
/// A search collects and counts at most this many matches (see the module's documentation).
pub const SEARCH_COUNT_CAP: u64 = 1_000;

/// The probe of a search: one bitmap scan of the trigram index, nothing else.
const PROBE_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true), \
     set_config('enable_bitmapscan', 'on', true)";
/// The walk of a search: the sort index in page order, never a bitmap. No parallel workers
/// either: starting them costs ~8 ms, and the walk itself takes about one.
const WALK_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'on', true), set_config('enable_indexonlyscan', 'on', true), \
     set_config('enable_bitmapscan', 'off', true)";

/// The page of users `query` asks for.
pub async fn list_users(pool: &PgPool, query: &UserListQuery) -> Result<UserListPage, AdminError> {
    let (cursor, scan) = start_position(query)?;
    let (mut rows, total) = if query.search.is_empty() {
        // Unnamed (not cached) statements: the planner sees the actual role every time.
        let mut sql = page_sql(query, cursor.as_ref(), scan, "");
        let rows: Vec<ListedUser> = sql
            .build_query_as()
            .persistent(false)
            .fetch_all(pool)
            .await?;
        (rows, total(pool, query).await?)
    } else {
        search_page(pool, query, cursor.as_ref(), scan).await?
    };

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
    Ok(UserListPage {
        rows: rows.into_iter().map(ListedUser::into_row).collect(),
        next,
        previous,
        total,
    })
}

/// The SQL of one page: filters, keyset condition, order and limit (`prefix` is for EXPLAIN).
fn page_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let limit = i64::from(query.page_size);
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push("SELECT id, name, email, role, image_url, deleted_at, created_at, ");
    sql.push(sort_text_expression(query.sort));
    sql.push(" AS sort_text FROM users");
    push_filters(&mut sql, query);
    push_keyset_and_order(&mut sql, query, cursor, scan);
    sql.push(" LIMIT ").push_bind(limit + 1);
    sql
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
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push(
        "WITH matches AS MATERIALIZED (SELECT id, name, email, role, image_url, deleted_at, \
         created_at, name_key, email_key FROM users",
    );
    push_filters(&mut sql, query);
    sql.push(" LIMIT ")
        .push_bind(SEARCH_COUNT_CAP as i64 + 1)
        .push(") SELECT id, name, email, role, image_url, deleted_at, created_at, ")
        .push(sort_text_expression(query.sort))
        .push(" AS sort_text, (SELECT count(*) FROM matches) AS matched FROM matches WHERE true");
    push_keyset_and_order(&mut sql, query, cursor, scan);
    sql.push(" LIMIT ")
        .push_bind(i64::from(query.page_size) + 1);
    sql
}

/// The walk of a search: the page's ids from the sort index (index-only), then their rows.
fn walk_sql<'q>(
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
    prefix: &str,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push("SELECT id, name, email, role, image_url, deleted_at, created_at, ")
        .push(sort_text_expression(query.sort))
        .push(" AS sort_text FROM users WHERE id = ANY(ARRAY(SELECT id FROM users");
    push_filters(&mut sql, query);
    push_keyset_and_order(&mut sql, query, cursor, scan);
    sql.push(" LIMIT ")
        .push_bind(i64::from(query.page_size) + 1)
        .push("))");
    push_keyset_and_order(&mut sql, query, None, scan);
    sql
}

/// How many entries of the sort index a search walks before it asks the trigram index instead.
const WALK_BUDGET: i64 = 12_000;

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
    push_filters(&mut sql, query);
    // The subquery's order carries through (no sort): the limit stops the walk early.
    push_keyset_and_order(&mut sql, query, None, scan);
    sql.push(" LIMIT ")
        .push_bind(i64::from(query.page_size) + 1);
    sql
}

/// How many users of a large view match a search, estimated from a random sample of the table's
/// pages (unbiased, unlike the walk, whose matches may cluster in sort order).
async fn sampled_matches(
    conn: &mut sqlx::PgConnection,
    query: &UserListQuery,
    view_rows: u64,
) -> Result<u64, sqlx::Error> {
    // About SAMPLE_ROWS rows, whatever the table's size.
    let percent = (SAMPLE_ROWS * 100.0 / view_rows.max(1) as f64).clamp(0.01, 100.0);
    let mut count = QueryBuilder::<Postgres>::new(format!(
        "SELECT count(*) FROM users TABLESAMPLE SYSTEM ({percent})"
    ));
    push_filters(&mut count, query);
    let sampled: i64 = count
        .build_query_scalar()
        .persistent(false)
        .fetch_one(conn)
        .await?;
    Ok((sampled.max(0) as f64 * 100.0 / percent).round() as u64)
}

/// How many rows [`sampled_matches`] reads (in whole pages, chosen at random).
const SAMPLE_ROWS: f64 = 5_000.0;

/// The rows of `ids`, in page order.
fn rows_by_id_sql<'q>(
    query: &UserListQuery,
    ids: Vec<Uuid>,
    scan: SortDirection,
) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT id, name, email, role, image_url, deleted_at, created_at, ",
    );
    sql.push(sort_text_expression(query.sort))
        .push(" AS sort_text FROM users WHERE id = ANY(")
        .push_bind(ids)
        .push(")");
    push_keyset_and_order(&mut sql, query, None, scan);
    sql
}

/// A search's page and total. A common fragment fills its page within a short walk of the sort
/// index (the total is then estimated from how densely it matched); a rarer one goes to the
/// trigram probe, then to the unbounded walk if the probe found too many.
async fn search_page(
    pool: &PgPool,
    query: &UserListQuery,
    cursor: Option<&Cursor>,
    scan: SortDirection,
) -> Result<(Vec<ListedUser>, Total), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if has_trigram(&query.search) && !query.search.contains('\n') {
        sqlx::query(WALK_PLAN).execute(&mut *tx).await?;
        let ids: Vec<Uuid> = bounded_walk_sql(query, cursor, scan, "")
            .build_query_scalar()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
        if ids.len() > query.page_size as usize {
            let matched = ids.len() as u64;
            let rows: Vec<ListedUser> = rows_by_id_sql(query, ids, scan)
                .build_query_as()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?;
            // A small view is counted; a large one gets an estimate (labelled "about").
            let unsearched = UserListQuery {
                search: String::new(),
                ..query.clone()
            };
            let total = match total(pool, &unsearched).await? {
                Total::Exact(_) => Total::Exact(count_matches(pool, query).await?),
                view => Total::About(
                    sampled_matches(&mut tx, query, view.count())
                        .await?
                        .max(matched),
                ),
            };
            tx.commit().await?;
            return Ok((rows, total));
        }
    }
    if has_trigram(&query.search) {
        sqlx::query(PROBE_PLAN).execute(&mut *tx).await?;
    }
    let mut probe = probe_sql(query, cursor, scan, "");
    let probed: Vec<ListedUser> = probe
        .build_query_as()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?;
    let matched = match probed.first() {
        Some(row) => row.matched.unwrap_or(0),
        // An empty page (no match, or a cursor past the last one) still needs its total.
        None => {
            let mut count =
                QueryBuilder::<Postgres>::new("SELECT count(*) FROM (SELECT 1 FROM users");
            push_filters(&mut count, query);
            count
                .push(" LIMIT ")
                .push_bind(SEARCH_COUNT_CAP as i64 + 1)
                .push(") AS capped");
            count
                .build_query_scalar()
                .persistent(false)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let matched = matched.max(0) as u64;
    if matched <= SEARCH_COUNT_CAP {
        tx.commit().await?;
        return Ok((probed, Total::Exact(matched)));
    }
    sqlx::query(WALK_PLAN).execute(&mut *tx).await?;
    let mut walk = walk_sql(query, cursor, scan, "");
    let rows: Vec<ListedUser> = walk
        .build_query_as()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((rows, Total::MoreThan(SEARCH_COUNT_CAP)))
}

/// Whether pg_trgm can look the search up: it extracts trigrams from runs of word characters,
/// and ASCII letters and digits are word characters in every locale.
fn has_trigram(search: &str) -> bool {
    let mut run = 0;
    for c in search.chars() {
        run = if c.is_ascii_alphanumeric() {
            run + 1
        } else {
            0
        };
        if run >= 3 {
            return true;
        }
    }
    false
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

/// `EXPLAIN (ANALYZE, BUFFERS)` of the page queries exactly as [`list_users`] builds and
/// plans them (for a search: the probe, and the walk when the probe found too many): evidence
/// for the benchmark's report.
pub async fn explain_list_users(
    pool: &PgPool,
    query: &UserListQuery,
) -> Result<String, AdminError> {
    const EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) ";
    let (cursor, scan) = start_position(query)?;
    if query.search.is_empty() {
        let mut sql = page_sql(query, cursor.as_ref(), scan, EXPLAIN);
        let lines: Vec<String> = sql
            .build_query_scalar()
            .persistent(false)
            .fetch_all(pool)
            .await?;
        return Ok(lines.join("\n"));
    }
    let mut tx = pool.begin().await?;
    if has_trigram(&query.search) {
        sqlx::query(PROBE_PLAN).execute(&mut *tx).await?;
    }
    let mut lines: Vec<String> = vec!["-- probe".into()];
    let mut probe = probe_sql(query, cursor.as_ref(), scan, EXPLAIN);
    let probe_plan: Vec<String> = probe
        .build_query_scalar()
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?;
    lines.extend(probe_plan);
    tx.rollback().await?;
    if let (_, Total::MoreThan(_)) = search_page(pool, query, cursor.as_ref(), scan).await? {
        let mut tx = pool.begin().await?;
        sqlx::query(WALK_PLAN).execute(&mut *tx).await?;
        lines.push("-- walk (more matches than the probe collects)".into());
        let mut walk = walk_sql(query, cursor.as_ref(), scan, EXPLAIN);
        let walk_plan: Vec<String> = walk
            .build_query_scalar()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
        lines.extend(walk_plan);
        tx.rollback().await?;
    }
    Ok(lines.join("\n"))
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

/// The WHERE clause shared by the page and its count.
fn push_filters(sql: &mut QueryBuilder<'_, Postgres>, query: &UserListQuery) {
    sql.push(" WHERE true");
    if !query.include_deleted {
        sql.push(" AND deleted_at IS NULL");
    }
    if !query.search.is_empty() {
        let pattern = format!("%{}%", escape_like(&query.search));
        // `search_text` is `lower(name || E'\n' || email)`, and ILIKE is LIKE on lower()ed
        // text: for a fragment without a newline this is `name ILIKE p OR email ILIKE p`.
        sql.push(" AND search_text LIKE lower(")
            .push_bind(pattern.clone())
            .push(")");
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

/// Every match of a search in a small view (at most [`EXACT_COUNT_MAX_ESTIMATE`] rows).
async fn count_matches(pool: &PgPool, query: &UserListQuery) -> Result<u64, sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM users");
    push_filters(&mut count, query);
    let counted: i64 = count
        .build_query_scalar()
        .persistent(false)
        .fetch_one(pool)
        .await?;
    Ok(counted.max(0) as u64)
}

async fn total(pool: &PgPool, query: &UserListQuery) -> Result<Total, sqlx::Error> {
    let mut explain = QueryBuilder::<Postgres>::new("EXPLAIN (FORMAT JSON) SELECT 1 FROM users");
    push_filters(&mut explain, query);
    let plan: serde_json::Value = explain
        .build_query_scalar()
        .persistent(false)
        .fetch_one(pool)
        .await?;
    let estimate = plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
        .max(0.0) as u64;
    if estimate > EXACT_COUNT_MAX_ESTIMATE {
        return Ok(Total::About(estimate));
    }
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM (SELECT 1 FROM users");
    push_filters(&mut count, query);
    count
        .push(" LIMIT ")
        .push_bind(EXACT_COUNT_CAP + 1)
        .push(") AS capped");
    let counted: i64 = count
        .build_query_scalar()
        .persistent(false)
        .fetch_one(pool)
        .await?;
    Ok(if counted > EXACT_COUNT_CAP {
        // The estimate was far off; the cap is the honest lower bound.
        Total::About(estimate.max(counted as u64))
    } else {
        Total::Exact(counted as u64)
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
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
