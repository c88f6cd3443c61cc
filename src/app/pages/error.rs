use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// A designed page for any [`AppError`]. On the server it also sets the response status.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    let status = error.status_code();
    let title = error.title();
    let message = error.to_string();
    let retry = matches!(
        error,
        AppError::DatabaseUnavailable | AppError::BadGateway(_) | AppError::Internal
    );
    view! {
        <Title text=title/>
        <section class="error-page" aria-labelledby="error-title">
            <p class="error-code">{status}</p>
            <h1 id="error-title">{title}</h1>
            <p class="lead">{message}</p>
            <p class="actions">
                {retry.then(|| view! { <a class="button" href="">"Try again"</a> })}
                <a class="button secondary" href="/">"Go to the home page"</a>
            </p>
        </section>
    }
}
