//! The current user (the seed's `getCurrentUser`): who is signed in, as our database knows them.
//!
//! The database is the source of truth for the role. A token's `role` claim is at best a minute
//! old: authorization never reads it. Every request resolves the user from the database
//! (through the users cache, which every role change invalidates), so a demoted admin is
//! refused on their very next request.

use crate::clerk::session::SessionClaims;
use crate::error::AppError;
use crate::models::{ClerkUserId, CurrentUser, UserId};
use crate::users::{UserError, UserStore};

/// Who a request belongs to.
#[derive(Debug, Clone)]
pub enum Resolution {
    SignedOut,
    /// Signed in with Clerk, but not in our database yet: the sync route fixes that.
    NotSynced(ClerkUserId),
    /// Signed in with Clerk, but deleted here.
    Deleted,
    Active(CurrentUser),
}

impl Resolution {
    /// The active user, or why there is none as the error a caller answers with.
    pub fn into_current_user(self) -> Result<CurrentUser, AppError> {
        match self {
            Resolution::Active(user) => Ok(user),
            Resolution::SignedOut | Resolution::NotSynced(_) => Err(AppError::Unauthorized),
            Resolution::Deleted => {
                Err(AppError::Forbidden("This account has been deleted.".into()))
            }
        }
    }

    pub fn active(self) -> Option<CurrentUser> {
        match self {
            Resolution::Active(user) => Some(user),
            _ => None,
        }
    }
}

/// Resolves a request's verified session claims (if any) against the database.
pub async fn resolve(
    users: &UserStore,
    claims: Option<&SessionClaims>,
) -> Result<Resolution, UserError> {
    let Some(claims) = claims else {
        return Ok(Resolution::SignedOut);
    };
    let clerk_user_id = ClerkUserId::new(&claims.sub);
    // The `dbId` claim saves a lookup by Clerk id, but is only trusted when the row it names
    // belongs to the token's subject.
    let by_db_id = match claims.db_id().and_then(|id| id.parse::<UserId>().ok()) {
        Some(id) => users
            .get_user(id)
            .await?
            .filter(|user| user.clerk_user_id == clerk_user_id),
        None => None,
    };
    let user = match by_db_id {
        Some(user) => Some(user),
        // No (usable) dbId: the webhook may have got here first.
        None => users.get_user_by_clerk_id(&clerk_user_id).await?,
    };
    match user {
        Some(user) => Ok(Resolution::Active(CurrentUser {
            clerk_user_id,
            user_id: user.id,
            role: user.role,
            user: Some(user),
        })),
        None if users.is_deleted(&clerk_user_id).await? => Ok(Resolution::Deleted),
        None => Ok(Resolution::NotSynced(clerk_user_id)),
    }
}
