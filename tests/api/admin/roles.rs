//! Role management against a real PostgreSQL: changes, audit rows, the last-admin guard under
//! concurrency, double submits, deleted users, cache invalidation; the overview and the export.

use crate::helpers::database::fresh_database;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use warden::admin::model::{RoleActor, RoleChangeOutcome};
use warden::admin::roles::{role_history, set_user_role, RoleChangeRequest};
use warden::admin::AdminError;
use warden::cache::CacheTags;
use warden::error::AppError;
use warden::users::{ClerkUserId, Role, UserId, UserProfile, UserStore};

struct Fixture {
    pool: PgPool,
    tags: Arc<CacheTags>,
    users: UserStore,
}

async fn fixture() -> Fixture {
    let db = fresh_database().await;
    let tags = CacheTags::new(Duration::from_secs(60));
    let users = UserStore::new(db.pool.clone(), tags.clone(), 1000, Duration::from_secs(60));
    Fixture {
        pool: db.pool,
        tags,
        users,
    }
}

impl Fixture {
    async fn user(&self, name: &str, role: Role) -> UserId {
        let clerk = format!("user_{}", name.to_lowercase().replace(' ', "_"));
        self.users
            .insert_user(
                &UserProfile {
                    clerk_user_id: ClerkUserId::new(&clerk),
                    name: name.into(),
                    email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                    image_url: None,
                },
                Some(role),
            )
            .await
            .unwrap()
            .id
    }

    async fn change(
        &self,
        actor: RoleActor,
        target: UserId,
        new_role: Role,
        expected: Option<Role>,
    ) -> Result<RoleChangeOutcome, AdminError> {
        set_user_role(
            &self.pool,
            &self.tags,
            RoleChangeRequest {
                actor,
                target,
                new_role,
                reason: Some("because".into()),
                expected_current_role: expected,
            },
        )
        .await
    }

    async fn role_of(&self, id: UserId) -> Role {
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn audit_rows(&self, id: UserId) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM role_changes WHERE user_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

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
        &f.pool,
        &f.tags,
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
        &f.pool,
        &f.tags,
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
    let export = warden::admin::export::export_user_data(&f.pool, bob)
        .await
        .unwrap();
    assert_eq!(export.user.id, bob);
    assert_eq!(export.user.role, Role::Admin);
    assert_eq!(export.role_history.len(), 1);
    assert!(export.role_changes_made.is_empty());
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["user"]["email"], "bob@example.com");
    let admins_export = warden::admin::export::export_user_data(&f.pool, admin)
        .await
        .unwrap();
    assert_eq!(admins_export.role_changes_made.len(), 1);
}
