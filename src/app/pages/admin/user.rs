use crate::app::components::avatar::Avatar;
use crate::app::components::badges::{RoleBadge, StatusBadge};
use crate::app::components::dates::{format_date, format_time};
use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use crate::models::roles::{RoleChange, RoleChangeOutcome, MAX_REASON_CHARS};
use crate::models::{Role, User};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// What the user page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetailData {
    pub user: User,
    pub history: Vec<RoleChange>,
}

#[cfg(feature = "ssr")]
fn parse_user_id(raw: &str) -> Result<crate::models::UserId, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::NotFound("There is no user at this address.".into()))
}

/// One user, deleted or not, with their role history (admins only).
#[server(endpoint = "admin_user_detail")]
pub async fn admin_user_detail(id: String) -> Result<UserDetailData, AppError> {
    crate::app::auth::require_admin().await?;
    let id = parse_user_id(&id)?;
    let state = crate::app::state::app_state()?;
    let user = state
        .users
        .get_stored(id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no user at this address.".into()))?;
    let history = crate::admin::roles::role_history(&state.pool, id).await?;
    Ok(UserDetailData { user, history })
}

/// Changes a user's role (admins only, by the database's role). With JavaScript off the form
/// posts here; success redirects to the user's page with a notice, an error comes back through
/// Leptos's `__err` and is shown above the form.
#[server(endpoint = "admin_set_user_role")]
pub async fn set_user_role(
    user_id: String,
    role: String,
    expected_role: String,
    reason: Option<String>,
) -> Result<RoleChangeOutcome, AppError> {
    use crate::admin::roles::RoleChangeRequest;
    use crate::models::roles::RoleActor;

    let admin = crate::app::auth::require_admin().await?;
    let target = parse_user_id(&user_id)?;
    let bad_role = |_| AppError::BadRequest("The form named a role we do not know.".into());
    let new_role: Role = role.trim().parse().map_err(bad_role)?;
    let expected_current_role: Role = expected_role.trim().parse().map_err(bad_role)?;
    let state = crate::app::state::app_state()?;
    let outcome = crate::admin::roles::set_user_role(
        &state.users,
        RoleChangeRequest {
            actor: RoleActor::Admin(admin.user_id),
            target,
            new_role,
            reason,
            expected_current_role: Some(expected_current_role),
        },
    )
    .await?;
    let notice = match outcome {
        RoleChangeOutcome::Changed { .. } => "role-changed",
        RoleChangeOutcome::Unchanged { .. } => "role-unchanged",
    };
    leptos_axum::redirect(&format!("/admin/users/{target}?notice={notice}"));
    Ok(outcome)
}

/// `/admin/users/{id}`: facts, the role-change form and the audit trail.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let set_role = ServerAction::<SetUserRole>::new();
    // Read again after each role change: with JavaScript the form's outcome (the new role and
    // audit line, or the refusal) is shown in place; without it, the form reloads the page.
    let detail = Resource::new(
        move || {
            let id = params.with(|params| params.get("id")).unwrap_or_default();
            (id, set_role.version().get())
        },
        |(id, _)| admin_user_detail(id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let notice = query.with(|query| query.get("notice"));
                Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <UserDetail detail notice set_role/> }.into_any(),
                        Err(error) => view! { <ErrorPage error/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn UserDetail(
    detail: UserDetailData,
    notice: Option<String>,
    set_role: ServerAction<SetUserRole>,
) -> impl IntoView {
    let UserDetailData { user, history } = detail;
    // Only fixed texts: the query string chooses a notice, it never supplies one.
    let success = match notice.as_deref() {
        Some("role-changed") => Some(format!(
            "{}'s role is now {}. It takes effect on their next request.",
            user.name, user.role
        )),
        Some("role-unchanged") => Some(format!(
            "{} already was {}; nothing was changed.",
            user.name, user.role
        )),
        _ => None,
    };
    // Without JavaScript the refusal arrives in the URL (Leptos's `__err`), with it from the
    // server function's answer: either way it is the action's value.
    let failure = move || {
        set_role
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <p class="notice error" role="alert">{error.to_string()}</p> })
    };
    let history_rows = history
        .iter()
        .map(|change| {
            view! {
                <tr>
                    <td>{format_time(change.changed_at)}</td>
                    <td>{change.actor_name.clone()}</td>
                    <td><RoleBadge role=change.from_role/> " → " <RoleBadge role=change.to_role/></td>
                    <td>{change.reason.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_history = !history.is_empty();
    let (new_role, button) = match user.role {
        Role::User => (Role::Admin, "Promote to admin"),
        Role::Admin => (Role::User, "Demote to user"),
    };
    let deleted = user.is_deleted();
    view! {
        // Not the name: leptos_meta writes <title> text unescaped, and a name holding
        // "</title><script>…" would end the element early.
        <Title text="User details"/>
        <p><a href="/admin/users">"← All users"</a></p>
        <div class="profile-head">
            <Avatar name=user.name.clone() image_url=user.image_url.clone() large=true/>
            <div>
                <h1>{user.name.clone()}</h1>
                <p class="muted">{user.email.clone()}</p>
            </div>
        </div>
        {success.map(|text| view! { <p class="notice success" role="status">{text}</p> })}
        {failure}
        <section class="card" aria-labelledby="facts-title">
            <h2 id="facts-title">"Facts"</h2>
            <dl class="facts">
                <dt>"Role"</dt><dd><RoleBadge role=user.role/></dd>
                <dt>"Status"</dt><dd><StatusBadge deleted/></dd>
                <dt>"Member since"</dt><dd>{format_date(user.created_at)}</dd>
                <dt>"Last updated"</dt><dd>{format_time(user.updated_at)}</dd>
                {user.deleted_at.map(|at| view! { <dt>"Deleted"</dt><dd>{format_time(at)}</dd> })}
                <dt>"Our id"</dt><dd class="mono">{user.id.to_string()}</dd>
                <dt>"Clerk id"</dt><dd class="mono">{user.clerk_user_id.to_string()}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="role-title">
            <h2 id="role-title">"Role"</h2>
            {if deleted {
                view! { <p class="muted">"This user was deleted; their role can no longer change."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=set_role>
                        <input type="hidden" name="user_id" value=user.id.to_string()/>
                        <input type="hidden" name="role" value=new_role.as_str()/>
                        // The role this page showed: a stale page or a second click cannot
                        // change anything twice.
                        <input type="hidden" name="expected_role" value=user.role.as_str()/>
                        <div class="field">
                            <label for="reason">"Reason " <span class="muted">"(optional, kept in the audit trail)"</span></label>
                            <textarea id="reason" name="reason" rows="2" maxlength=MAX_REASON_CHARS.to_string()></textarea>
                        </div>
                        <button type="submit" class=if new_role == Role::User { "danger" } else { "" }>{button}</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="history-title">
            <h2 id="history-title">"Role history"</h2>
            {if has_history {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr>
                                <th scope="col">"When"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Change"</th>
                                <th scope="col">"Reason"</th>
                            </tr></thead>
                            <tbody>{history_rows}</tbody>
                        </table>
                    </div>
                }.into_any()
            } else {
                view! { <p class="muted">"No role changes yet."</p> }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ClerkUserId, UserId};

    #[test]
    fn the_user_page_shows_hostile_text_literally() {
        let owner = Owner::new();
        owner.set();
        for name in [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
        ] {
            let user = User {
                id: UserId(uuid::Uuid::new_v4()),
                clerk_user_id: ClerkUserId::new("user_<b>"),
                name: name.into(),
                email: format!("{name}@example.com"),
                role: Role::User,
                image_url: None,
                deleted_at: None,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
                updated_at: time::OffsetDateTime::UNIX_EPOCH,
            };
            let history = vec![RoleChange {
                id: 1,
                user_id: user.id,
                actor_user_id: None,
                actor_name: name.into(),
                from_role: Role::User,
                to_role: Role::Admin,
                reason: Some(name.into()),
                changed_at: time::OffsetDateTime::UNIX_EPOCH,
            }];
            let set_role = ServerAction::<SetUserRole>::new();
            let detail = UserDetailData { user, history };
            let html = view! {
                <UserDetail detail notice=Some("role-changed".into()) set_role/>
            }
            .to_html();
            assert!(!html.contains("<script>"), "{html}");
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(!html.contains("<b>"), "{html}");
        }
    }
}
