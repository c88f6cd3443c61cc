//! What roles add up to: the admin overview's counts and a user's data export.

use super::fixture;
use warden::models::roles::RoleActor;
use warden::models::{ClerkUserId, Role};

#[tokio::test]
async fn the_overview_counts_roles_deleted_and_daily_signups() {
    let f = fixture().await;
    f.user("Admin", Role::Admin).await;
    f.user("Bob", Role::User).await;
    f.user("Cyd", Role::User).await;
    f.users
        .delete_user(&ClerkUserId::new("user_cyd"))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (clerk_user_id, name, email, created_at)
         VALUES ('user_old', 'Old', 'old@example.com', now() - interval '3 days'),
                ('user_ancient', 'Ancient', 'an@example.com', now() - interval '90 days')",
    )
    .execute(&f.pool)
    .await
    .unwrap();
    let overview = warden::admin::stats::overview(&f.pool).await.unwrap();
    assert_eq!(overview.active_admins, 1);
    assert_eq!(overview.active_users, 3);
    assert_eq!(overview.deleted, 1);
    assert_eq!(overview.signups.len(), 30);
    let today = overview.signups.last().unwrap();
    assert_eq!(today.count, 3, "{:?}", overview.signups);
    assert_eq!(overview.signups.iter().map(|d| d.count).sum::<u64>(), 4);
}

#[tokio::test]
async fn the_export_holds_the_user_and_their_role_history() {
    let f = fixture().await;
    let admin = f.user("Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;
    f.change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User))
        .await
        .unwrap();
    let export = warden::admin::export::export_user_data(&f.users, bob)
        .await
        .unwrap();
    assert_eq!(export.user.id, bob);
    assert_eq!(export.user.role, Role::Admin);
    assert_eq!(export.role_history.len(), 1);
    assert!(export.role_changes_made.is_empty());
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["user"]["email"], "bob@example.com");
    let admins_export = warden::admin::export::export_user_data(&f.users, admin)
        .await
        .unwrap();
    assert_eq!(admins_export.role_changes_made.len(), 1);
}
