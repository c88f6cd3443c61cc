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
use std::fmt;
use std::io::IsTerminal;
use tower_http::request_id::RequestId;
use tower_http::trace::MakeSpan;
use tracing::field::{Field, Visit};
use tracing::Span;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;

/// Sets up the global subscriber once; later calls (tests build many apps) change nothing.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,warden=info,sqlx=warn,tower_http=warn"));
    // Colours only for a person at a terminal: escape codes in a log file are noise, and
    // writing them is a cost on every request's span.
    let builder = tracing_subscriber::fmt()
        .fmt_fields(TextFields)
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
            method = request.method().as_str(),
            route,
            path = request.uri().path(),
        )
    }
}

/// The text format's fields, written exactly as `tracing_subscriber`'s default writes them
/// (`name=value`, strings quoted and escaped), with a fast path for strings that need no escape:
/// every request's span has four, and escaping them one character at a time was most of the
/// cost of opening it.
struct TextFields;

impl<'writer> MakeVisitor<Writer<'writer>> for TextFields {
    type Visitor = TextVisitor<'writer>;

    fn make_visitor(&self, writer: Writer<'writer>) -> Self::Visitor {
        TextVisitor {
            writer,
            result: Ok(()),
            first: true,
        }
    }
}

struct TextVisitor<'writer> {
    writer: Writer<'writer>,
    result: fmt::Result,
    first: bool,
}

impl TextVisitor<'_> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = (|| {
            self.writer.write_str(separator)?;
            if name != "message" {
                let name = name.strip_prefix("r#").unwrap_or(name);
                if self.writer.has_ansi_escapes() {
                    write!(self.writer, "\x1b[3m{name}\x1b[0m\x1b[2m=\x1b[0m")?;
                } else {
                    write!(self.writer, "{name}=")?;
                }
            }
            value(&mut self.writer)
        })();
    }
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.record_debug(field, &format_args!("{value}"));
        }
        self.field(field, |writer| {
            let plain = value
                .bytes()
                .all(|byte| (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\');
            if plain {
                writer.write_char('"')?;
                writer.write_str(value)?;
                writer.write_char('"')
            } else {
                write!(writer, "{value:?}")
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |writer| write!(writer, "{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for TextVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for TextVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}
