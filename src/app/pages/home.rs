use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryStats {
    pub active_users: i64,
}

/// How many people the directory holds: the home page's one database read.
#[server(endpoint = "directory_summary")]
pub async fn directory_summary() -> Result<DirectoryStats, AppError> {
    let state = crate::app::state::app_state()?;
    let active_users = state.users.count_active().await?;
    Ok(DirectoryStats { active_users })
}

#[component]
pub fn HomePage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| directory_summary());
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Your users, in your database."</h1>
            <p class="lead">
                "warden brings people who sign in with Clerk into your own PostgreSQL, keeps them in step, "
                "shows them their profile and lets admins manage roles."
            </p>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(summary) => view! {
                        <section class="card stat" aria-label="Directory">
                            <p class="stat-value">{summary.active_users}</p>
                            <p class="stat-label">
                                {if summary.active_users == 1 { "person in the directory" } else { "people in the directory" }}
                            </p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
