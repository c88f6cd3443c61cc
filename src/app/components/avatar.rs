use leptos::prelude::*;

/// A person's picture, or their initials when they have none. Decorative: the name is always
/// shown beside it. Only `https://` images are shown (a plain-http one would be mixed content),
/// and they are fetched without a referrer.
#[component]
pub fn Avatar(
    name: String,
    image_url: Option<String>,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    let class = if large { "avatar large" } else { "avatar" };
    match image_url.filter(|url| url.starts_with("https://")) {
        Some(url) => view! {
            <img class=class src=url alt="" width="80" height="80" loading="lazy" referrerpolicy="no-referrer"/>
        }
        .into_any(),
        None => view! { <span class=class aria-hidden="true">{initials(&name)}</span> }.into_any(),
    }
}

/// The first letters of the first two words, upper-cased.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_come_from_the_first_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials("Grace"), "G");
        assert_eq!(initials("  "), "");
    }
}
