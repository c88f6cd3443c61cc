use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// Signs out: revokes the Clerk session (so the provider forgets it too) and clears Clerk's
/// cookies on our origin, then goes home.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use axum::http::{header, HeaderValue};
    let state = crate::app::state::app_state()?;
    let auth = crate::app::auth::request_auth()?;
    if let Some(session_id) = auth
        .as_ref()
        .and_then(|auth| auth.claims())
        .and_then(|claims| claims.sid.clone())
    {
        if let Err(error) = state.clerk.api.revoke_session(&session_id).await {
            // The cookies go anyway; the session ends on Clerk's side when it expires.
            tracing::warn!(%error, trace_id = error.trace_id(), "revoking the Clerk session failed");
        }
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        for cookie in crate::clerk::cookies::clearing_cookies(&state.clerk.publishable_key) {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.append_header(header::SET_COOKIE, value);
            }
        }
    }
    leptos_axum::redirect("/");
    Ok(())
}

#[component]
pub fn SignOutPage() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    // A plain form even with JavaScript on: signing out ends in a page load, so that every part
    // of the next page (the header too) is drawn signed out.
    view! {
        <Title text="Sign out"/>
        <section class="card narrow">
            <h1>"Sign out?"</h1>
            <p class="muted">"You can sign in again at any time."</p>
            <form method="post" action=SignOut::url()>
                <button type="submit">"Sign out"</button>
            </form>
        </section>
    }
}
