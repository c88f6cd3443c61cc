//! Catching up with the change feed: after `catch_up`, no change committed before it is served
//! from the cache, with no waiting for the notification; and it never waits on a feed that is
//! not running.

use super::{profile, store};
use crate::helpers::database::fresh_database;
use crate::helpers::outbox::eventually;
use std::time::Duration;
use warden::models::Role;

#[tokio::test]
async fn after_catch_up_no_earlier_change_is_served_from_the_cache() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    tokio::time::timeout(Duration::from_secs(1), users.catch_up())
        .await
        .expect("without a feed there is nothing to wait for");
    let follower = users.follow_database_changes();
    eventually(Duration::from_secs(30), "the feed listens", || {
        let live = users.change_feed_is_live();
        async move { live }
    })
    .await;
    let id = users
        .insert_user(&profile("user_cu", "Cleo"), None)
        .await
        .unwrap()
        .id;

    let mut role = Role::User;
    for round in 0..50 {
        assert_eq!(
            users.get_user(id).await.unwrap().unwrap().role,
            role,
            "round {round}: cached"
        );
        role = if role == Role::User {
            Role::Admin
        } else {
            Role::User
        };
        // As another instance or the CLI writes: the database announces it, nobody here is told.
        sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
            .bind(id)
            .bind(role)
            .execute(&db.pool)
            .await
            .unwrap();
        users.catch_up().await;
        assert_eq!(
            users.get_user(id).await.unwrap().unwrap().role,
            role,
            "round {round}: the change made before catch_up is seen"
        );
    }

    // Many requests at once share round trips, and all of them return.
    let waiting: Vec<_> = (0..64)
        .map(|_| {
            let users = users.clone();
            tokio::spawn(async move { users.catch_up().await })
        })
        .collect();
    for task in waiting {
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("a catch-up returns")
            .unwrap();
    }

    // A feed that ended is no feed: nothing to wait for, and the cache is bypassed.
    follower.abort();
    eventually(Duration::from_secs(10), "the feed is down", || {
        let live = users.change_feed_is_live();
        async move { !live }
    })
    .await;
    tokio::time::timeout(Duration::from_secs(1), users.catch_up())
        .await
        .expect("a feed that ended is not waited for");
}
