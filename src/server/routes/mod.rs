//! Every route of the app, in two groups with their layers, and the access each page needs.
//! This file is the one place that says which path gets which treatment.
//!
//! - **public**: server-to-server and static routes (webhooks, the probes, the stylesheet, the
//!   browser bundle under `/pkg/`, and `/metrics` when `METRICS_TOKEN` is set, behind that
//!   token). No Clerk session is read and no same-origin check applies: Svix signs the webhooks, and the rest changes nothing.
//! - **session**: what people's browsers use (pages, server functions, sign-in, the sync route,
//!   the export, `public/` files and the 404 page). Each request gets its Clerk auth state
//!   (`auth::layer`), writes must come from our own origin, and pages are guarded by
//!   [`page_access`] (UX only: every server function authorises itself).
//! - the local identity provider of development mode, mounted outside every layer: it stands
//!   in for clerk.com, which sets its own headers.
//!
//! Around both groups: request id, trace (a span per request, see `server::logs`), request
//! metrics (when metrics are on), timeout, catch-panic and security headers.

pub mod assets;
pub mod export;
pub mod health;
pub mod metrics;
pub mod sign_in;
pub mod sync;
pub mod webhooks;

use crate::app::paths::{SIGN_IN_PATH, SYNC_PATH};
use crate::app::state::AppState;
use crate::app::style::STYLESHEET_PATH;
use crate::app::{shell, App};
use crate::clerk::context::LOCAL_PROVIDER_PATH;
use crate::server::logs::RequestSpan;
use crate::server::{security, session};
use crate::webhooks::MAX_BODY_BYTES;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Who may see a page (the route guard's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    Anyone,
    /// Signed in (else: to sign-in, and back).
    SignedIn,
    /// An admin by the database's role (else: the 403 page).
    Admin,
}

/// The access a page path needs: `/admin…` admins, `/profile…` anyone signed in.
pub fn page_access(path: &str) -> PageAccess {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/admin") {
        PageAccess::Admin
    } else if under("/profile") {
        PageAccess::SignedIn
    } else {
        PageAccess::Anyone
    }
}

/// Pages whose every byte comes from the signed-in person's own row (and the path), so that a
/// render can be kept under that row's tags. A page that shows anything else must not be here.
pub fn is_kept_page(path: &str) -> bool {
    path == "/profile"
}

/// Every route of the app, with its layers. `local_provider` is the development identity
/// provider, mounted at `/__clerk` when the app runs without Clerk keys; `metrics` is the
/// recorder when metrics are on.
pub fn router(
    state: AppState,
    local_provider: Option<clerk_emulator::Emulator>,
    metrics: Option<PrometheusHandle>,
) -> Router {
    let mut public = Router::new()
        .route(STYLESHEET_PATH, get(assets::stylesheet))
        .route("/pkg/{file}", get(assets::bundle_file))
        .route("/livez", get(health::live))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/health", get(health::health))
        // Its own body limit: 413 above it.
        .route(
            webhooks::WEBHOOK_PATH,
            post(webhooks::clerk_webhook).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        );
    if let (Some(handle), Some(token)) = (&metrics, &state.config.metrics.token) {
        public = public.merge(metrics::with_token(
            state.clone(),
            handle.clone(),
            token.clone(),
        ));
    }

    // The pages are a router of their own behind the session layers, so that a kept page is
    // answered before anything of Leptos is touched (routing into a Leptos route clones its
    // handler, options and all, for every request).
    // Each of their paths is still a route here, so that logs and metrics name the matched
    // route (`/admin/users/{id}`, not the raw path).
    let options = state.leptos_options.clone();
    let page_routes = generate_route_list(App);
    let page_paths: Vec<String> = page_routes
        .iter()
        .map(|route| route.path().to_owned())
        .chain(leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()))
        .collect();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            page_routes,
            crate::app::provide_request_nonce,
            move || shell(options.clone()),
        )
        .fallback(assets::fallback)
        .with_state(state.clone());
    // A `Router` cannot be a route's service itself; this wrapper changes nothing else.
    let pages = tower::ServiceExt::map_request(pages, |request: axum::extract::Request| request);
    let mut session = Router::new()
        .route(SIGN_IN_PATH, get(sign_in::sign_in))
        .route(SYNC_PATH, get(sync::sync_users))
        .route("/profile/data.json", get(export::download_my_data));
    for path in page_paths {
        session = session.route_service(&path, pages.clone());
    }
    let session = session
        .fallback_service(pages)
        .layer(session::SessionLayer::new(state.clone()));

    // One stack, applied once: each `Router::layer` call wraps every route in another boxed
    // service that is cloned on every request. Outermost first: request id, trace (a span per
    // request), request id on the response, request metrics (outside the timeout and the panic
    // catcher, so that their 408s and 500s are counted too), timeout, catch panic, security
    // headers.
    let metrics_layer = metrics
        .as_ref()
        .map(|_| from_fn(crate::server::metrics::track_requests));
    let outer = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(RequestSpan))
        .layer(PropagateRequestIdLayer::x_request_id())
        .option_layer(metrics_layer)
        // The metrics step reads an axum response; the layers below it answer their own bodies.
        .map_response(axum::response::IntoResponse::into_response)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(security::panic_response))
        .layer(security::SecurityHeadersLayer::new(&state));
    let router = public.merge(session).layer(outer);
    let router = match local_provider {
        Some(emulator) => router.nest_service(LOCAL_PROVIDER_PATH, emulator.router()),
        None => router,
    };
    router.with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_need_what_their_section_needs() {
        assert_eq!(page_access("/admin"), PageAccess::Admin);
        assert_eq!(page_access("/admin/users/1"), PageAccess::Admin);
        assert_eq!(page_access("/profile"), PageAccess::SignedIn);
        assert_eq!(page_access("/profile/data.json"), PageAccess::SignedIn);
        assert_eq!(page_access("/administrator"), PageAccess::Anyone);
        assert_eq!(page_access("/"), PageAccess::Anyone);
    }
}
