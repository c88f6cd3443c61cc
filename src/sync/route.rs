//! `GET /api/clerk/syncUsers` (the seed's sync): copy the signed-in person from Clerk into our
//! database, write `{dbId, role}` back into their Clerk `public_metadata`, and return to where
//! they were going, on our own origin only.

use crate::clerk::api::{with_retries, ClerkApiError, RetryPolicy};
use crate::clerk::auth::Auth;
use crate::clerk::guard::sign_in_url;
use crate::clerk::redirects::safe_return_path;
use crate::error::AppError;
use crate::state::AppState;
use crate::users::store::VersionedUpsert;
use crate::users::{ClerkUserId, Role, User};
use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SyncQuery {
    redirect_url: Option<String>,
}

pub async fn sync_users(
    State(state): State<AppState>,
    Query(query): Query<SyncQuery>,
    parts: Parts,
) -> Response {
    let target = return_target(&state, &query, &parts);
    let Some(claims) = parts.extensions.get::<Auth>().and_then(Auth::claims) else {
        return Redirect::to(&sign_in_url(&target)).into_response();
    };
    let clerk_user_id = ClerkUserId::new(&claims.sub);
    match sync_user(&state, &clerk_user_id).await {
        Ok(_) => {
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => crate::server::render_error_page(&state, parts, error).await,
    }
}

/// `redirect_url` first, then a same-origin Referer, else `/`.
fn return_target(state: &AppState, query: &SyncQuery, parts: &Parts) -> String {
    let origin = &state.config.app_origin;
    query
        .redirect_url
        .as_deref()
        .and_then(|candidate| safe_return_path(candidate, origin))
        .or_else(|| {
            parts
                .headers
                .get(header::REFERER)
                .and_then(|value| value.to_str().ok())
                .and_then(|referer| safe_return_path(referer, origin))
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// Fetches the user from Clerk, upserts them, and mirrors `{dbId, role}` into Clerk's
/// `public_metadata` when Clerk's copy differs (a merge: other keys are kept).
pub async fn sync_user(state: &AppState, clerk_user_id: &ClerkUserId) -> Result<User, AppError> {
    let api = &state.clerk.api;
    let policy = RetryPolicy::default();
    let clerk_user = with_retries(policy, || api.get_user(clerk_user_id))
        .await
        .map_err(|error| clerk_failure("fetching the user", error))?;
    let profile = clerk_user.to_profile().map_err(|_| {
        AppError::Unprocessable(
            "Your Clerk account has no email address. Add one to your account, then try again."
                .into(),
        )
    })?;
    let role_if_new = clerk_user
        .metadata_str("role")
        .and_then(|role| role.parse::<Role>().ok());
    // Versioned like the webhooks, so that a delayed older event cannot undo this sync.
    let mut tx = state.pool.begin().await?;
    let upserted = state
        .users
        .upsert_clerk_version_in(&mut tx, &profile, role_if_new, clerk_user.updated_at)
        .await?;
    tx.commit().await?;
    let user = match upserted {
        VersionedUpsert::Created(user) | VersionedUpsert::Updated(user) => {
            state.users.invalidate_user(user.id, &user.clerk_user_id);
            user
        }
        // We already hold this version or a newer one (a webhook got here first).
        VersionedUpsert::Stale(user) => user,
        VersionedUpsert::Deleted(_) => {
            return Err(AppError::Forbidden("This account has been deleted.".into()))
        }
    };
    let db_id = user.id.to_string();
    let in_step = clerk_user.metadata_str("dbId") == Some(db_id.as_str())
        && clerk_user.metadata_str("role") == Some(user.role.as_str());
    if !in_step {
        let metadata = serde_json::json!({ "dbId": db_id, "role": user.role.as_str() });
        with_retries(policy, || {
            api.merge_public_metadata(clerk_user_id, metadata.clone())
        })
        .await
        .map_err(|error| clerk_failure("writing the user's metadata", error))?;
    }
    Ok(user)
}

fn clerk_failure(what: &str, error: ClerkApiError) -> AppError {
    tracing::error!(
        %error,
        trace_id = error.trace_id(),
        status = error.status(),
        "Clerk failed while {what}"
    );
    match error.status() {
        Some(404) => AppError::NotFound("Clerk does not know this account any more.".into()),
        Some(401) | Some(403) => AppError::internal("Clerk refused our secret key"),
        _ => AppError::BadGateway(
            "Clerk could not be reached just now. Nothing was lost: please try again.".into(),
        ),
    }
}
