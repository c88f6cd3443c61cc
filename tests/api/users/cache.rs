//! The store's cache: reads are cached, and every write (through this store, another store on
//! the same tag clock, or another process) reaches it.

use super::{profile, store};
use crate::helpers::database::fresh_database;
use std::sync::Arc;
use std::time::Duration;
use warden::cache::CacheTags;
use warden::models::{ClerkUserId, Role};
use warden::users::UserStore;

#[tokio::test]
async fn reads_are_cached_and_every_mutation_invalidates() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_g", "Gina"), None)
        .await
        .unwrap();
    let clerk_id = ClerkUserId::new("user_g");

    assert_eq!(
        users.get_user(created.id).await.unwrap().unwrap().name,
        "Gina"
    );
    assert_eq!(
        users
            .get_user_by_clerk_id(&clerk_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Gina"
    );

    // A write that bypasses the store is invisible while cached: proof that reads are cached.
    sqlx::query("UPDATE users SET name = 'Behind your back' WHERE id = $1")
        .bind(created.id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        users.get_user(created.id).await.unwrap().unwrap().name,
        "Gina"
    );

    // A write through the store is visible on the very next read, by id and by Clerk id.
    users
        .update_user(&profile("user_g", "Georgina"))
        .await
        .unwrap();
    assert_eq!(
        users.get_user(created.id).await.unwrap().unwrap().name,
        "Georgina"
    );
    assert_eq!(
        users
            .get_user_by_clerk_id(&clerk_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Georgina"
    );

    users
        .insert_user(&profile("user_g", "Gigi"), None)
        .await
        .unwrap();
    assert_eq!(
        users.get_user(created.id).await.unwrap().unwrap().name,
        "Gigi"
    );

    users.delete_user(&clerk_id).await.unwrap();
    assert!(users.get_user(created.id).await.unwrap().is_none());
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_cached_miss_is_invalidated_by_the_insert() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let clerk_id = ClerkUserId::new("user_h");
    assert!(users
        .get_user_by_clerk_id(&clerk_id)
        .await
        .unwrap()
        .is_none());
    users
        .insert_user(&profile("user_h", "Hal"), None)
        .await
        .unwrap();
    assert_eq!(
        users
            .get_user_by_clerk_id(&clerk_id)
            .await
            .unwrap()
            .unwrap()
            .name,
        "Hal"
    );
}

#[tokio::test]
async fn two_stores_on_one_tag_clock_see_each_others_writes() {
    // The invalidation API is the shared clock, not the store instance.
    let db = fresh_database().await;
    let tags = CacheTags::new(Duration::from_secs(60));
    let a = UserStore::new(
        db.pool.clone(),
        Arc::clone(&tags),
        100,
        Duration::from_secs(60),
    );
    let b = UserStore::new(db.pool.clone(), tags, 100, Duration::from_secs(60));
    let created = a
        .insert_user(&profile("user_i", "Ivy"), None)
        .await
        .unwrap();
    assert_eq!(b.get_user(created.id).await.unwrap().unwrap().name, "Ivy");
    a.update_user(&profile("user_i", "Ivy League"))
        .await
        .unwrap();
    assert_eq!(
        b.get_user(created.id).await.unwrap().unwrap().name,
        "Ivy League"
    );
}

#[tokio::test]
async fn changes_made_by_another_process_reach_the_cache() {
    // The CLI, another app instance or plain SQL: the database announces the change.
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let follower = users.follow_database_changes();
    let created = users
        .insert_user(&profile("user_n", "Nora"), None)
        .await
        .unwrap();
    assert_eq!(
        users.get_user(created.id).await.unwrap().unwrap().role,
        Role::User
    );

    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
        .bind(created.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let mut role = Role::User;
    for _ in 0..100 {
        role = users.get_user(created.id).await.unwrap().unwrap().role;
        if role == Role::Admin {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        role,
        Role::Admin,
        "the cached row was invalidated by the notification"
    );
    follower.abort();
}
