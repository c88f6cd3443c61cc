//! Signing in and out hands over to Clerk (its Account Portal, or the local provider's page).

use crate::clerk::auth::Auth;
use crate::clerk::redirects::safe_return_path;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SignInQuery {
    redirect_url: Option<String>,
}

/// `GET /sign-in?redirect_url=/profile`: to Clerk's sign-in page, which sends the person back
/// to that path on our origin (or straight there when already signed in).
pub async fn sign_in(
    State(state): State<AppState>,
    Query(query): Query<SignInQuery>,
    parts: Parts,
) -> Response {
    let origin = &state.config.app_origin;
    let target = query
        .redirect_url
        .as_deref()
        .and_then(|candidate| safe_return_path(candidate, origin))
        .unwrap_or_else(|| "/".to_owned());
    if parts
        .extensions
        .get::<Auth>()
        .and_then(Auth::claims)
        .is_some()
    {
        return Redirect::to(&target).into_response();
    }
    let mut url = match url::Url::parse(&state.clerk.sign_in_url) {
        Ok(url) => url,
        Err(error) => {
            return crate::error::AppError::internal(format_args!("CLERK_SIGN_IN_URL: {error}"))
                .into_response()
        }
    };
    url.query_pairs_mut()
        .append_pair("redirect_url", &format!("{origin}{target}"));
    Redirect::to(url.as_str()).into_response()
}

/// The cookies Clerk keeps on our origin, expired (plain and suffixed names).
pub fn clearing_cookies(state: &AppState) -> Vec<String> {
    let suffix = state.clerk.publishable_key.cookie_suffix();
    ["__session", "__client_uat"]
        .iter()
        .flat_map(|name| [name.to_string(), format!("{name}_{suffix}")])
        .map(|name| {
            let value = if name.starts_with("__client_uat") {
                "0"
            } else {
                ""
            };
            format!("{name}={value}; Path=/; SameSite=Lax; Max-Age=0")
        })
        .collect()
}
