use leptos::prelude::*;

/// Header, main area and footer around every page.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <nav class="site-nav" aria-label="Main">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " warden"
                </a>
            </nav>
        </header>
        <main id="main" class="site-main">{children()}</main>
        <footer class="site-footer">
            <p>"warden keeps your Clerk users in your own PostgreSQL."</p>
        </footer>
    }
}
