use crate::app::components::avatar::Avatar;
use crate::app::components::badges::RoleBadge;
use crate::app::components::dates::format_time;
use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use crate::models::CurrentUser;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The signed-in person's own record.
#[server(endpoint = "my_profile")]
pub async fn my_profile() -> Result<CurrentUser, AppError> {
    crate::app::auth::current_user().await
}

/// "Refresh from Clerk": runs the sync for the signed-in person and comes back to the profile.
#[server(endpoint = "refresh_from_clerk")]
pub async fn refresh_from_clerk() -> Result<(), AppError> {
    let state = crate::app::state::app_state()?;
    let auth = crate::app::auth::request_auth()?;
    let claims = auth
        .as_ref()
        .and_then(|auth| auth.claims())
        .ok_or(AppError::Unauthorized)?;
    let clerk_user_id = crate::models::ClerkUserId::new(&claims.sub);
    crate::sync::from_clerk::sync_from_clerk(&state.users, &state.clerk.api, &clerk_user_id)
        .await?;
    leptos_axum::redirect("/profile?refreshed=1");
    Ok(())
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let refresh = ServerAction::<RefreshFromClerk>::new();
    let query = use_query_map();
    let refreshed = move || query.with(|q| q.get("refreshed").is_some());
    // Read again after each refresh: with JavaScript the form's answer comes back here, and the
    // page shows the new record in place (without it, the form reloads the page).
    let profile = Resource::new(move || refresh.version().get(), |_| my_profile());
    view! {
        <Title text="Your profile"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
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
                                <dd><RoleBadge role/></dd>
                                <dt>"Member since"</dt><dd>{format_time(user.created_at)}</dd>
                                <dt>"Last updated"</dt><dd>{format_time(user.updated_at)}</dd>
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
        </Transition>
    }
}
