//! What operators set: the log format and where (and for whom) the metrics are served.

use super::{parse, ConfigError};
use crate::clerk::keys::Secret;
use std::net::SocketAddr;

/// `LOG_FORMAT`: how log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One readable line per event, for people at a terminal (the default).
    #[default]
    Human,
    /// One JSON object per line, with the fields of the enclosing spans, for log collectors.
    Json,
}

/// Where `/metrics` is served. With neither set there is no `/metrics` at all.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    /// `METRICS_ADDR`: a listener of its own, e.g. on an address only the scraper can reach.
    pub addr: Option<SocketAddr>,
    /// `METRICS_TOKEN`: `/metrics` on the main listener, for `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
}

impl MetricsConfig {
    pub fn is_enabled(&self) -> bool {
        self.addr.is_some() || self.token.is_some()
    }
}

/// The shortest token accepted: anything shorter can be guessed over the network.
const MIN_TOKEN_CHARS: usize = 16;

pub fn log_format(lookup: &impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    match lookup("LOG_FORMAT").as_deref().map(str::trim) {
        None | Some("") | Some("human") | Some("pretty") | Some("text") => Ok(LogFormat::Human),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ConfigError::new(
            "LOG_FORMAT",
            format!("is {other:?}; expected \"json\" or \"human\""),
        )),
    }
}

pub(super) fn metrics_config(
    lookup: &impl Fn(&str) -> Option<String>,
    site_addr: SocketAddr,
) -> Result<MetricsConfig, ConfigError> {
    let addr: Option<SocketAddr> = parse(lookup, "METRICS_ADDR", "an address like 127.0.0.1:9100")?;
    if addr.is_some_and(|addr| addr == site_addr && addr.port() != 0) {
        return Err(ConfigError::new(
            "METRICS_ADDR",
            format!("is {site_addr}, the address of the app itself (LEPTOS_SITE_ADDR); use another port"),
        ));
    }
    let token = match lookup("METRICS_TOKEN") {
        None => None,
        // The value is a secret: the messages describe it without repeating it.
        // It travels in a header: printable ASCII only.
        Some(token) if !token.chars().all(|c| c.is_ascii_graphic()) => {
            return Err(ConfigError::new(
                "METRICS_TOKEN",
                "contains whitespace or non-ASCII characters; expected printable ASCII only",
            ))
        }
        Some(token) if token.chars().count() < MIN_TOKEN_CHARS => {
            return Err(ConfigError::new(
                "METRICS_TOKEN",
                format!(
                    "is too short ({} characters); use at least {MIN_TOKEN_CHARS}, e.g. \
                     the output of `openssl rand -hex 32`",
                    token.chars().count()
                ),
            ))
        }
        Some(token) => Some(Secret::new(token)),
    };
    Ok(MetricsConfig { addr, token })
}
