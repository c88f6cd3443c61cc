//! Role changes and what they leave: audit rows (by an admin, by the CLI), the reason, and a
//! cache that shows the new role on the next read.

use super::fixture;
use warden::admin::roles::{role_history, set_user_role, RoleChangeRequest};
use warden::error::AppError;
use warden::models::roles::{RoleActor, RoleChangeOutcome};
use warden::models::{ClerkUserId, Role, UserId};

#[tokio::test]
async fn an_admin_promotes_and_demotes_with_an_audit_row_each_time() {
    let f = fixture().await;
    let admin = f.user("Ada Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;

    let outcome = f
        .change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User))
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        RoleChangeOutcome::Changed {
            from: Role::User,
            to: Role::Admin,
            ..
        }
    ));
    assert_eq!(outcome.describe(), "Bob is now an admin (was user).");
    assert_eq!(f.role_of(bob).await, Role::Admin);

    f.change(RoleActor::Admin(admin), bob, Role::User, Some(Role::Admin))
        .await
        .unwrap();
    assert_eq!(f.role_of(bob).await, Role::User);

    let history = role_history(&f.pool, bob).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    let newest = &history[0];
    assert_eq!(
        (newest.from_role, newest.to_role),
        (Role::Admin, Role::User)
    );
    assert_eq!(newest.actor_user_id, Some(admin));
    assert_eq!(newest.actor_name, "Ada Admin");
    assert_eq!(newest.reason.as_deref(), Some("because"));
    assert_eq!(
        (history[1].from_role, history[1].to_role),
        (Role::User, Role::Admin)
    );
}

#[tokio::test]
async fn the_cli_is_audited_as_cli() {
    let f = fixture().await;
    let first = f.user("First", Role::User).await;
    f.change(RoleActor::Cli, first, Role::Admin, None)
        .await
        .unwrap();
    let (kind, actor): (String, Option<UserId>) =
        sqlx::query_as("SELECT actor_kind, actor_user_id FROM role_changes WHERE user_id = $1")
            .bind(first)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!((kind.as_str(), actor), ("cli", None));
    assert_eq!(
        role_history(&f.pool, first).await.unwrap()[0].actor_name,
        "command line"
    );
}

#[tokio::test]
async fn the_cache_is_invalidated_so_the_next_read_sees_the_new_role() {
    let f = fixture().await;
    let admin = f.user("Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;
    // Fill the cache by id and by Clerk id.
    assert_eq!(
        f.users.get_user(bob).await.unwrap().unwrap().role,
        Role::User
    );
    let clerk = ClerkUserId::new("user_bob");
    assert_eq!(
        f.users
            .get_user_by_clerk_id(&clerk)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::User
    );
    f.change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User))
        .await
        .unwrap();
    assert_eq!(
        f.users.get_user(bob).await.unwrap().unwrap().role,
        Role::Admin
    );
    assert_eq!(
        f.users
            .get_user_by_clerk_id(&clerk)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
}

#[tokio::test]
async fn a_reason_is_optional_and_bounded() {
    let f = fixture().await;
    let bob = f.user("Bob", Role::User).await;
    let too_long = set_user_role(
        &f.users,
        RoleChangeRequest {
            actor: RoleActor::Cli,
            target: bob,
            new_role: Role::Admin,
            reason: Some("x".repeat(501)),
            expected_current_role: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(AppError::from(too_long).status_code(), 422);
    set_user_role(
        &f.users,
        RoleChangeRequest {
            actor: RoleActor::Cli,
            target: bob,
            new_role: Role::Admin,
            reason: Some("   ".into()),
            expected_current_role: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(role_history(&f.pool, bob).await.unwrap()[0].reason, None);
}
