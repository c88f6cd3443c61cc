//! The admin list's search form. Without JavaScript it is a plain GET form of the list's query
//! string. With it, the list follows the form as one types (after a pause) and when a filter
//! changes, through the router: the URL's query string changes as a submit would change it (so
//! back and bookmarks work) and only the list is fetched again, not the page.

use crate::models::user_list::{SortField, UserListParams, UserListQuery, MAX_SEARCH_CHARS};
use crate::models::Role;
use leptos::ev::SubmitEvent;
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::time::Duration;

/// How long typing must pause before the list follows: one request per word, not per key.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

/// The form, first drawn from the URL's parameters, then following them (back, forward).
#[component]
pub fn SearchForm(params: Memo<UserListParams>) -> impl IntoView {
    let initial = UserListQuery::parse(&params.get_untracked()).unwrap_or_default();
    let current = move || UserListQuery::parse(&params.get()).unwrap_or_default();
    let search = NodeRef::<html::Input>::new();
    let role = NodeRef::<html::Select>::new();
    let deleted = NodeRef::<html::Input>::new();
    let navigate = use_navigate();
    // The form as it stands, as the list's URL: what a submit would ask for.
    let follow = move || {
        let now = params.get_untracked();
        let next = UserListParams {
            q: search.get_untracked().map(|input| input.value()),
            role: role.get_untracked().map(|select| select.value()),
            deleted: deleted
                .get_untracked()
                .filter(|input| input.checked())
                .map(|_| "1".to_owned()),
            after: None,
            before: None,
            ..now.clone()
        };
        if next.to_query_string() != now.to_query_string() {
            navigate(
                &format!("/admin/users{}", next.to_query_string()),
                Default::default(),
            );
        }
    };
    // Thread-safe storage (a handle is a number): a server render is dropped on whichever
    // thread polls its body last, and a thread-local value dropped elsewhere panics.
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let cancel_pending = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        pending.set_value(None);
    };
    let on_input = {
        let follow = follow.clone();
        move |_| {
            cancel_pending();
            let follow = follow.clone();
            pending.set_value(set_timeout_with_handle(follow, SEARCH_DEBOUNCE).ok());
        }
    };
    let on_submit = {
        let follow = follow.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            cancel_pending();
            follow();
        }
    };
    let on_change = move |_| {
        cancel_pending();
        follow();
    };
    let searching = move || {
        let query = current();
        !query.search.is_empty() || query.role.is_some() || query.include_deleted
    };
    view! {
        <form class="card search-form" method="get" action="/admin/users" role="search" on:submit=on_submit>
            <div class="form-row">
                <div class="field">
                    <label for="q">"Search name or email"</label>
                    <input type="search" id="q" name="q" node_ref=search
                        value=initial.search.clone()
                        prop:value=move || params.with(|params| params.q.clone()).unwrap_or_default()
                        on:input=on_input
                        maxlength=MAX_SEARCH_CHARS.to_string()
                        placeholder="e.g. ada or @example.com"/>
                </div>
                <div class="field field-narrow">
                    <label for="role">"Role"</label>
                    <select id="role" name="role" node_ref=role on:change=on_change.clone()
                        prop:value=move || current().role.map(Role::as_str).unwrap_or("")>
                        <option value="" selected=initial.role.is_none()>"All roles"</option>
                        <option value="admin" selected=initial.role == Some(Role::Admin)>"Admins"</option>
                        <option value="user" selected=initial.role == Some(Role::User)>"Users"</option>
                    </select>
                </div>
                <div class="field field-inline">
                    <input type="checkbox" id="deleted" name="deleted" value="1" node_ref=deleted
                        on:change=on_change
                        checked=initial.include_deleted
                        prop:checked=move || current().include_deleted/>
                    <label for="deleted">"Include deleted"</label>
                </div>
                // The order the list is in stays when the search changes.
                {move || {
                    let query = current();
                    (query.sort != SortField::default()).then(|| view! {
                        <input type="hidden" name="sort" value=query.sort.as_str()/>
                    })
                }}
                {move || {
                    let query = current();
                    (query.direction != query.sort.natural_direction()).then(|| view! {
                        <input type="hidden" name="dir" value=query.direction.as_str()/>
                    })
                }}
                <div class="actions">
                    <button type="submit">"Search"</button>
                    {move || searching().then(|| view! { <a class="button secondary" href="/admin/users">"Clear"</a> })}
                </div>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_the_search_literally_and_keeps_the_order() {
        let owner = Owner::new();
        owner.set();
        let params = Memo::new(|_| UserListParams {
            q: Some("\"><script>alert(1)</script>".into()),
            role: Some("admin".into()),
            sort: Some("created".into()),
            dir: Some("asc".into()),
            ..Default::default()
        });
        // The form navigates through the router, as on the page.
        provide_context(leptos_router::location::RequestUrl::new("/admin/users"));
        let html = view! { <leptos_router::components::Router><SearchForm params/></leptos_router::components::Router> }
            .to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&quot;&gt;&lt;script&gt;") || html.contains("\"&gt;&lt;script&gt;"),
            "{html}"
        );
        assert!(html.contains(r#"name="sort" value="created""#), "{html}");
        assert!(html.contains(r#"name="dir" value="asc""#), "{html}");
        assert!(html.contains(">Clear<"), "{html}");
    }
}
