//! The admin overview's numbers and a person's data export.

use crate::models::roles::RoleChange;
use crate::models::user::User;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Sign-ups of one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySignups {
    #[serde(with = "time::serde::rfc3339")]
    pub day: OffsetDateTime,
    pub count: u64,
}

/// The numbers of the admin overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub active_admins: u64,
    pub active_users: u64,
    pub deleted: u64,
    /// The last 30 days, oldest first, today included, days without sign-ups as zero.
    pub signups: Vec<DailySignups>,
}

impl Overview {
    pub fn active(&self) -> u64 {
        self.active_admins + self.active_users
    }
}

/// "Download my data": everything warden holds about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDataExport {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The row of `users`, as stored (the role is the database's, the source of truth).
    pub user: User,
    /// Changes of this person's role, newest first.
    pub role_history: Vec<RoleChange>,
    /// Role changes this person made as an admin, newest first.
    pub role_changes_made: Vec<RoleChange>,
}
