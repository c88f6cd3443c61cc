//! The admin user list's query service against a real PostgreSQL: search, filters, sort,
//! keyset pages, cursors and totals.

mod matching;
mod paging;

use sqlx::PgPool;
use warden::admin::list::list_users;
use warden::models::user_list::{PageFrom, UserListQuery};
use warden::models::{Role, UserId};

/// Inserts a user; `age_days` sets `created_at` (equal ages give equal timestamps on purpose).
// TODO(store): raw SQL on `users`. The store's insert cannot set `created_at`, which the sort
// and paging tests need; a store API for seeding (or a documented exception) replaces it.
async fn insert(pool: &PgPool, name: &str, email: &str, role: Role, age_days: i32) -> UserId {
    sqlx::query_scalar(
        "INSERT INTO users (clerk_user_id, name, email, role, created_at)
         VALUES ('user_' || gen_random_uuid(), $1, $2, $3,
                 timestamptz '2026-11-01 12:00:00+00' - make_interval(days => $4))
         RETURNING id",
    )
    .bind(name)
    .bind(email)
    .bind(role)
    .bind(age_days)
    .fetch_one(pool)
    .await
    .unwrap()
}

// TODO(store): raw SQL on `users`, and not the store's delete on purpose: that redacts the name
// and email, and the tests find deleted users by name ("Cyd").
async fn soft_delete(pool: &PgPool, id: UserId) {
    sqlx::query("UPDATE users SET deleted_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
}

fn search(text: &str) -> UserListQuery {
    UserListQuery {
        search: text.into(),
        ..Default::default()
    }
}

async fn names(pool: &PgPool, query: &UserListQuery) -> Vec<String> {
    let page = list_users(pool, query).await.unwrap();
    page.rows.into_iter().map(|row| row.name).collect()
}

/// Every row of `query`'s view, following "Next" links; also checks the "Previous" links.
async fn walk_all_pages(pool: &PgPool, query: &UserListQuery) -> Vec<UserId> {
    let mut seen = Vec::new();
    let mut pages: Vec<Vec<UserId>> = Vec::new();
    let mut current = query.clone();
    loop {
        let page = list_users(pool, &current).await.unwrap();
        assert!(page.rows.len() <= current.page_size as usize);
        let ids: Vec<UserId> = page.rows.iter().map(|row| row.id).collect();
        // "Previous" from this page gives back exactly the page before it.
        if let (Some(previous_cursor), Some(previous_page)) = (&page.previous, pages.last()) {
            let back = list_users(
                pool,
                &UserListQuery {
                    from: PageFrom::Before(previous_cursor.clone()),
                    ..current.clone()
                },
            )
            .await
            .unwrap();
            let back_ids: Vec<UserId> = back.rows.iter().map(|row| row.id).collect();
            assert_eq!(
                &back_ids, previous_page,
                "Previous leads to the page before"
            );
        }
        seen.extend(ids.iter().copied());
        pages.push(ids);
        match page.next {
            Some(cursor) => current.from = PageFrom::After(cursor),
            None => break,
        }
    }
    seen
}
