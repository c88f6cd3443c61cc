//! The Leptos app: shell, router, pages and components, the server functions beside the pages
//! that call them, the state they share (`AppState`), the error page and the stylesheet. Every
//! page renders completely on the server (`SsrMode::Async`), so it works with JavaScript off.
//!
//! The server serves this app; the app calls the services below it and never the server.

pub mod auth;
#[cfg(feature = "hydrate")]
pub mod browser;
#[cfg(feature = "ssr")]
pub mod bundle;
pub mod components;
#[cfg(feature = "ssr")]
pub mod page_cache;
pub mod pages;
pub mod paths;
#[cfg(feature = "ssr")]
pub mod render;
#[cfg(feature = "ssr")]
pub mod state;
pub mod style;

use crate::error::AppError;
use components::layout::Layout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The HTML document around every page. It loads the browser bundle only when there is one:
/// hashed file names are on exactly then (see `state`), and without it the page is complete.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let hydrate = options.hash_files;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <MetaTags/>
                {hydrate.then(|| view! { <HydrationScripts options/> })}
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The server's security layer makes a nonce per request (and names it in the CSP header):
/// every `<script>` Leptos writes for this request carries it.
#[cfg(feature = "ssr")]
pub fn provide_request_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<leptos::nonce::Nonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

/// Set in the context to render an error page instead of the routed page (see [`render`]).
#[derive(Debug, Clone)]
pub struct ForcedError(pub AppError);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let forced = use_context::<ForcedError>();
    view! {
        <Stylesheet id="warden" href=style::stylesheet_href()/>
        // leptos_meta writes the title into <head> unescaped: escape it here, once, for every
        // page, so that no title can carry markup (pages also keep user data out of titles).
        <Title formatter=|title: String| {
            if title.is_empty() { "warden".to_owned() } else { format!("{} · warden", escape_text(&title)) }
        }/>
        <Router>
            <Layout>
                {match forced {
                    Some(ForcedError(error)) => view! { <pages::error::ErrorPage error/> }.into_any(),
                    None => view! {
                        <Routes fallback=|| view! { <pages::error::ErrorPage error=AppError::NotFound("There is no page at this address.".into())/> }>
                            <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async/>
                            <Route path=StaticSegment("profile") view=pages::profile::ProfilePage ssr=SsrMode::Async/>
                            <Route path=StaticSegment("sign-out") view=pages::sign_out::SignOutPage ssr=SsrMode::Async/>
                            <Route path=StaticSegment("admin") view=pages::admin::overview::AdminOverviewPage ssr=SsrMode::Async/>
                            <Route path=(StaticSegment("admin"), StaticSegment("users")) view=pages::admin::users::AdminUsersPage ssr=SsrMode::Async/>
                            <Route path=(StaticSegment("admin"), StaticSegment("users"), ParamSegment("id")) view=pages::admin::user::AdminUserPage ssr=SsrMode::Async/>
                        </Routes>
                    }.into_any(),
                }}
            </Layout>
        </Router>
    }
}

fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
