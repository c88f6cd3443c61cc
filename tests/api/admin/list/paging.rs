//! Filters, every sort in both directions, keyset pages forwards and back, cursors, parameters
//! and exact totals.

use super::{insert, names, soft_delete, walk_all_pages};
use crate::helpers::database::fresh_database;
use sqlx::PgPool;
use std::collections::HashSet;
use warden::admin::list::list_users;
use warden::admin::AdminError;
use warden::error::AppError;
use warden::models::user_list::{
    PageFrom, SortDirection, SortField, Total, UserListParams, UserListQuery, MAX_SEARCH_CHARS,
};
use warden::models::{Role, UserId};

async fn ordered_ids(pool: &PgPool, order_by: &str, include_deleted: bool) -> Vec<UserId> {
    let filter = if include_deleted {
        ""
    } else {
        "WHERE deleted_at IS NULL"
    };
    sqlx::query_scalar(&format!(
        "SELECT id FROM users {filter} ORDER BY {order_by}"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn role_filter_and_deleted_toggle() {
    let db = fresh_database().await;
    let pool = &db.pool;
    insert(pool, "Ada", "ada@example.com", Role::Admin, 1).await;
    insert(pool, "Bob", "bob@example.com", Role::User, 2).await;
    let gone = insert(pool, "Cyd", "cyd@example.com", Role::Admin, 3).await;
    soft_delete(pool, gone).await;

    assert_eq!(names(pool, &UserListQuery::default()).await, ["Ada", "Bob"]);
    let admins = UserListQuery {
        role: Some(Role::Admin),
        ..Default::default()
    };
    assert_eq!(names(pool, &admins).await, ["Ada"]);
    let admins_with_deleted = UserListQuery {
        include_deleted: true,
        ..admins
    };
    let page = list_users(pool, &admins_with_deleted).await.unwrap();
    assert_eq!(page.rows.len(), 2);
    assert!(page.rows[1].deleted && page.rows[1].name == "Cyd");
    assert_eq!(page.total, Total::Exact(2));
    let everyone = UserListQuery {
        include_deleted: true,
        ..Default::default()
    };
    assert_eq!(names(pool, &everyone).await, ["Ada", "Bob", "Cyd"]);
}

#[tokio::test]
async fn each_sort_pages_through_every_row_exactly_once_in_a_stable_order() {
    let db = fresh_database().await;
    let pool = &db.pool;
    // Many equal sort keys: names, emails (by case), roles and creation times repeat.
    for i in 0..23 {
        let name = match i % 4 {
            0 => "Same Name".to_string(),
            1 => "same name".to_string(),
            _ => format!("Person {:02}", i % 7),
        };
        let email = format!("{}@example.com", if i % 3 == 0 { "SHARED" } else { "x" });
        let role = if i % 5 == 0 { Role::Admin } else { Role::User };
        let id = insert(pool, &name, &email, role, i % 3).await;
        if i % 6 == 0 {
            soft_delete(pool, id).await;
        }
    }
    for include_deleted in [false, true] {
        for sort in SortField::ALL {
            for direction in [SortDirection::Asc, SortDirection::Desc] {
                let query = UserListQuery {
                    sort,
                    direction,
                    include_deleted,
                    page_size: 4,
                    ..Default::default()
                };
                let walked = walk_all_pages(pool, &query).await;
                let key = match sort {
                    SortField::Name => "lower(name)",
                    SortField::Email => "lower(email)",
                    SortField::Created => "created_at",
                    SortField::Role => "role",
                };
                let dir = direction.as_str();
                let expected =
                    ordered_ids(pool, &format!("{key} {dir}, id {dir}"), include_deleted).await;
                assert_eq!(
                    walked, expected,
                    "{sort} {dir} (deleted: {include_deleted}): every row once, in order"
                );
                let unique: HashSet<_> = walked.iter().collect();
                assert_eq!(unique.len(), walked.len());
            }
        }
    }
}

#[tokio::test]
async fn search_and_role_filter_page_correctly_too() {
    let db = fresh_database().await;
    let pool = &db.pool;
    for i in 0..17 {
        let role = if i % 2 == 0 { Role::Admin } else { Role::User };
        insert(
            pool,
            &format!("Match {}", i % 3),
            &format!("m{i}@ex.com"),
            role,
            i,
        )
        .await;
        insert(
            pool,
            &format!("Other {i}"),
            &format!("o{i}@ex.com"),
            role,
            i,
        )
        .await;
    }
    let query = UserListQuery {
        search: "match".into(),
        role: Some(Role::Admin),
        page_size: 2,
        sort: SortField::Created,
        direction: SortDirection::Desc,
        ..Default::default()
    };
    let walked = walk_all_pages(pool, &query).await;
    assert_eq!(walked.len(), 9);
    let first = list_users(pool, &query).await.unwrap();
    assert_eq!(first.total, Total::Exact(9));
}

#[tokio::test]
async fn a_cursor_that_is_not_one_is_a_bad_request() {
    let db = fresh_database().await;
    let pool = &db.pool;
    for i in 0..3 {
        insert(
            pool,
            &format!("P{i}"),
            &format!("p{i}@ex.com"),
            Role::User,
            i,
        )
        .await;
    }
    for garbage in ["garbage", "eyJzIjoibmFtZSJ9", "%%%", &"Z".repeat(5000)] {
        for from in [
            PageFrom::After(garbage.to_string()),
            PageFrom::Before(garbage.to_string()),
        ] {
            let query = UserListQuery {
                from,
                ..Default::default()
            };
            let error = list_users(pool, &query).await.unwrap_err();
            assert!(matches!(error, AdminError::BadRequest(_)), "{error:?}");
            assert_eq!(AppError::from(error).status_code(), 400);
        }
    }
    // A real cursor of another sort is refused as well.
    let by_name = list_users(
        pool,
        &UserListQuery {
            page_size: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let by_created = UserListQuery {
        sort: SortField::Created,
        from: PageFrom::After(by_name.next.unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        list_users(pool, &by_created).await,
        Err(AdminError::BadRequest(_))
    ));
}

#[tokio::test]
async fn huge_searches_are_clamped_and_bad_parameters_refused() {
    let db = fresh_database().await;
    let pool = &db.pool;
    insert(pool, "Ada", "ada@example.com", Role::User, 1).await;
    let params = UserListParams {
        q: Some("a".repeat(10_000)),
        size: Some("-5".into()),
        ..Default::default()
    };
    let query = UserListQuery::parse(&params).unwrap();
    assert_eq!(query.search.chars().count(), MAX_SEARCH_CHARS);
    assert_eq!(query.page_size, 1);
    let page = list_users(pool, &query).await.unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.total, Total::Exact(0));

    let multibyte = UserListParams {
        q: Some("é🦀".repeat(5_000)),
        ..Default::default()
    };
    let query = UserListQuery::parse(&multibyte).unwrap();
    list_users(pool, &query).await.unwrap();

    let unknown_role = UserListParams {
        role: Some("superuser".into()),
        ..Default::default()
    };
    assert!(UserListQuery::parse(&unknown_role).is_err());
}

#[tokio::test]
async fn totals_are_exact_for_small_views() {
    let db = fresh_database().await;
    let pool = &db.pool;
    for i in 0..30 {
        insert(
            pool,
            &format!("P{i}"),
            &format!("p{i}@ex.com"),
            Role::User,
            i,
        )
        .await;
    }
    let page = list_users(
        pool,
        &UserListQuery {
            page_size: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.total, Total::Exact(30));
    assert_eq!(page.total.describe(), "30 users");
    assert!(page.next.is_some() && page.previous.is_none());
}
