use leptos::prelude::*;

/// A person's picture, or their initials when they have none.
#[component]
pub fn Avatar(
    name: String,
    image_url: Option<String>,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    let class = if large { "avatar large" } else { "avatar" };
    match image_url.filter(|url| url.starts_with("https://") || url.starts_with("http://")) {
        Some(url) => view! { <img class=class src=url alt="" width="80" height="80"/> }.into_any(),
        None => {
            let initials: String = name
                .split_whitespace()
                .filter_map(|word| word.chars().next())
                .take(2)
                .collect::<String>()
                .to_uppercase();
            view! { <span class=class aria-hidden="true">{initials}</span> }.into_any()
        }
    }
}
