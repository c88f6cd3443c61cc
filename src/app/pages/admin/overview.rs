use crate::admin::model::{thousands, Overview};
use crate::app::components::chart::SignupChart;
use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

/// The numbers of the admin overview (admins only).
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<Overview, AppError> {
    use super::failure;
    crate::clerk::require_admin().await.map_err(failure)?;
    let state = crate::state::app_state().map_err(failure)?;
    crate::admin::stats::overview(&state.pool)
        .await
        .map_err(failure)
}

/// `/admin`: users by role, active and deleted, and sign-ups per day.
#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin_overview().await {
                    Ok(overview) => view! { <OverviewView overview/> }.into_any(),
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let stat = |value: u64, label: &'static str, href: &'static str| {
        view! {
            <a class="card stat stat-link" href=href>
                <span class="stat-value">{thousands(value)}</span>
                <span class="stat-label">{label}</span>
            </a>
        }
    };
    view! {
        <Title text="Admin"/>
        <h1>"Admin overview"</h1>
        <p class="actions"><a class="button" href="/admin/users">"Manage users"</a></p>
        <section aria-labelledby="counts-title">
            <h2 id="counts-title">"Users"</h2>
            <div class="grid">
                {stat(overview.active(), "active users", "/admin/users")}
                {stat(overview.active_admins, "admins", "/admin/users?role=admin")}
                {stat(overview.active_users, "members (role user)", "/admin/users?role=user")}
                {stat(overview.deleted, "deleted", "/admin/users?deleted=1")}
            </div>
        </section>
        <section aria-labelledby="signups-heading">
            <h2 id="signups-heading">"Sign-ups per day"</h2>
            <SignupChart signups=overview.signups/>
        </section>
    }
}
