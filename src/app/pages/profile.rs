use crate::app::components::avatar::Avatar;
use crate::app::pages::error::ErrorPage;
use crate::clerk::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The signed-in person's own record.
#[server(endpoint = "my_profile")]
pub async fn my_profile() -> Result<CurrentUser, AppError> {
    crate::clerk::current_user().await
}

/// "Refresh from Clerk": runs the sync for the signed-in person and comes back to the profile.
#[server(endpoint = "refresh_from_clerk")]
pub async fn refresh_from_clerk() -> Result<(), AppError> {
    use crate::clerk::auth::Auth;
    let state = crate::state::app_state()?;
    let parts = use_context::<axum::http::request::Parts>()
        .ok_or_else(|| AppError::internal("request parts missing"))?;
    let claims = parts
        .extensions
        .get::<Auth>()
        .and_then(Auth::claims)
        .ok_or(AppError::Unauthorized)?;
    let clerk_user_id = crate::users::ClerkUserId::new(&claims.sub);
    crate::sync::route::sync_user(&state, &clerk_user_id).await?;
    leptos_axum::redirect("/profile?refreshed=1");
    Ok(())
}

fn format_date(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.to_string())
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let refresh = ServerAction::<RefreshFromClerk>::new();
    let query = use_query_map();
    let refreshed = move || query.with(|q| q.get("refreshed").is_some());
    view! {
        <Title text="Your profile"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match my_profile().await {
                    Err(error) => view! { <ErrorPage error/> }.into_any(),
                    Ok(CurrentUser { user: None, .. }) => view! { <ErrorPage error=AppError::Internal/> }.into_any(),
                    Ok(CurrentUser { user: Some(user), role, .. }) => view! {
                        {move || refreshed().then(|| view! {
                            <p class="notice success" role="status">"Your profile was refreshed from Clerk."</p>
                        })}
                        {move || refresh.value().get().and_then(|result| result.err()).map(|error| view! {
                            <p class="notice error" role="alert">{error.to_string()}</p>
                        })}
                        <section class="profile-head">
                            <Avatar name=user.name.clone() image_url=user.image_url.clone() large=true/>
                            <div>
                                <h1>{user.name.clone()}</h1>
                                <p class="muted">{user.email.clone()}</p>
                            </div>
                        </section>
                        <section class="card">
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                                <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                                <dt>"Role"</dt>
                                <dd><span class=format!("badge {}", role.as_str())>{role.as_str()}</span></dd>
                                <dt>"Member since"</dt><dd>{format_date(user.created_at)}</dd>
                                <dt>"Last updated"</dt><dd>{format_date(user.updated_at)}</dd>
                            </dl>
                        </section>
                        <div class="actions spaced">
                            <ActionForm action=refresh>
                                <button type="submit">"Refresh from Clerk"</button>
                            </ActionForm>
                            <a class="button secondary" href="/profile/data.json" download="my-data.json">"Download my data"</a>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
