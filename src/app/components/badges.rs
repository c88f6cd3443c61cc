use crate::models::Role;
use leptos::prelude::*;

#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    let class = match role {
        Role::Admin => "badge admin",
        Role::User => "badge",
    };
    view! { <span class=class>{role.as_str()}</span> }
}

#[component]
pub fn StatusBadge(deleted: bool) -> impl IntoView {
    if deleted {
        view! { <span class="badge deleted">"deleted"</span> }
    } else {
        view! { <span class="badge active">"active"</span> }
    }
}
