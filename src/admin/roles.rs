//! Role management: the one way a role changes, for the admin pages and the CLI alike.
//!
//! # How a change stays correct under concurrency
//! [`set_user_role`] runs one transaction that
//! 1. takes a transaction-scoped advisory lock ([`ROLE_CHANGE_LOCK`]) that every role change
//!    takes: changes run one at a time, so the admin count a change checks cannot move until it
//!    commits. Two admins demoting the last two admins at once are serialized, and the second
//!    finds a single admin left and is refused. (Locking "all admin rows" would also work, but
//!    would not stop a concurrent *promotion-then-demotion* from interleaving; one lock is
//!    simpler to reason about, and role changes are rare.)
//! 2. locks the target row (`FOR UPDATE`), so that a concurrent soft delete waits for us;
//! 3. re-reads the actor's role: an admin demoted a moment ago may not act on a form they
//!    loaded as an admin;
//! 4. compares the role with the one the form showed. Already the target role: a no-op (a
//!    double submit lands here, and writes nothing). Changed to something else: refused as stale;
//! 5. writes the role, the audit row and the outbox job that mirrors `{dbId, role}` to Clerk.
//!
//! The cache is invalidated after the commit, so the target's next request reads the new role.

use crate::admin::AdminError;
use crate::models::roles::{RoleActor, RoleChange, RoleChangeOutcome, MAX_REASON_CHARS};
use crate::models::{ClerkUserId, Role, UserId};
use crate::sync::outbox;
use crate::users::UserStore;
use sqlx::PgPool;
use time::OffsetDateTime;

/// The advisory lock key every role change holds until it commits ("warden/roles" in ASCII).
pub const ROLE_CHANGE_LOCK: i64 = 0x7761_7264_656e_726c;

/// What an admin (or the CLI) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChangeRequest {
    pub actor: RoleActor,
    pub target: UserId,
    pub new_role: Role,
    /// Optional, at most [`MAX_REASON_CHARS`] characters; blank means none.
    pub reason: Option<String>,
    /// The role the form showed. `None` (the CLI) means "whatever it is now".
    pub expected_current_role: Option<Role>,
}

/// Changes a user's role, with its audit row and outbox job, in one transaction. See the
/// module documentation for the rules and how they hold under concurrency.
pub async fn set_user_role(
    users: &UserStore,
    request: RoleChangeRequest,
) -> Result<RoleChangeOutcome, AdminError> {
    let reason = clean_reason(request.reason.as_deref())?;
    let mut tx = users.pool().begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(ROLE_CHANGE_LOCK)
        .execute(&mut *tx)
        .await?;

    let target = users
        .lock_in(&mut tx, request.target)
        .await?
        .ok_or_else(|| AdminError::NotFound("There is no user with this id.".into()))?;

    if let RoleActor::Admin(actor) = &request.actor {
        if !users.is_active_admin_in(&mut tx, *actor).await? {
            return Err(AdminError::ActorNotAdmin);
        }
    }

    if target.role == request.new_role {
        // Nothing to do, whatever the form showed: the user already is what was asked for.
        return Ok(RoleChangeOutcome::Unchanged {
            user_id: request.target,
            name: target.name,
            role: target.role,
        });
    }
    if let Some(expected) = request.expected_current_role {
        if expected != target.role {
            return Err(AdminError::StaleForm {
                name: target.name,
                expected,
                actual: target.role,
            });
        }
    }
    if target.deleted_at.is_some() {
        return Err(AdminError::DeletedUser { name: target.name });
    }
    if target.role == Role::Admin {
        // Serialized by ROLE_CHANGE_LOCK: no other change can move this count before we commit.
        if users.count_active_admins_in(&mut tx).await? <= 1 {
            return Err(AdminError::LastAdmin { name: target.name });
        }
    }

    users
        .set_role_in(&mut tx, request.target, request.new_role)
        .await?;
    let (actor_kind, actor_user_id) = match &request.actor {
        RoleActor::Admin(id) => ("admin", Some(*id)),
        RoleActor::Cli => ("cli", None),
    };
    sqlx::query(
        "INSERT INTO role_changes (user_id, actor_kind, actor_user_id, from_role, to_role, reason)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(request.target)
    .bind(actor_kind)
    .bind(actor_user_id)
    .bind(target.role)
    .bind(request.new_role)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    outbox::enqueue_metadata(&mut tx, request.target).await?;
    tx.commit().await?;

    // After the commit: a reader that reloads now must find the new role.
    users.invalidate_user(request.target, &target.clerk_user_id);
    tracing::info!(
        user = %request.target,
        actor = ?request.actor,
        from = %target.role,
        to = %request.new_role,
        "role changed"
    );
    Ok(RoleChangeOutcome::Changed {
        user_id: request.target,
        clerk_user_id: target.clerk_user_id,
        name: target.name,
        from: target.role,
        to: request.new_role,
    })
}

/// A reason is optional; a blank one is none, and a long one is refused rather than cut (it is
/// an audit record: it should say what the admin wrote, all of it).
fn clean_reason(reason: Option<&str>) -> Result<Option<String>, AdminError> {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AdminError::Invalid(format!(
            "A reason can have at most {MAX_REASON_CHARS} characters."
        )));
    }
    Ok(Some(reason.to_owned()))
}

/// The role changes of a user, newest first.
pub async fn role_history(pool: &PgPool, user_id: UserId) -> Result<Vec<RoleChange>, AdminError> {
    Ok(sqlx::query_as::<_, RoleChangeRow>(
        "SELECT c.id, c.user_id, c.actor_user_id,
                CASE WHEN c.actor_kind = 'cli' THEN 'command line' ELSE a.name END AS actor_name,
                c.from_role, c.to_role, c.reason, c.changed_at
         FROM role_changes c LEFT JOIN users a ON a.id = c.actor_user_id
         WHERE c.user_id = $1
         ORDER BY c.changed_at DESC, c.id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(RoleChangeRow::into_change)
    .collect())
}

/// The role changes an admin made, newest first ("Download my data").
pub async fn role_changes_by(pool: &PgPool, actor: UserId) -> Result<Vec<RoleChange>, AdminError> {
    Ok(sqlx::query_as::<_, RoleChangeRow>(
        "SELECT c.id, c.user_id, c.actor_user_id, a.name AS actor_name,
                c.from_role, c.to_role, c.reason, c.changed_at
         FROM role_changes c JOIN users a ON a.id = c.actor_user_id
         WHERE c.actor_user_id = $1
         ORDER BY c.changed_at DESC, c.id DESC",
    )
    .bind(actor)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(RoleChangeRow::into_change)
    .collect())
}

#[derive(sqlx::FromRow)]
struct RoleChangeRow {
    id: i64,
    user_id: UserId,
    actor_user_id: Option<UserId>,
    actor_name: Option<String>,
    from_role: Role,
    to_role: Role,
    reason: Option<String>,
    changed_at: OffsetDateTime,
}

impl RoleChangeRow {
    fn into_change(self) -> RoleChange {
        RoleChange {
            id: self.id,
            user_id: self.user_id,
            actor_user_id: self.actor_user_id,
            actor_name: self.actor_name.unwrap_or_else(|| "unknown".into()),
            from_role: self.from_role,
            to_role: self.to_role,
            reason: self.reason,
            changed_at: self.changed_at,
        }
    }
}

/// How the CLI names a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    Email(String),
    ClerkId(ClerkUserId),
}

/// The one active user `lookup` names. An email shared by several active users is refused: the
/// CLI must not guess whom to make an admin.
pub async fn find_user_for_cli(
    users: &UserStore,
    lookup: &UserLookup,
) -> Result<UserId, AdminError> {
    let matches: Vec<UserId> = match lookup {
        UserLookup::Email(email) => users.active_ids_by_email(email).await?,
        UserLookup::ClerkId(clerk_id) => {
            users.id_by_clerk_id(clerk_id).await?.into_iter().collect()
        }
    };
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(AdminError::NotFound(match lookup {
            UserLookup::Email(email) => format!(
                "No active user has the email {email:?}. They must sign in once (or be synced \
                 from Clerk) before they get a role."
            ),
            UserLookup::ClerkId(id) => format!("No user has the Clerk id {id:?}."),
        })),
        _ => Err(AdminError::Invalid(
            "Several active users have this email; name the user with --clerk-id instead.".into(),
        )),
    }
}
