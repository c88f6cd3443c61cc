//! The axum extractor for handlers: the signed-in, active user (`CurrentUser`), or 401/403.
//! The role is the database's.

use crate::app::auth::resolve_parts;
use crate::app::state::AppState;
use crate::error::AppError;
use crate::models::CurrentUser;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        resolve_parts(state, parts).await?.into_current_user()
    }
}
