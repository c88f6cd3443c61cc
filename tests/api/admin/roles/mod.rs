//! Role management against a real PostgreSQL: changes, audit rows, the last-admin guard under
//! concurrency, double submits, deleted users, cache invalidation; the overview and the export.

mod changes;
mod guards;
mod reports;

use crate::helpers::database::fresh_database;
use sqlx::PgPool;
use std::time::Duration;
use warden::admin::roles::{set_user_role, RoleChangeRequest};
use warden::admin::AdminError;
use warden::cache::CacheTags;
use warden::models::roles::{RoleActor, RoleChangeOutcome};
use warden::models::{ClerkUserId, Role, UserId, UserProfile};
use warden::users::UserStore;

struct Fixture {
    pool: PgPool,
    users: UserStore,
}

async fn fixture() -> Fixture {
    let db = fresh_database().await;
    let tags = CacheTags::new(Duration::from_secs(60));
    let users = UserStore::new(db.pool.clone(), tags.clone(), 1000, Duration::from_secs(60));
    Fixture {
        pool: db.pool,
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
            &self.users,
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
