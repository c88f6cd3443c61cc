//! Response hardening shared by every route, and the session routes' CSRF check.

use crate::app::state::AppState;
use crate::error::AppError;
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::nonce::Nonce;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The policy of every response. Scripts: our own files, and inline scripts only with this
/// response's nonce (the ones Leptos writes for a hydrating page); `'wasm-unsafe-eval'` lets the
/// page compile the app's WebAssembly, and allows no `eval` of JavaScript.
fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' https: data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
}

/// Security headers, and a fresh nonce per request: the pages read it from the request (see
/// `app::provide_request_nonce`) and put it on every `<script>` they write.
///
/// A tower layer of its own rather than `axum::middleware::from_fn`: it changes the request
/// before the inner service is called, so it can call it at once instead of cloning and boxing
/// it for a `Next`, which `from_fn` does on every request of every route.
#[derive(Clone, Copy)]
pub struct SecurityHeadersLayer {
    /// No browser bundle: there is nothing to hydrate, so the pages' inline scripts go.
    strip_inline_scripts: bool,
}

impl SecurityHeadersLayer {
    pub fn new(state: &AppState) -> Self {
        SecurityHeadersLayer {
            strip_inline_scripts: state.bundle.is_none(),
        }
    }
}

impl<S> tower::Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders {
            inner,
            strip_inline_scripts: self.strip_inline_scripts,
        }
    }
}

#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    strip_inline_scripts: bool,
}

impl<S> tower::Service<Request<Body>> for SecurityHeaders<S>
where
    S: tower::Service<Request<Body>, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let nonce = Nonce::new();
        request.extensions_mut().insert(nonce.clone());
        let response = self.inner.call(request);
        let strip_inline_scripts = self.strip_inline_scripts;
        Box::pin(async move {
            let response = response.await?;
            let response = if strip_inline_scripts {
                without_inline_scripts(response).await
            } else {
                response
            };
            Ok(with_security_headers(response, &nonce))
        })
    }
}

fn with_security_headers(mut response: Response, nonce: &Nonce) -> Response {
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(nonce)) {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// CSRF protection: a state-changing request must come from our own origin, judged by the
/// browser's `Sec-Fetch-Site` and `Origin` headers. A cross-site form post is refused even with
/// a valid session cookie. Requests with neither header do not come from a browser page, so they
/// cannot ride on a victim's cookies (and the cookies are SameSite=Lax anyway). It guards the
/// session routes only: webhooks are server-to-server and verified by signature, and the local
/// provider guards its own forms (see `routes`).
pub async fn same_origin_writes<F, Fut>(
    state: &AppState,
    request: Request<Body>,
    next: F,
) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    let method = request.method();
    let writes = !(method == axum::http::Method::GET
        || method == axum::http::Method::HEAD
        || method == axum::http::Method::OPTIONS);
    if writes && !is_same_origin(request.headers(), &state.config.app_origin) {
        tracing::warn!(path = request.uri().path(), "refused a cross-site write");
        return (
            StatusCode::FORBIDDEN,
            "Cross-site requests may not change anything here.",
        )
            .into_response();
    }
    next(request).await
}

fn is_same_origin(headers: &axum::http::HeaderMap, app_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin.trim_end_matches('/') == app_origin.trim_end_matches('/'),
        None => true,
    }
}

/// A panic becomes an opaque 500; the panic message goes to the log only.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. It has been logged.",
    )
        .into_response()
}

/// Leptos's SSR appends inline `<script>`s after `</html>` that carry resource data for a
/// hydrating client. Without a browser bundle there is no such client, so they are cut off and
/// a page without the bundle carries no script at all.
async fn without_inline_scripts(response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading a rendered page failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response();
        }
    };
    let end = end_of_html(&bytes).unwrap_or(bytes.len());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..end)))
}

const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// Leptos answers 500 for every server-function error, including bad arguments that never
/// reached our code. When the body is one of our [`AppError`]s, its own status is the right one:
/// a malformed call is a 400, a signed-out one a 401, whatever path the error took.
pub async fn server_fn_status<F, Fut>(request: Request<Body>, next: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: Future<Output = Response>,
{
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Where the last `</html>` ends. Searched backwards one `<` at a time: on every page without
/// the bundle this runs on the whole body, and the scripts after `</html>` are short.
fn end_of_html(page: &[u8]) -> Option<usize> {
    const END: &[u8] = b"</html>";
    memchr::memrchr_iter(b'<', page)
        .find(|&at| page[at..].starts_with(END))
        .map(|at| at + END.len())
}

#[cfg(test)]
mod tests {
    use super::end_of_html;

    #[test]
    fn the_page_ends_at_its_last_closing_html_tag() {
        let page =
            b"<!DOCTYPE html><html><body>a</body></html><script>x</script><script>y</script>";
        assert_eq!(end_of_html(page), Some(page.len() - 36));
        assert_eq!(
            &page[..end_of_html(page).unwrap()],
            b"<!DOCTYPE html><html><body>a</body></html>"
        );
        assert_eq!(end_of_html(b"<p>no end tag</p>"), None);
        assert_eq!(end_of_html(b"</html>"), Some(7));
        assert_eq!(end_of_html(b""), None);
    }
}
