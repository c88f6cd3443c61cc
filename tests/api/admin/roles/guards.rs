//! The changes that are refused: the last admin's demotion (also under concurrency), double
//! submits and stale forms, deleted targets, actors who are not active admins.

use super::fixture;
use warden::admin::AdminError;
use warden::error::AppError;
use warden::models::roles::{RoleActor, RoleChangeOutcome};
use warden::models::{ClerkUserId, Role, UserId};

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_not_even_by_themselves() {
    let f = fixture().await;
    let only = f.user("Only Admin", Role::Admin).await;
    // A deleted admin does not count.
    let gone = f.user("Gone Admin", Role::Admin).await;
    f.users
        .delete_user(&ClerkUserId::new("user_gone_admin"))
        .await
        .unwrap();
    let _ = gone;

    for actor in [RoleActor::Admin(only), RoleActor::Cli] {
        let error = f
            .change(actor, only, Role::User, Some(Role::Admin))
            .await
            .unwrap_err();
        assert!(matches!(error, AdminError::LastAdmin { .. }), "{error:?}");
        let app = AppError::from(error);
        assert_eq!(app.status_code(), 422);
        assert_eq!(
            app.to_string(),
            "Only Admin is the last admin; promote someone else first."
        );
    }
    assert_eq!(f.role_of(only).await, Role::Admin);
    assert_eq!(f.audit_rows(only).await, 0);
}

#[tokio::test]
async fn two_concurrent_demotions_of_the_last_two_admins_cannot_both_succeed() {
    for round in 0..5 {
        let f = fixture().await;
        let a = f.user(&format!("A{round}"), Role::Admin).await;
        let b = f.user(&format!("B{round}"), Role::Admin).await;
        // Each demotes the other at the same moment, on its own connection.
        let (first, second) = tokio::join!(
            f.change(RoleActor::Admin(a), b, Role::User, Some(Role::Admin)),
            f.change(RoleActor::Admin(b), a, Role::User, Some(Role::Admin)),
        );
        let successes = [&first, &second].iter().filter(|r| r.is_ok()).count();
        assert_eq!(successes, 1, "round {round}: {first:?} / {second:?}");
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
        assert_eq!(admins, 1);
        // And self-demotions of both at once, from the CLI.
        let f = fixture().await;
        let a = f.user(&format!("C{round}"), Role::Admin).await;
        let b = f.user(&format!("D{round}"), Role::Admin).await;
        let (first, second) = tokio::join!(
            f.change(RoleActor::Cli, a, Role::User, None),
            f.change(RoleActor::Cli, b, Role::User, None),
        );
        assert_eq!(
            [&first, &second].iter().filter(|r| r.is_ok()).count(),
            1,
            "{first:?} / {second:?}"
        );
        let refused = if first.is_err() { first } else { second };
        assert!(matches!(refused, Err(AdminError::LastAdmin { .. })));
    }
}

#[tokio::test]
async fn a_concurrent_double_submit_writes_one_audit_row() {
    let f = fixture().await;
    let admin = f.user("Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;
    let (first, second) = tokio::join!(
        f.change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User)),
        f.change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User)),
    );
    let outcomes = [first.unwrap(), second.unwrap()];
    let changed = outcomes
        .iter()
        .filter(|o| matches!(o, RoleChangeOutcome::Changed { .. }))
        .count();
    assert_eq!(changed, 1, "{outcomes:?}");
    assert_eq!(f.audit_rows(bob).await, 1);
    // A stale form submitted again later is also a no-op.
    let again = f
        .change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User))
        .await
        .unwrap();
    assert!(matches!(again, RoleChangeOutcome::Unchanged { .. }));
    assert_eq!(
        again.describe(),
        "Bob already is an admin; nothing was changed."
    );
    assert_eq!(f.audit_rows(bob).await, 1);
}

#[tokio::test]
async fn a_stale_form_that_no_longer_matches_is_refused() {
    let f = fixture().await;
    let admin = f.user("Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;
    // The page showed Bob as an admin (and asked to keep... anything but what he is now).
    let error = f
        .change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(error, AdminError::StaleForm { .. }), "{error:?}");
    assert_eq!(f.audit_rows(bob).await, 0);
}

#[tokio::test]
async fn deleted_users_cannot_be_promoted() {
    let f = fixture().await;
    let admin = f.user("Admin", Role::Admin).await;
    let bob = f.user("Bob", Role::User).await;
    f.users
        .delete_user(&ClerkUserId::new("user_bob"))
        .await
        .unwrap();
    let error = f
        .change(RoleActor::Admin(admin), bob, Role::Admin, Some(Role::User))
        .await
        .unwrap_err();
    assert!(matches!(error, AdminError::DeletedUser { .. }), "{error:?}");
    assert_eq!(f.role_of(bob).await, Role::User);
    assert_eq!(f.audit_rows(bob).await, 0);
}

#[tokio::test]
async fn only_an_active_admin_may_act_and_unknown_users_are_not_found() {
    let f = fixture().await;
    let _admin = f.user("Admin", Role::Admin).await;
    let mallory = f.user("Mallory", Role::User).await;
    let bob = f.user("Bob", Role::User).await;
    let error = f
        .change(
            RoleActor::Admin(mallory),
            bob,
            Role::Admin,
            Some(Role::User),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AdminError::ActorNotAdmin));
    assert_eq!(AppError::from(error).status_code(), 403);
    let error = f
        .change(
            RoleActor::Cli,
            UserId(uuid::Uuid::new_v4()),
            Role::Admin,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(AppError::from(error).status_code(), 404);
}
