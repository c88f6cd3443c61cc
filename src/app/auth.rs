//! The current user inside pages and server functions. Every server function authorises
//! itself with these (a route guard is only UX), and the role they give is the database's.

use crate::error::AppError;
use crate::models::CurrentUser;
use leptos::prelude::*;

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
    use crate::app::state::{app_state, AppState};
    use crate::clerk::request::Auth;
    use crate::error::AppError;
    use crate::models::{CurrentUser, Role};
    use crate::users::current::{resolve, Resolution};
    use axum::http::request::Parts;

    /// The resolution cached on the request (the route guard may already have done the work).
    pub async fn resolve_parts(state: &AppState, parts: &Parts) -> Result<Resolution, AppError> {
        if let Some(resolution) = parts.extensions.get::<Resolution>() {
            return Ok(resolution.clone());
        }
        let claims = parts.extensions.get::<Auth>().and_then(Auth::claims);
        Ok(resolve(&state.users, claims).await?)
    }

    /// The request being answered, from the Leptos context.
    pub fn request_parts() -> Result<Parts, AppError> {
        leptos::prelude::use_context::<Parts>()
            .ok_or_else(|| AppError::internal("request parts missing from the Leptos context"))
    }

    /// The request's verified Clerk session, if it has one.
    pub fn request_auth() -> Result<Option<Auth>, AppError> {
        Ok(request_parts()?.extensions.get::<Auth>().cloned())
    }

    /// In a server function or a page: the signed-in, active user, or 401/403.
    pub async fn current_user() -> Result<CurrentUser, AppError> {
        let (state, parts) = (app_state()?, request_parts()?);
        resolve_parts(&state, &parts).await?.into_current_user()
    }

    /// In a server function or a page: the signed-in user if there is one.
    pub async fn maybe_current_user() -> Result<Option<CurrentUser>, AppError> {
        let (state, parts) = (app_state()?, request_parts()?);
        Ok(resolve_parts(&state, &parts).await?.active())
    }

    /// In a server function or a page: an admin by the database's role, or 401/403.
    pub async fn require_admin() -> Result<CurrentUser, AppError> {
        let user = current_user().await?;
        if user.role != Role::Admin {
            return Err(AppError::Forbidden("Only admins may do this.".into()));
        }
        Ok(user)
    }
}
