//! What a search matches and how its total is told: substrings, many matches near and far down
//! the order, estimates in large views, and every probe a search may use.

use super::{insert, names, search, walk_all_pages};
use crate::helpers::database::fresh_database;
use warden::admin::list::{list_users, SEARCH_COUNT_CAP};
use warden::models::user_list::{SortDirection, SortField, Total, UserListQuery};
use warden::models::{Role, UserId};

#[tokio::test]
async fn search_is_a_case_insensitive_substring_over_name_and_email() {
    let db = fresh_database().await;
    let pool = &db.pool;
    insert(
        pool,
        "Ada Lovelace",
        "ada@analytical.example",
        Role::Admin,
        1,
    )
    .await;
    insert(pool, "Grace Hopper", "grace@navy.example", Role::User, 2).await;
    insert(pool, "Alan Turing", "alan@bletchley.example", Role::User, 3).await;
    insert(pool, "100% Real_Name", "weird@example.com", Role::User, 4).await;

    assert_eq!(names(pool, &search("LOVE")).await, ["Ada Lovelace"]);
    assert_eq!(names(pool, &search("ovela")).await, ["Ada Lovelace"]);
    assert_eq!(names(pool, &search("NAVY.EX")).await, ["Grace Hopper"]);
    assert_eq!(
        names(pool, &search("a")).await.len(),
        4,
        "short fragments work too"
    );
    // LIKE's wildcards are literal characters in a search.
    assert_eq!(names(pool, &search("100%")).await, ["100% Real_Name"]);
    assert_eq!(names(pool, &search("l_n")).await, ["100% Real_Name"]);
    assert_eq!(names(pool, &search("a_n")).await, Vec::<String>::new());
    assert_eq!(names(pool, &search("%")).await, ["100% Real_Name"]);
    assert_eq!(names(pool, &search("nobody")).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_search_with_many_matches_in_a_small_view_is_counted_and_pages_in_order() {
    let db = fresh_database().await;
    let pool = &db.pool;
    // More matches than a search counts (1,000), spread among other users, with repeated names.
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email, role, created_at)
         SELECT 'user_many_' || n,
                CASE WHEN n % 3 = 0 THEN 'Other ' || (n % 50) ELSE 'Common ' || (n % 40) END,
                'p' || n || '@ex.com',
                CASE WHEN n % 7 = 0 THEN 'admin'::user_role ELSE 'user'::user_role END,
                timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => n % 300)
         FROM generate_series(1, 1800) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    let first = list_users(pool, &search("COMMON")).await.unwrap();
    assert_eq!(first.total, Total::Exact(1_200));
    assert_eq!(first.total.describe(), "1,200 users");
    assert_eq!(first.rows.len(), 25);
    for (sort, key) in [
        (SortField::Name, "lower(name)"),
        (SortField::Created, "created_at"),
    ] {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let query = UserListQuery {
                search: "ommon 1".into(),
                sort,
                direction,
                page_size: 100,
                ..Default::default()
            };
            // "Common 1", "Common 10".."Common 19": 11 of 40 names, ~330 users: an exact total.
            let walked = walk_all_pages(pool, &query).await;
            let dir = direction.as_str();
            let expected: Vec<UserId> = sqlx::query_scalar(&format!(
                "SELECT id FROM users WHERE deleted_at IS NULL AND name ILIKE '%ommon 1%'
                 ORDER BY {key} {dir}, id {dir}"
            ))
            .fetch_all(pool)
            .await
            .unwrap();
            assert_eq!(walked, expected);
            let many = UserListQuery {
                search: "common".into(),
                ..query
            };
            let walked = walk_all_pages(pool, &many).await;
            let expected: Vec<UserId> = sqlx::query_scalar(&format!(
                "SELECT id FROM users WHERE deleted_at IS NULL AND name ILIKE '%common%'
                 ORDER BY {key} {dir}, id {dir}"
            ))
            .fetch_all(pool)
            .await
            .unwrap();
            assert_eq!(expected.len(), 1_200);
            assert_eq!(walked, expected, "{sort} {dir}: every match once, in order");
        }
    }
    // A fragment across the separator of name and email matches neither.
    assert!(names(pool, &search("0\np1")).await.is_empty());
}

/// Many matches (more than a search counts), all sorting after more non-matching users than a
/// search walks first: the trigram probe says "more than 1,000", then the page comes from the
/// unbounded walk, still in order.
#[tokio::test]
async fn many_matches_far_down_the_order_say_more_than_and_page_in_order() {
    let db = fresh_database().await;
    let pool = &db.pool;
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email, role)
         SELECT 'user_far_' || n,
                CASE WHEN n <= 13000 THEN 'Aaron ' || n ELSE 'Zed Faraway ' || (n % 60) END,
                'f' || n || '@ex.com', 'user'::user_role
         FROM generate_series(1, 14200) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE users").execute(pool).await.unwrap();
    let first = list_users(pool, &search("faraway")).await.unwrap();
    assert_eq!(first.total, Total::MoreThan(1_000));
    assert_eq!(first.total.describe(), "more than 1,000 users");
    assert_eq!(first.rows.len(), 25);
    assert!(first
        .rows
        .iter()
        .all(|row| row.name.starts_with("Zed Faraway")));
    let query = UserListQuery {
        search: "faraway".into(),
        page_size: 200,
        ..Default::default()
    };
    let walked = walk_all_pages(pool, &query).await;
    let expected: Vec<UserId> = sqlx::query_scalar(
        "SELECT id FROM users WHERE name ILIKE '%faraway%' ORDER BY lower(name), id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(expected.len(), 1_200);
    assert_eq!(walked, expected);
}

/// In a large view a common fragment's total is an estimate from how densely the walk matched.
#[tokio::test]
async fn a_common_fragment_in_a_large_view_gets_an_honest_estimate() {
    let db = fresh_database().await;
    let pool = &db.pool;
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email, role)
         SELECT 'user_big_' || n,
                CASE WHEN n % 10 = 0 THEN 'Tenth ' || n ELSE 'Plain ' || n END,
                'b' || n || '@ex.com', 'user'::user_role
         FROM generate_series(1, 20000) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE users").execute(pool).await.unwrap();
    let query = UserListQuery {
        search: "tenth".into(),
        sort: SortField::Created,
        ..Default::default()
    };
    let page = list_users(pool, &query).await.unwrap();
    assert_eq!(page.rows.len(), 25);
    let Total::About(estimate) = page.total else {
        panic!("an estimate for a large view: {:?}", page.total)
    };
    // 2,000 match; the estimate must be in the right ballpark.
    assert!((1_000..=4_000).contains(&estimate), "{estimate}");
    assert!(page.total.describe().starts_with("about "));
}

/// Every way a search collects its matches returns exactly the substring matches, in order:
/// the trigram probe looks a fragment up by its words and must not match the words apart or out
/// of order, and the role probe (a role with few members) must agree with it. 24,000 users, 90 %
/// of them `user` (a view too large for the role probe) and 10 % `admin` (small enough).
#[tokio::test]
async fn every_probe_finds_exactly_the_substring_matches() {
    let db = fresh_database().await;
    let pool = &db.pool;
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email, role, created_at)
         SELECT 'user_words_' || n,
                (ARRAY['Ada Lovelace', 'Ada Byron Lovelace', 'Lovelace Ada', 'Grace Hopper',
                       'Adam Lovell', 'Ida Lovelock', 'O''Brien-Ada', 'Plain Person'])[1 + n % 8]
                    || ' ' || (n % 13),
                'u' || n || (ARRAY['@ada.love', '@example.com', '.ada-lov@x.org'])[1 + n % 3],
                CASE WHEN n % 10 = 0 THEN 'admin'::user_role ELSE 'user'::user_role END,
                timestamptz '2026-11-01 12:00:00+00' - make_interval(mins => n % 500)
         FROM generate_series(1, 24000) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE users").execute(pool).await.unwrap();
    for fragment in [
        "ada lov",
        "ADA LOVELACE 1",
        "lace ada",
        "n-ada",
        "ada.love",
        "a-lov@",
        "ce hopper 12",
        "da lovell",
        "lovelock 3",
    ] {
        for role in [None, Some(Role::Admin), Some(Role::User)] {
            let role_filter = match role {
                None => String::new(),
                Some(role) => format!("AND role = '{}'", role.as_str()),
            };
            let expected: Vec<UserId> = sqlx::query_scalar(&format!(
                "SELECT id FROM users
                 WHERE (name ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%') {role_filter}
                 ORDER BY created_at DESC, id DESC"
            ))
            .bind(fragment)
            .fetch_all(pool)
            .await
            .unwrap();
            let query = UserListQuery {
                search: fragment.into(),
                role,
                sort: SortField::Created,
                direction: SortDirection::Desc,
                page_size: 100,
                ..Default::default()
            };
            let walked = walk_all_pages(pool, &query).await;
            assert_eq!(walked, expected, "{fragment:?} {role:?}");
            // Exact, or labelled and honest: an estimate within a factor of two, a "more than"
            // that is true.
            let matches = expected.len() as u64;
            match list_users(pool, &query).await.unwrap().total {
                Total::Exact(counted) => assert_eq!(counted, matches, "{fragment:?} {role:?}"),
                Total::About(estimate) => assert!(
                    (matches / 2..=matches * 2).contains(&estimate),
                    "{fragment:?} {role:?}: about {estimate} of {matches}"
                ),
                Total::MoreThan(bound) => {
                    assert_eq!(bound, SEARCH_COUNT_CAP);
                    assert!(matches > bound, "{fragment:?} {role:?}: {matches}");
                }
            }
        }
    }
}
