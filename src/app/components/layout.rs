use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the header needs to know about the request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NavBar {
    /// The signed-in person's name and whether they are an admin (by the database).
    pub user: Option<(String, bool)>,
    /// Development mode: the built-in local identity provider stands in for Clerk.
    pub local_provider: bool,
    /// Where "Sign in" goes, with a way back here.
    pub sign_in_href: String,
    /// The path of this page, to mark the current section in the navigation.
    pub path: String,
}

#[server(endpoint = "nav_bar")]
pub async fn nav_bar_state() -> Result<NavBar, AppError> {
    let state = crate::app::state::app_state()?;
    let parts = use_context::<axum::http::request::Parts>();
    let path = parts
        .as_ref()
        .map(|parts| parts.uri.path().to_owned())
        .unwrap_or_default();
    let here = parts
        .and_then(|parts| parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
        .filter(|path| !path.starts_with("/api/") && !path.starts_with("/sign-"))
        .unwrap_or_else(|| "/".into());
    let user = crate::app::auth::maybe_current_user()
        .await?
        .and_then(|current| {
            current
                .user
                .map(|user| (user.name, current.role.as_str() == "admin"))
        });
    Ok(NavBar {
        user,
        local_provider: state.clerk.is_local_provider,
        sign_in_href: crate::app::paths::sign_in_url(&here),
        path,
    })
}

/// Header, main area and footer around every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // A resource, so that a hydrating page reads the server's answer from the page itself.
    let nav = Resource::new(|| (), |_| nav_bar_state());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                // The header degrades to signed-out rather than failing the page.
                let nav = nav.await.unwrap_or_default();
                view! { <Header nav/> }
            })}
        </Suspense>
        <main id="main" class="site-main">{children()}</main>
        <footer class="site-footer">
            <p>"warden keeps your Clerk users in your own PostgreSQL."</p>
        </footer>
    }
}

#[component]
fn Header(nav: NavBar) -> impl IntoView {
    let path = nav.path.clone();
    // The section a page belongs to: /admin/users/… is under "Users", /admin alone is "Admin".
    let current = move |section: &str| {
        let here = match path.as_str() {
            p if p.starts_with("/admin/users") => "/admin/users",
            p if p.starts_with("/admin") => "/admin",
            p if p.starts_with("/profile") => "/profile",
            _ => "",
        };
        (here == section).then_some("page")
    };
    view! {
        {nav.local_provider.then(|| view! {
            <p class="dev-banner" role="note">
                "Development mode: sign-in runs on the built-in local identity provider, not on Clerk. "
                <a href="/__clerk/dashboard">"Open its dashboard"</a>
            </p>
        })}
        <header class="site-header">
            <nav class="site-nav" aria-label="Main">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " warden"
                </a>
                {match nav.user.clone() {
                    Some((_, is_admin)) => view! {
                        <a href="/profile" aria-current=current("/profile")>"Profile"</a>
                        {is_admin.then(|| view! {
                            <a href="/admin" aria-current=current("/admin")>"Admin"</a>
                            <a href="/admin/users" aria-current=current("/admin/users")>"Users"</a>
                        })}
                    }.into_any(),
                    None => ().into_any(),
                }}
                <span class="nav-spacer"></span>
                {match nav.user {
                    Some((name, _)) => view! {
                        <span class="nav-user">
                            <span class="nav-name">{name}</span>
                            <a href="/sign-out">"Sign out"</a>
                        </span>
                    }.into_any(),
                    None => view! { <a class="button" href=nav.sign_in_href>"Sign in"</a> }.into_any(),
                }}
            </nav>
        </header>
    }
}
