//! Who a request belongs to, as our database knows them.

use crate::models::user::{ClerkUserId, Role, User, UserId};
use serde::{Deserialize, Serialize};

/// The signed-in, active user. The role is the database's, never a token's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub clerk_user_id: ClerkUserId,
    pub user_id: UserId,
    pub role: Role,
    /// The whole row, when it was asked for.
    pub user: Option<User>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
