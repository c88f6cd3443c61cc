//! Typed configuration, read once from the environment at start-up.
//!
//! Every variable is documented in README.md. A bad value stops the app with a message that
//! names the variable, what was wrong and what is expected; secrets are never echoed.

//! Each module owns the type of its own settings (`db::DatabaseConfig`, `clerk::settings`);
//! this module only reads the environment into them.

mod clerk;
mod ops;
#[cfg(test)]
mod tests;

pub use ops::{log_format, LogFormat, MetricsConfig};

use crate::clerk::settings::ClerkSettings;
use crate::db::DatabaseConfig;
use sqlx::postgres::PgConnectOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub site_addr: SocketAddr,
    /// The origin people reach the app at (`APP_ORIGIN`); by default `http://` + the address.
    pub app_origin: String,
    pub clerk: ClerkSettings,
    pub database: DatabaseConfig,
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    pub assets_dir: PathBuf,
    /// Where the browser bundle (`scripts/build-wasm`) is looked for at start-up
    /// (`WARDEN_PKG_DIR`; by default `pkg/` in the assets folder, where cargo-leptos puts it).
    pub pkg_dir: PathBuf,
    pub cache_max_entries: u64,
    pub cache_ttl: Duration,
    /// Session-token lifetime of the built-in local provider (Clerk's is 60 s); shorter in
    /// browser tests that check a token lapsing between clicks.
    pub local_clerk_token_lifetime: Duration,
    /// `LOCAL_CLERK_INSTANCE=development`: the local provider plays a development instance
    /// (`pk_test_`, development browsers) instead of a production one.
    pub local_clerk_development: bool,
    /// `LOG_FORMAT` (read again by `main` before anything else, to set up logging).
    pub log_format: LogFormat,
    /// `METRICS_ADDR` and `METRICS_TOKEN`.
    pub metrics: MetricsConfig,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {var} {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(var: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            var,
            problem: problem.into(),
        }
    }
}

/// The folder of this project, where `cargo run` keeps `.data/` and finds `public/`.
const PROJECT_DIR: &str = env!("CARGO_MANIFEST_DIR");

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(env_lookup)
    }

    /// Reads the configuration through `lookup`, so that tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = match lookup("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::new(
                    "APP_ENV",
                    format!("is {other:?}; expected \"development\" or \"production\""),
                ))
            }
        };
        let site_addr = parse(
            &lookup,
            "LEPTOS_SITE_ADDR",
            "an address like 127.0.0.1:3000",
        )?
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let app_origin = match lookup("APP_ORIGIN") {
            Some(origin) => parse_origin(&origin).ok_or_else(|| {
                ConfigError::new(
                    "APP_ORIGIN",
                    format!("is {origin:?}; expected an origin like https://app.example.com (scheme, host and optional port, no path)"),
                )
            })?,
            None => format!("http://{site_addr}"),
        };
        let database = match lookup("DATABASE_URL") {
            Some(url) => DatabaseConfig::External(Box::new(PgConnectOptions::from_str(&url).map_err(
                // The URL holds a password: say what is wrong without repeating it.
                |error| {
                    ConfigError::new(
                        "DATABASE_URL",
                        format!(
                            "is not a valid PostgreSQL URL ({}); expected \
                             postgres://user:password@host:port/database",
                            redact_url_error(&error.to_string(), &url)
                        ),
                    )
                },
            )?)),
            None if env == AppEnv::Production => {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "is required when APP_ENV=production (the self-managed local cluster is for development)",
                ))
            }
            None => DatabaseConfig::Managed,
        };
        let clerk = clerk::clerk_settings(&lookup, env, &app_origin)?;
        let database_max_connections: u32 = parse(
            &lookup,
            "DATABASE_MAX_CONNECTIONS",
            "a whole number from 1 to 1000",
        )?
        .unwrap_or(10);
        if !(1..=1000).contains(&database_max_connections) {
            return Err(ConfigError::new(
                "DATABASE_MAX_CONNECTIONS",
                "must be between 1 and 1000",
            ));
        }
        let data_dir = lookup("WARDEN_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(PROJECT_DIR).join(".data"));
        let site_root = lookup("LEPTOS_SITE_ROOT").map(PathBuf::from);
        // Without a site root (plain `cargo run`), files come from `public/` and the bundle from
        // where cargo-leptos and scripts/build-wasm both write it: cargo-leptos refuses an
        // assets folder holding a `pkg/` of its own.
        let pkg_dir = lookup("WARDEN_PKG_DIR")
            .map(PathBuf::from)
            .or_else(|| site_root.as_ref().map(|root| root.join("pkg")))
            .unwrap_or_else(|| PathBuf::from(PROJECT_DIR).join("target/site/pkg"));
        let assets_dir = site_root.unwrap_or_else(|| PathBuf::from(PROJECT_DIR).join("public"));
        let cache_max_entries: u64 =
            parse(&lookup, "CACHE_MAX_ENTRIES", "a whole number")?.unwrap_or(10_000);
        let cache_ttl_seconds: u64 =
            parse(&lookup, "CACHE_TTL_SECONDS", "a whole number of seconds")?.unwrap_or(300);
        if cache_ttl_seconds == 0 {
            return Err(ConfigError::new("CACHE_TTL_SECONDS", "must be at least 1"));
        }
        let local_clerk_token_seconds: u64 = parse(
            &lookup,
            "LOCAL_CLERK_TOKEN_LIFETIME_SECONDS",
            "a whole number of seconds",
        )?
        .unwrap_or(60);
        if local_clerk_token_seconds == 0 {
            return Err(ConfigError::new(
                "LOCAL_CLERK_TOKEN_LIFETIME_SECONDS",
                "must be at least 1",
            ));
        }
        let local_clerk_development = match lookup("LOCAL_CLERK_INSTANCE").as_deref().map(str::trim)
        {
            None | Some("") | Some("production") => false,
            Some("development") => true,
            Some(_) => {
                return Err(ConfigError::new(
                    "LOCAL_CLERK_INSTANCE",
                    "must be production or development",
                ))
            }
        };
        let log_format = log_format(&lookup)?;
        let metrics = ops::metrics_config(&lookup, site_addr)?;
        Ok(Config {
            env,
            site_addr,
            app_origin,
            clerk,
            database,
            database_max_connections,
            data_dir,
            assets_dir,
            pkg_dir,
            cache_max_entries,
            cache_ttl: Duration::from_secs(cache_ttl_seconds),
            local_clerk_token_lifetime: Duration::from_secs(local_clerk_token_seconds),
            local_clerk_development,
            log_format,
            metrics,
        })
    }
}

/// A variable of the process environment; blank counts as unset.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `scheme://host[:port]` with nothing after it, normalised (no trailing slash).
pub fn parse_origin(value: &str) -> Option<String> {
    let url = url::Url::parse(value.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// An http(s) URL used as a base: no query, no trailing slash.
pub(crate) fn parse_base_url(value: &str) -> Option<String> {
    let url = url::Url::parse(value.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
    {
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
}

pub(crate) fn parse<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    expected: &str,
) -> Result<Option<T>, ConfigError> {
    match lookup(var) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::new(var, format!("is {raw:?}; expected {expected}"))),
    }
}

fn redact_url_error(message: &str, url: &str) -> String {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => message.replace(&password, "***"),
        _ => message.to_owned(),
    }
}
