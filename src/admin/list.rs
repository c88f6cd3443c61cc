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
//! An exact `count(*)` of a common search over a million rows would cost more than the page
//! itself. The planner's estimate (`EXPLAIN`) decides: when it expects at most
//! [`EXACT_COUNT_MAX_ESTIMATE`] rows we count them (capped, in case it was wrong), else we show
//! the estimate, labelled "about".

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

/// The page of users `query` asks for.
pub async fn list_users(pool: &PgPool, query: &UserListQuery) -> Result<UserListPage, AdminError> {
    let (cursor, scan) = start_position(query)?;
    let mut sql = page_sql(query, cursor.as_ref(), scan, "");
    // Unnamed (not cached) statements: the planner sees the actual search pattern and role
    // every time. A cached generic plan cannot tell a rare fragment (bitmap on the trigram
    // index) from a common one (walk the sort index), and picking wrong costs 100×.
    let mut rows: Vec<ListedUser> = sql
        .build_query_as()
        .persistent(false)
        .fetch_all(pool)
        .await?;

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
    let total = total(pool, query).await?;
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
        .push(direction)
        .push(" LIMIT ")
        .push_bind(limit + 1);

    sql
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

/// `EXPLAIN (ANALYZE, BUFFERS)` of the page query exactly as
/// [`list_users`] builds them: evidence for the benchmark's report.
pub async fn explain_list_users(
    pool: &PgPool,
    query: &UserListQuery,
) -> Result<String, AdminError> {
    let (cursor, scan) = start_position(query)?;
    let mut sql = page_sql(query, cursor.as_ref(), scan, "EXPLAIN (ANALYZE, BUFFERS) ");
    let lines: Vec<String> = sql
        .build_query_scalar()
        .persistent(false)
        .fetch_all(pool)
        .await?;
    Ok(lines.join("\n"))
}

/// The key a sort orders by; it matches an index of the migration exactly.
fn sort_expression(sort: SortField) -> &'static str {
    match sort {
        SortField::Name => "lower(name)",
        SortField::Email => "lower(email)",
        SortField::Created => "created_at",
        SortField::Role => "role",
    }
}

/// The text form of a text sort key, selected so that the cursor carries exactly what the
/// database compared (Rust's and PostgreSQL's `lower()` need not agree on every character).
fn sort_text_expression(sort: SortField) -> &'static str {
    match sort {
        SortField::Name => "lower(name)",
        SortField::Email => "lower(email)",
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
        sql.push(" AND (name ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR email ILIKE ")
            .push_bind(pattern)
            .push(")");
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
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }
}
