//! `GET /sign-in` hands over to Clerk (its Account Portal, or the local provider's page).

use crate::app::paths::safe_return_path;
use crate::app::state::AppState;
use crate::clerk::cookies::{ClerkCookies, Cookies};
use crate::clerk::handshake::is_token_shaped;
use crate::clerk::keys::InstanceType;
use crate::clerk::request::Auth;
use crate::clerk::session::{now_seconds, unverified_payload};
use crate::error::AppError;
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
            return AppError::internal(format_args!("CLERK_SIGN_IN_URL: {error}")).into_response()
        }
    };
    url.query_pairs_mut()
        .append_pair("redirect_url", &format!("{origin}{target}"));
    // A development instance's Account Portal signs in the browser it is told about, as
    // Clerk's `redirectToSignIn` tells it.
    let key = &state.clerk.publishable_key;
    if key.instance_type == InstanceType::Development {
        let cookies = ClerkCookies::read(
            &Cookies::parse(&parts.headers),
            key,
            state.session.issuers(),
            now_seconds(),
            &mut unverified_payload,
        );
        if let Some(dev_browser) = cookies.dev_browser.filter(|token| is_token_shaped(token)) {
            url.query_pairs_mut()
                .append_pair("__clerk_db_jwt", &dev_browser);
        }
    }
    Redirect::to(url.as_str()).into_response()
}
