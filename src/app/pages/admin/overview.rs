use crate::app::components::chart::SignupChart;
use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use crate::models::overview::Overview;
use crate::models::user_list::thousands;
use leptos::prelude::*;
use leptos_meta::Title;

/// The numbers of the admin overview (admins only).
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<Overview, AppError> {
    crate::app::auth::require_admin().await?;
    let state = crate::app::state::app_state()?;
    Ok(crate::admin::stats::overview(&state.pool).await?)
}

/// The queue that mirrors roles into Clerk's metadata, as admins see it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SyncQueue {
    pub pending: i64,
    pub parked: i64,
    pub delivered_last_hour: i64,
    pub oldest_pending_seconds: Option<u64>,
    /// (user id, name, attempts, last error)
    pub parked_jobs: Vec<(String, String, i32, String)>,
}

/// The state of the Clerk metadata outbox (admins only).
#[server(endpoint = "admin_sync_queue")]
pub async fn admin_sync_queue() -> Result<SyncQueue, AppError> {
    crate::app::auth::require_admin().await?;
    let state = crate::app::state::app_state()?;
    let stats = crate::sync::outbox::outbox_stats(&state.pool).await?;
    let parked = crate::sync::outbox::parked_jobs(&state.pool, 20).await?;
    Ok(SyncQueue {
        pending: stats.pending,
        parked: stats.parked,
        delivered_last_hour: stats.delivered_recent,
        oldest_pending_seconds: stats.oldest_pending_age.map(|age| age.as_secs()),
        parked_jobs: parked
            .into_iter()
            .map(|job| {
                (
                    job.user_id.to_string(),
                    job.name,
                    job.attempts,
                    job.last_error.unwrap_or_default(),
                )
            })
            .collect(),
    })
}

#[component]
fn SyncQueueView() -> impl IntoView {
    let queue = Resource::new(|| (), |_| admin_sync_queue());
    view! {
        <section aria-labelledby="sync-title">
            <h2 id="sync-title">"Roles mirrored to Clerk"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match queue.await {
                        Err(error) => view! { <p class="notice error">{error.to_string()}</p> }.into_any(),
                        Ok(queue) => view! {
                            <p class="muted">
                                {format!(
                                    "{} waiting, {} given up, {} delivered in the last hour.",
                                    queue.pending, queue.parked, queue.delivered_last_hour
                                )}
                                {queue.oldest_pending_seconds.map(|secs| format!(" The oldest has waited {secs} s."))}
                            </p>
                            {(!queue.parked_jobs.is_empty()).then(|| view! {
                                <p class="notice error" role="status">
                                    "Clerk's metadata of these users is out of step: the writes gave up after their retries. "
                                    "A role change or a sync from their profile queues a new attempt."
                                </p>
                                <div class="table-wrap">
                                    <table>
                                        <thead><tr><th scope="col">"User"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th></tr></thead>
                                        <tbody>
                                            {queue.parked_jobs.into_iter().map(|(id, name, attempts, error)| view! {
                                                <tr>
                                                    <td><a href=format!("/admin/users/{id}")>{name}</a></td>
                                                    <td>{attempts}</td>
                                                    <td>{error}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            })}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/admin`: users by role, active and deleted, and sign-ups per day.
#[component]
pub fn AdminOverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| admin_overview());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
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
        <SyncQueueView/>
    }
}
