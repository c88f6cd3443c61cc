//! Log lines: the format (`LOG_FORMAT`), the filter (`RUST_LOG`), and the span every request's
//! events are written in.
//!
//! What may never reach a log line: tokens, secrets and cookies. Requests are logged by their
//! method, matched route and path only: no headers (they carry cookies and bearer tokens) and
//! no query string (Clerk's handshake puts `__clerk_handshake` tokens and development-browser
//! JWTs there). Errors from Clerk's API are logged without their URL (`clerk::api`), and the
//! configuration's secrets print as `***`.

use crate::config::LogFormat;
use axum::extract::MatchedPath;
use axum::http::Request;
use std::io::IsTerminal;
use tower_http::request_id::RequestId;
use tower_http::trace::MakeSpan;
use tracing::Span;

/// Sets up the global subscriber once; later calls (tests build many apps) change nothing.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,warden=info,sqlx=warn,tower_http=warn"));
    // Colours only for a person at a terminal: escape codes in a log file are noise, and
    // writing them is a cost on every request's span.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        // `span` is the innermost span's fields, handy for queries; `spans` lists them all, so
        // a span opened inside a request never hides the request's id.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}

/// The span of one request: its id (the `x-request-id` that `SetRequestIdLayer` set or kept),
/// method, matched route and path. Every event written while the request is handled carries
/// these fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or_default();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        // At ERROR level so that a filter which lets any of the app's events through keeps the
        // span as well: a span filtered out would take the request id off every line inside it.
        tracing::error_span!(
            "request",
            request_id,
            method = %request.method(),
            route,
            path = request.uri().path(),
        )
    }
}
