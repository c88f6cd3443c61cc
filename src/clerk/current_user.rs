//! The current user (the seed's `getCurrentUser`): who is signed in, as our database knows them.
//!
//! The database is the source of truth for the role. A token's `role` claim is at best a minute
//! old and at worst forged by nobody but stale: authorization never reads it. Every request
//! resolves the user from the database (through the users cache, which every role change
//! invalidates), so a demoted admin is refused on their very next request.

use crate::error::AppError;
use crate::users::{ClerkUserId, Role, User, UserId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The current user, with their whole row when `include_user` is true. Signed out: 401.
#[server(endpoint = "get_current_user")]
pub async fn get_current_user(include_user: bool) -> Result<CurrentUser, AppError> {
    let mut current = current_user().await?;
    if !include_user {
        current.user = None;
    }
    Ok(current)
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use super::CurrentUser;
    use crate::clerk::auth::Auth;
    use crate::clerk::redirects::SYNC_PATH;
    use crate::error::AppError;
    use crate::state::AppState;
    use crate::users::{ClerkUserId, Role, UserId};
    use axum::extract::FromRequestParts;
    use axum::http::request::Parts;

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

    /// Resolves the request's auth state against the database.
    pub async fn resolve(state: &AppState, auth: Option<&Auth>) -> Result<Resolution, AppError> {
        let Some(claims) = auth.and_then(Auth::claims) else {
            return Ok(Resolution::SignedOut);
        };
        let clerk_user_id = ClerkUserId::new(&claims.sub);
        // The `dbId` claim saves a lookup by Clerk id, but is only trusted when the row it
        // names belongs to the token's subject.
        let by_db_id = match claims.db_id().and_then(|id| id.parse::<UserId>().ok()) {
            Some(id) => state
                .users
                .get_user(id)
                .await?
                .filter(|user| user.clerk_user_id == clerk_user_id),
            None => None,
        };
        let user = match by_db_id {
            Some(user) => Some(user),
            // No (usable) dbId: the webhook may have got here first.
            None => state.users.get_user_by_clerk_id(&clerk_user_id).await?,
        };
        match user {
            Some(user) => Ok(Resolution::Active(CurrentUser {
                clerk_user_id,
                user_id: user.id,
                role: user.role,
                user: Some(user),
            })),
            None if state.users.is_deleted(&clerk_user_id).await? => Ok(Resolution::Deleted),
            None => Ok(Resolution::NotSynced(clerk_user_id)),
        }
    }

    /// The resolution cached on the request (the route guard may already have done the work).
    pub async fn resolve_parts(state: &AppState, parts: &Parts) -> Result<Resolution, AppError> {
        if let Some(resolution) = parts.extensions.get::<Resolution>() {
            return Ok(resolution.clone());
        }
        resolve(state, parts.extensions.get::<Auth>()).await
    }

    impl From<Resolution> for Result<CurrentUser, AppError> {
        fn from(resolution: Resolution) -> Self {
            match resolution {
                Resolution::Active(user) => Ok(user),
                Resolution::SignedOut => Err(AppError::Unauthorized),
                Resolution::NotSynced(_) => Err(AppError::Unauthorized),
                Resolution::Deleted => {
                    Err(AppError::Forbidden("This account has been deleted.".into()))
                }
            }
        }
    }

    fn request_parts() -> Result<(AppState, Parts), AppError> {
        let state = crate::state::app_state()?;
        let parts = leptos::prelude::use_context::<Parts>()
            .ok_or_else(|| AppError::internal("request parts missing from the Leptos context"))?;
        Ok((state, parts))
    }

    /// In a server function or a page: the signed-in, active user, or 401/403.
    pub async fn current_user() -> Result<CurrentUser, AppError> {
        let (state, parts) = request_parts()?;
        resolve_parts(&state, &parts).await?.into()
    }

    /// In a server function or a page: the signed-in user if there is one.
    pub async fn maybe_current_user() -> Result<Option<CurrentUser>, AppError> {
        let (state, parts) = request_parts()?;
        Ok(match resolve_parts(&state, &parts).await? {
            Resolution::Active(user) => Some(user),
            _ => None,
        })
    }

    /// In a server function or a page: an admin by the database's role, or 401/403.
    pub async fn require_admin() -> Result<CurrentUser, AppError> {
        let user = current_user().await?;
        if user.role != Role::Admin {
            return Err(AppError::Forbidden("Only admins may do this.".into()));
        }
        Ok(user)
    }

    /// axum extractor: the signed-in, active user (401/403 otherwise).
    impl FromRequestParts<AppState> for CurrentUser {
        type Rejection = AppError;

        async fn from_request_parts(
            parts: &mut Parts,
            state: &AppState,
        ) -> Result<Self, Self::Rejection> {
            resolve_parts(state, parts).await?.into()
        }
    }

    /// axum extractor: the signed-in user, if any.
    pub struct MaybeCurrentUser(pub Option<CurrentUser>);

    impl FromRequestParts<AppState> for MaybeCurrentUser {
        type Rejection = AppError;

        async fn from_request_parts(
            parts: &mut Parts,
            state: &AppState,
        ) -> Result<Self, Self::Rejection> {
            Ok(MaybeCurrentUser(
                match resolve_parts(state, parts).await? {
                    Resolution::Active(user) => Some(user),
                    _ => None,
                },
            ))
        }
    }

    /// The sync route's URL that brings a not-yet-synced user back to `return_to`.
    pub fn sync_url(return_to: &str) -> String {
        let mut url = String::from(SYNC_PATH);
        url.push_str("?redirect_url=");
        url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
        url
    }
}
