//! Searches: the bounded walk, the probe and the walk of the module's documentation, chosen
//! from the planner's estimates.

use super::cursor::*;
use super::*;
use crate::models::user_list::{SortDirection, Total, UserListQuery};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

/// How many entries of the sort index the bounded walk reads at most.
pub(super) const WALK_BUDGET: i64 = 12_000;
/// A role filter whose view the planner expects to hold at most this many users is probed
/// through the role index: reading all its entries index-only costs at most a few milliseconds.
pub(super) const ROLE_PROBE_MAX_ROWS: u64 = 20_000;
/// How many rows [`Search::sampled_matches`] reads (in whole pages, chosen at random).
pub(super) const SAMPLE_ROWS: f64 = 5_000.0;

/// Where a search's probe takes its matches from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
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
    pub(super) fn condition(self) -> SearchCondition {
        match self {
            Probe::Trigram => SearchCondition::TrigramLookup,
            Probe::Role | Probe::Planner => SearchCondition::Exact,
        }
    }

    /// The plan settings for the rest of the transaction (`set_config(…, true)` is `SET LOCAL`).
    pub(super) fn plan(self) -> Option<&'static str> {
        match self {
            // Index scans only: the role's entries index-only, then the matches' rows by key.
            Probe::Role => Some(WALK_PLAN),
            Probe::Trigram => Some(TRIGRAM_PROBE_PLAN),
            Probe::Planner => None,
        }
    }
}

/// The trigram probe: one bitmap scan of the trigram index, nothing else.
pub(super) const TRIGRAM_PROBE_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'off', true), set_config('enable_indexonlyscan', 'off', true), \
     set_config('enable_bitmapscan', 'on', true)";
/// The walk of a search: the sort index in page order, never a bitmap. No parallel workers
/// either: starting them costs ~8 ms, and the walk itself takes about one.
pub(super) const WALK_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), \
     set_config('max_parallel_workers_per_gather', '0', true), \
     set_config('enable_indexscan', 'on', true), set_config('enable_indexonlyscan', 'on', true), \
     set_config('enable_bitmapscan', 'off', true)";

/// A search's page and total, by the steps of the module's documentation. With `explain`, each
/// step's statement is also run under `EXPLAIN (ANALYZE, BUFFERS)`, with the same plan settings,
/// just before it runs for real.
pub(super) async fn search_page(
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
pub(super) struct Search<'a> {
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
pub(super) async fn count_small_view(
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
pub(super) fn expect_walk_to_fill_page(
    query: &UserListQuery,
    view_rows: u64,
    matches: u64,
) -> bool {
    let page = u64::from(query.page_size) + 1;
    matches.saturating_mul(WALK_BUDGET as u64) >= view_rows.saturating_mul(page)
}

/// The rows of the statement `build` makes (explained first, with `explain`).
pub(super) async fn fetch_rows<'q>(
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
pub(super) async fn explain_step<'q>(
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
pub(super) fn has_trigram(search: &str) -> bool {
    !trigram_words(search).is_empty()
}

/// The runs of at least three ASCII letters or digits in `search`, lower-cased: each is a
/// substring of every match, and its trigrams lie inside a word (no boundary trigrams such as
/// `"  h"`, which every word starting with an h shares).
pub(super) fn trigram_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| word.len() >= 3)
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
