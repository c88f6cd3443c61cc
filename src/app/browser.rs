//! What only the browser does, once the pages have hydrated.

use leptos::wasm_bindgen::{closure::Closure, JsCast};
use leptos::web_sys::{Element, MouseEvent};

/// Plain links stay page loads, as without JavaScript. A page load is what lets the server
/// refresh a lapsed Clerk session through the handshake (a `fetch` never gets one), guard the
/// page and draw the header for it. The router would otherwise take every same-origin link
/// click (it listens on `window`); stopping the click at the document keeps it from there and
/// leaves the browser's own navigation alone. The pages' own client-side updates (the search,
/// the forms' outcomes) navigate through the router in code and are not affected.
pub fn keep_links_as_page_loads() {
    let on_click = Closure::<dyn Fn(MouseEvent)>::new(|event: MouseEvent| {
        let on_link = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .and_then(|element| element.closest("a[href]").ok().flatten())
            .is_some();
        if on_link {
            event.stop_propagation();
        }
    });
    let listened = leptos::prelude::document()
        .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    if listened.is_ok() {
        // The listener lives as long as the page.
        on_click.forget();
    }
}

/// A client-side update found the session lapsed (a `fetch` never refreshes it): load `path` as
/// a page instead, which goes through Clerk's handshake and comes back signed in.
pub fn load_page(path: &str) {
    let _ = leptos::prelude::window().location().assign(path);
}

/// `data-hydrated` on `<html>`: the page is interactive now (the browser tests wait for it).
pub fn mark_hydrated() {
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
