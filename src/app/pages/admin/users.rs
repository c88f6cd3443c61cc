use super::search_form::SearchForm;
use crate::app::components::avatar::Avatar;
use crate::app::components::badges::{RoleBadge, StatusBadge};
use crate::app::components::dates::format_date;
use crate::app::pages::error::ErrorPage;
use crate::error::AppError;
use crate::models::user_list::{
    PageFrom, SortDirection, SortField, UserListPage, UserListParams, UserListQuery, UserListRow,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// One page of the admin user list (admins only). The parameters are the URL's, unparsed: they
/// are validated here, where the request arrives. A URL without any (the whole list) encodes to
/// an empty form, hence the default.
#[server(endpoint = "admin_list_users")]
pub async fn admin_list_users(
    #[server(default)] params: UserListParams,
) -> Result<UserListPage, AppError> {
    crate::app::auth::require_admin().await?;
    let query = UserListQuery::parse(&params).map_err(AppError::BadRequest)?;
    let state = crate::app::state::app_state()?;
    Ok(crate::admin::list::list_users(&state.pool, &query).await?)
}

/// `/admin/users`: search, filters, sortable columns and keyset pages, all in the query string.
/// Without JavaScript the search form is a plain GET form; with it, the list follows the form
/// as one types (see [`SearchForm`]) through the same query string.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|query| UserListParams {
            q: query.get("q"),
            role: query.get("role"),
            deleted: query.get("deleted"),
            sort: query.get("sort"),
            dir: query.get("dir"),
            after: query.get("after"),
            before: query.get("before"),
            size: query.get("size"),
        })
    });
    let list = Resource::new(
        move || params.get(),
        |params| async move {
            let page = admin_list_users(params.clone()).await;
            (params, page)
        },
    );
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <SearchForm params/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                // The server function checks access first, then the parameters: a signed-out
                // visitor learns nothing from a bad URL.
                let (params, page) = list.await;
                match (page, UserListQuery::parse(&params)) {
                    (Ok(page), Ok(query)) => view! { <UserList query page/> }.into_any(),
                    (Err(error), _) => {
                        #[cfg(feature = "hydrate")]
                        if matches!(error, AppError::Unauthorized) {
                            crate::app::browser::load_page(&format!(
                                "/admin/users{}",
                                params.to_query_string()
                            ));
                        }
                        view! { <ErrorPage error/> }.into_any()
                    }
                    (Ok(_), Err(message)) => {
                        view! { <ErrorPage error=AppError::BadRequest(message)/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The list itself: what the query found, with its pages.
#[component]
fn UserList(query: UserListQuery, page: UserListPage) -> impl IntoView {
    let view_params = query.view_params();
    let first_page_href = format!("/admin/users{}", view_params.to_query_string());
    let page_href = |after: Option<String>, before: Option<String>| {
        let params = UserListParams {
            after,
            before,
            ..view_params.clone()
        };
        format!("/admin/users{}", params.to_query_string())
    };
    let next_href = page
        .next
        .clone()
        .map(|cursor| page_href(Some(cursor), None));
    let previous_href = page
        .previous
        .clone()
        .map(|cursor| page_href(None, Some(cursor)));
    let on_later_page = !matches!(query.from, PageFrom::Start);
    let empty = page.rows.is_empty();
    let rows = page
        .rows
        .into_iter()
        .map(|row| view! { <UserRow row/> })
        .collect_view();
    let headers = [
        (SortField::Name, "Name"),
        (SortField::Email, "Email"),
        (SortField::Role, "Role"),
    ]
    .into_iter()
    .map(|(field, label)| view! { <SortHeader query=query.clone() field label/> })
    .collect_view();
    view! {
        <p class="muted" aria-live="polite">
            {page.total.describe()}
            {(!query.search.is_empty()).then(|| format!(" matching “{}”", query.search))}
        </p>
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Users, sorted by " {query.sort.as_str()} " " {match query.direction { SortDirection::Asc => "ascending", SortDirection::Desc => "descending" }}</caption>
                <thead>
                    <tr>
                        {headers}
                        <th scope="col">"Status"</th>
                        <SortHeader query=query.clone() field=SortField::Created label="Created"/>
                    </tr>
                </thead>
                <tbody>
                    {rows}
                    {empty.then(|| view! {
                        <tr><td colspan="5" class="muted">"No users match."</td></tr>
                    })}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span>
                {previous_href.map(|href| view! { <a class="button secondary" rel="prev" href=href>"← Previous"</a> })}
            </span>
            <span>
                {on_later_page.then(|| view! { <a href=first_page_href.clone()>"First page"</a> })}
            </span>
            <span>
                {next_href.map(|href| view! { <a class="button secondary" rel="next" href=href>"Next →"</a> })}
            </span>
        </nav>
    }
}

/// A column header that sorts by its column; a second click reverses the order.
#[component]
fn SortHeader(query: UserListQuery, field: SortField, label: &'static str) -> impl IntoView {
    let active = query.sort == field;
    let direction = if active {
        query.direction.reversed()
    } else {
        field.natural_direction()
    };
    let target = UserListQuery {
        sort: field,
        direction,
        from: PageFrom::Start,
        ..query.clone()
    };
    let href = format!("/admin/users{}", target.view_params().to_query_string());
    let aria_sort = match (active, query.direction) {
        (false, _) => "none",
        (true, SortDirection::Asc) => "ascending",
        (true, SortDirection::Desc) => "descending",
    };
    let arrow = match (active, query.direction) {
        (false, _) => "",
        (true, SortDirection::Asc) => " ▲",
        (true, SortDirection::Desc) => " ▼",
    };
    let title = format!(
        "Sort by {} {}",
        label.to_lowercase(),
        match direction {
            SortDirection::Asc => "ascending",
            SortDirection::Desc => "descending",
        }
    );
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=href title=title>{label}<span aria-hidden="true">{arrow}</span></a>
        </th>
    }
}

#[component]
fn UserRow(row: UserListRow) -> impl IntoView {
    let href = format!("/admin/users/{}", row.id);
    view! {
        <tr>
            <td>
                <span class="cell-user">
                    <Avatar name=row.name.clone() image_url=row.image_url.clone()/>
                    <a href=href>{row.name.clone()}</a>
                </span>
            </td>
            <td class="mono">{row.email.clone()}</td>
            <td><RoleBadge role=row.role/></td>
            <td><StatusBadge deleted=row.deleted/></td>
            <td>{format_date(row.created_at)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::user_list::Total;
    use crate::models::{Role, UserId};

    pub const HOSTILE_NAMES: [&str; 2] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ];

    #[test]
    fn names_and_emails_are_shown_literally() {
        let owner = Owner::new();
        owner.set();
        let rows = HOSTILE_NAMES
            .iter()
            .map(|name| UserListRow {
                id: UserId(uuid::Uuid::new_v4()),
                name: name.to_string(),
                email: format!("{name}@example.com"),
                role: Role::User,
                image_url: Some(format!("https://x/{name}")),
                deleted: false,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            })
            .collect();
        let page = UserListPage {
            rows,
            next: Some("\"><script>".into()),
            previous: None,
            total: Total::Exact(2),
        };
        let query = UserListQuery {
            search: HOSTILE_NAMES[1].into(),
            ..Default::default()
        };
        let html = view! { <UserList query page/> }.to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }
}
