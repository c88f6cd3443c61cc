//! Role changes: who made them, what they did, and the audit trail's lines.

use crate::models::user::{ClerkUserId, Role, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest reason a role change may carry (the database checks it too).
pub const MAX_REASON_CHARS: usize = 500;

/// Who changed a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleActor {
    /// An admin, through the admin pages.
    Admin(UserId),
    /// `warden users set-role` on the command line.
    Cli,
}

/// One line of a user's role history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub id: i64,
    pub user_id: UserId,
    /// `None` for the command line.
    pub actor_user_id: Option<UserId>,
    /// The actor's current name, or "command line".
    pub actor_name: String,
    pub from_role: Role,
    pub to_role: Role,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

/// What a role change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleChangeOutcome {
    Changed {
        user_id: UserId,
        clerk_user_id: ClerkUserId,
        name: String,
        from: Role,
        to: Role,
    },
    /// The user already had that role (a double submit, or someone else was quicker): nothing
    /// was written.
    Unchanged {
        user_id: UserId,
        name: String,
        role: Role,
    },
}

impl RoleChangeOutcome {
    /// A sentence for the page or the terminal.
    pub fn describe(&self) -> String {
        match self {
            RoleChangeOutcome::Changed { name, from, to, .. } => {
                format!("{name} is now {} (was {}).", article_role(*to), from)
            }
            RoleChangeOutcome::Unchanged { name, role, .. } => {
                format!(
                    "{name} already is {}; nothing was changed.",
                    article_role(*role)
                )
            }
        }
    }
}

fn article_role(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::User => "a user",
    }
}
