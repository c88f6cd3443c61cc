//! The session routes' middleware: one layer that runs each step in order, outermost first.
//!
//! 1. same-origin writes (`security::same_origin_writes`): a cross-site write stops here;
//! 2. Clerk auth state (`auth::layer`), or Clerk's handshake;
//! 3. the route guard (`auth::guard`, UX only: server functions authorise themselves);
//! 4. server-function statuses (`security::server_fn_status`);
//! 5. the page cache (`page_cache`): a kept page is answered here.
//!
//! One layer rather than five, and a service of its own rather than `axum::middleware::from_fn`:
//! the session routes serve the app's busiest page, and each `from_fn` boxes the service inside
//! it into a `Next` on every request, on top of the clone that any layer whose steps come before
//! the inner call needs.

use crate::app::state::AppState;
use crate::server::{auth, page_cache, security};
use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Clone)]
pub struct SessionLayer {
    state: AppState,
}

impl SessionLayer {
    pub fn new(state: AppState) -> Self {
        SessionLayer { state }
    }
}

impl<S> tower::Layer<S> for SessionLayer {
    type Service = Session<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Session {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Session<S> {
    inner: S,
    state: AppState,
}

impl<S> tower::Service<Request<Body>> for Session<S>
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The steps await before the inner service is called: the future takes the service that
        // was polled ready and leaves a fresh clone in its place.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let state = self.state.clone();
        Box::pin(async move {
            let state = &state;
            let next = |request| async move {
                match inner.call(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            };
            let response = security::same_origin_writes(state, request, |request| {
                auth::layer::layer(state, request, |request| {
                    auth::guard::layer(state, request, |request| {
                        security::server_fn_status(request, |request| {
                            page_cache::layer(state, request, next)
                        })
                    })
                })
            })
            .await;
            Ok(response)
        })
    }
}
