//! Typed configuration, read once from the environment at start-up.
//!
//! Every variable is documented in README.md. A bad value stops the app with a message that
//! names the variable, what was wrong and what is expected; secrets are never echoed.

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

#[derive(Clone)]
pub enum DatabaseConfig {
    /// `DATABASE_URL` was set: use it and start nothing.
    External(Box<PgConnectOptions>),
    /// Run (or reuse) a local cluster under the data folder.
    Managed,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // PgConnectOptions' Debug would print the password.
        match self {
            DatabaseConfig::External(options) => write!(
                f,
                "External({}:{}/{})",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("")
            ),
            DatabaseConfig::Managed => f.write_str("Managed"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: AppEnv,
    pub site_addr: SocketAddr,
    pub database: DatabaseConfig,
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    pub assets_dir: PathBuf,
    pub cache_max_entries: u64,
    pub cache_ttl: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {var} {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
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
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
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
        let assets_dir = lookup("LEPTOS_SITE_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(PROJECT_DIR).join("public"));
        let cache_max_entries: u64 =
            parse(&lookup, "CACHE_MAX_ENTRIES", "a whole number")?.unwrap_or(10_000);
        let cache_ttl_seconds: u64 =
            parse(&lookup, "CACHE_TTL_SECONDS", "a whole number of seconds")?.unwrap_or(300);
        if cache_ttl_seconds == 0 {
            return Err(ConfigError::new("CACHE_TTL_SECONDS", "must be at least 1"));
        }
        Ok(Config {
            env,
            site_addr,
            database,
            database_max_connections,
            data_dir,
            assets_dir,
            cache_max_entries,
            cache_ttl: Duration::from_secs(cache_ttl_seconds),
        })
    }
}

fn parse<T: FromStr>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_a_local_development_setup() {
        let config = config(&[]).unwrap();
        assert_eq!(config.env, AppEnv::Development);
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert!(matches!(config.database, DatabaseConfig::Managed));
        assert!(config.data_dir.ends_with(".data"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let error = config(&[("LEPTOS_SITE_ADDR", "localhost")]).unwrap_err();
        assert_eq!(error.var, "LEPTOS_SITE_ADDR");
        let error = config(&[("APP_ENV", "staging")]).unwrap_err();
        assert_eq!(error.var, "APP_ENV");
        let error = config(&[("DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err();
        assert_eq!(error.var, "DATABASE_MAX_CONNECTIONS");
        let error = config(&[("CACHE_TTL_SECONDS", "soon")]).unwrap_err();
        assert_eq!(error.var, "CACHE_TTL_SECONDS");
    }

    #[test]
    fn production_needs_a_database_url() {
        let error = config(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(error.var, "DATABASE_URL");
    }

    #[test]
    fn a_bad_database_url_never_echoes_the_password() {
        let error =
            config(&[("DATABASE_URL", "postgres://u:s3cr3t-pw@host:notaport/db")]).unwrap_err();
        assert_eq!(error.var, "DATABASE_URL");
        assert!(!error.to_string().contains("s3cr3t-pw"), "{error}");
    }
}
