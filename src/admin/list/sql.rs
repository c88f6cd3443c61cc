//! The SQL builders of the list: one page, a search's probe, walks and counts, and the WHERE
//! clause they share.

use super::cursor::*;
use super::*;
use crate::models::user_list::{SortDirection, SortField, UserListQuery};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// The SQL of one page: filters, keyset condition, order and limit (`prefix` is for EXPLAIN).
pub(super) fn page_sql<'q>(
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
pub(super) fn select_rows<'q>(prefix: &str, sort: SortField) -> QueryBuilder<'q, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new(prefix);
    sql.push("SELECT ")
        .push(ROW_COLUMNS)
        .push(", ")
        .push(sort_text_expression(sort))
        .push(" AS sort_text");
    sql
}

/// One row more than the page, to know whether there is a next one.
pub(super) fn push_page_limit(sql: &mut QueryBuilder<'_, Postgres>, query: &UserListQuery) {
    sql.push(" LIMIT ")
        .push_bind(i64::from(query.page_size) + 1);
}

/// ` AND (key, id) > (…)` (or `<`) when there is a cursor, then ` ORDER BY key, id`.
pub(super) fn push_keyset_and_order(
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
pub(super) fn probe_sql<'q>(
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
pub(super) fn capped_count_sql<'q>(
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
pub(super) fn walk_sql<'q>(
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
pub(super) fn bounded_walk_sql<'q>(
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
pub(super) fn rows_by_id_sql<'q>(
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
pub(super) fn sampled_count_sql<'q>(
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

/// The key a sort orders by; it matches an index of the migration exactly.
pub(super) fn sort_expression(sort: SortField) -> &'static str {
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
pub(super) fn sort_text_expression(sort: SortField) -> &'static str {
    match sort {
        SortField::Name => "name_key",
        SortField::Email => "email_key",
        SortField::Created | SortField::Role => "NULL::text",
    }
}

/// How a search's condition is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SearchCondition {
    /// One `LIKE` on `search_text`: cheapest to check on each row of a walk.
    Exact,
    /// A `LIKE` per word of the fragment (what the trigram index looks up) and the exact
    /// substring as `strpos`, which the index cannot use, so the lookup stays on the words.
    TrigramLookup,
}

/// The WHERE clause shared by the page and its count.
pub(super) fn push_filters(
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
pub(super) fn escape_like(search: &str) -> String {
    let mut out = String::with_capacity(search.len());
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
