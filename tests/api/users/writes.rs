//! The store's writes: upserts, updates, validation, timestamps, deletion (redacted, never
//! brought back, also under concurrency).

use super::{profile, store};
use crate::helpers::database::fresh_database;
use std::time::Duration;
use warden::models::{ClerkUserId, Role};
use warden::users::UserError;

#[tokio::test]
async fn insert_user_creates_then_updates_the_same_row() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());

    let created = users
        .insert_user(&profile("user_a", "Ada Lovelace"), None)
        .await
        .unwrap();
    assert_eq!(created.name, "Ada Lovelace");
    assert_eq!(created.role, Role::User);
    assert!(created.deleted_at.is_none());

    let mut changed = profile("user_a", "Ada King");
    changed.image_url = None;
    let updated = users
        .insert_user(&changed, Some(Role::Admin))
        .await
        .unwrap();
    assert_eq!(updated.id, created.id, "an upsert keeps the row");
    assert_eq!(updated.name, "Ada King");
    assert_eq!(updated.image_url, None);
    assert_eq!(
        updated.role,
        Role::User,
        "role_if_new does not touch an existing user"
    );

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn insert_user_seeds_the_role_of_a_new_user() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let admin = users
        .insert_user(&profile("user_admin", "Grace Hopper"), Some(Role::Admin))
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let mut nameless = profile("user_b", "x");
    nameless.name = "   ".into();
    assert!(matches!(
        users.insert_user(&nameless, None).await,
        Err(UserError::Invalid(_))
    ));
    let mut no_email = profile("user_b", "Bob");
    no_email.email = "not-an-email".into();
    assert!(matches!(
        users.insert_user(&no_email, None).await,
        Err(UserError::Invalid(_))
    ));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn update_user_changes_an_existing_user_and_says_not_found_otherwise() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_c", "Carol"), None)
        .await
        .unwrap();

    let updated = users
        .update_user(&profile("user_c", "Caroline"))
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.name, "Caroline");

    let missing = users.update_user(&profile("user_nobody", "Nobody")).await;
    assert!(matches!(missing, Err(UserError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn updated_at_moves_on_every_update_and_created_at_does_not() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_t", "Tim"), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let updated = users
        .update_user(&profile("user_t", "Timothy"))
        .await
        .unwrap();
    assert!(
        updated.updated_at > created.updated_at,
        "{:?} > {:?}",
        updated.updated_at,
        created.updated_at
    );
    assert_eq!(updated.created_at, created.created_at);

    // Also for writes that bypass the store: the database keeps it current.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let raw: time::OffsetDateTime =
        sqlx::query_scalar("UPDATE users SET role = 'admin' WHERE id = $1 RETURNING updated_at")
            .bind(created.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(raw > updated.updated_at);
}

#[tokio::test]
async fn delete_user_redacts_pii_and_keeps_the_row() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_d", "Dora Secret"), None)
        .await
        .unwrap();

    let deleted = users
        .delete_user(&ClerkUserId::new("user_d"))
        .await
        .unwrap();
    assert_eq!(deleted.id, created.id);
    assert!(deleted.deleted_at.is_some());
    assert_eq!(deleted.name, "Deleted User");
    assert_eq!(deleted.email, "redacted@deleted.com");
    assert_eq!(deleted.image_url, None);

    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE name LIKE '%Dora%' OR email LIKE '%dora%' OR image_url IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "no PII of the deleted user is left");

    assert!(
        users.get_user(created.id).await.unwrap().is_none(),
        "deleted users are not active users"
    );
    assert!(users
        .get_user_by_clerk_id(&ClerkUserId::new("user_d"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn deleting_two_users_does_not_collide() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    users
        .insert_user(&profile("user_e1", "Eve One"), None)
        .await
        .unwrap();
    users
        .insert_user(&profile("user_e2", "Eve Two"), None)
        .await
        .unwrap();
    users
        .delete_user(&ClerkUserId::new("user_e1"))
        .await
        .unwrap();
    users
        .delete_user(&ClerkUserId::new("user_e2"))
        .await
        .unwrap();
    let deleted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE deleted_at IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(deleted, 2);
}

#[tokio::test]
async fn a_deleted_user_is_never_brought_back() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    let created = users
        .insert_user(&profile("user_f", "Frank"), None)
        .await
        .unwrap();
    users
        .delete_user(&ClerkUserId::new("user_f"))
        .await
        .unwrap();

    let again = users
        .insert_user(&profile("user_f", "Frank Again"), None)
        .await;
    assert!(matches!(again, Err(UserError::Deleted)), "{again:?}");
    let update = users.update_user(&profile("user_f", "Frank Again")).await;
    assert!(matches!(update, Err(UserError::Deleted)), "{update:?}");
    let twice = users.delete_user(&ClerkUserId::new("user_f")).await;
    assert!(matches!(twice, Err(UserError::Deleted)), "{twice:?}");

    let (count, name): (i64, String) =
        sqlx::query_as("SELECT count(*), max(name) FROM users WHERE clerk_user_id = 'user_f'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (count, name.as_str()),
        (1, "Deleted User"),
        "still one redacted row"
    );
    assert!(users.get_user(created.id).await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_upserts_and_a_delete_never_resurrect() {
    let db = fresh_database().await;
    let users = store(db.pool.clone());
    users
        .insert_user(&profile("user_race", "Racer"), None)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            if i == 10 {
                let _ = users.delete_user(&ClerkUserId::new("user_race")).await;
            } else {
                let _ = users
                    .insert_user(&profile("user_race", &format!("Racer {i}")), None)
                    .await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rows: Vec<(Option<time::OffsetDateTime>, String)> =
        sqlx::query_as("SELECT deleted_at, name FROM users WHERE clerk_user_id = 'user_race'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].0.is_some());
    assert_eq!(rows[0].1, "Deleted User");
}
