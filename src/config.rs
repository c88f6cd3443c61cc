//! Typed configuration, read once from the environment at start-up.
//!
//! Every variable is documented in README.md. A bad value stops the app with a message that
//! names the variable, what was wrong and what is expected; secrets are never echoed.

use crate::clerk::keys::{PublishableKey, Secret};
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

/// How the app reaches Clerk.
#[derive(Debug, Clone)]
pub enum ClerkSettings {
    /// Clerk's keys were given (real Clerk, or any Clerk-compatible service).
    Remote(Box<ClerkKeys>),
    /// No Clerk variable is set (development only): the built-in local identity provider runs
    /// inside the app, mounted at `/__clerk` like Clerk's proxy mode.
    Local,
}

/// Clerk's own variable names, validated.
#[derive(Debug, Clone)]
pub struct ClerkKeys {
    pub secret_key: Secret,
    pub publishable_key: PublishableKey,
    pub jwt_key: Option<String>,
    pub api_url: String,
    pub proxy_url: Option<String>,
    /// Where to send people to sign in; by default Clerk's Account Portal for the instance.
    pub sign_in_url: Option<String>,
    pub authorized_parties: Option<Vec<String>>,
    pub webhook_signing_secret: Secret,
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
    pub cache_max_entries: u64,
    pub cache_ttl: Duration,
    /// Session-token lifetime of the built-in local provider (Clerk's is 60 s); shorter in
    /// browser tests that check a token lapsing between clicks.
    pub local_clerk_token_lifetime: Duration,
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
        let clerk = clerk_settings(&lookup, env, &app_origin)?;
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
        Ok(Config {
            env,
            site_addr,
            app_origin,
            clerk,
            database,
            database_max_connections,
            data_dir,
            assets_dir,
            cache_max_entries,
            cache_ttl: Duration::from_secs(cache_ttl_seconds),
            local_clerk_token_lifetime: Duration::from_secs(local_clerk_token_seconds),
        })
    }
}

/// The variables that must come together when Clerk is configured.
const CLERK_REQUIRED: [&str; 3] = [
    "CLERK_SECRET_KEY",
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_WEBHOOK_SIGNING_SECRET",
];
const CLERK_OPTIONAL: [&str; 6] = [
    "CLERK_JWT_KEY",
    "CLERK_SIGN_IN_URL",
    "CLERK_API_URL",
    "CLERK_PROXY_URL",
    "CLERK_AUTHORIZED_PARTIES",
    "CLERK_WEBHOOK_SECRET",
];

fn clerk_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    env: AppEnv,
    app_origin: &str,
) -> Result<ClerkSettings, ConfigError> {
    // The seed's name for the webhook secret is accepted as an alias.
    let webhook_secret =
        lookup("CLERK_WEBHOOK_SIGNING_SECRET").or_else(|| lookup("CLERK_WEBHOOK_SECRET"));
    let any_set = CLERK_REQUIRED
        .iter()
        .chain(CLERK_OPTIONAL.iter())
        .any(|name| lookup(name).is_some());
    if !any_set {
        if env == AppEnv::Production {
            return Err(ConfigError::new(
                "CLERK_SECRET_KEY",
                "is required when APP_ENV=production: the built-in local identity provider is for \
                 development only (set CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY and \
                 CLERK_WEBHOOK_SIGNING_SECRET)",
            ));
        }
        return Ok(ClerkSettings::Local);
    }
    let missing: Vec<&str> = [
        ("CLERK_SECRET_KEY", lookup("CLERK_SECRET_KEY").is_some()),
        (
            "CLERK_PUBLISHABLE_KEY",
            lookup("CLERK_PUBLISHABLE_KEY").is_some(),
        ),
        ("CLERK_WEBHOOK_SIGNING_SECRET", webhook_secret.is_some()),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(name, _)| name)
    .collect();
    if let Some(first) = missing.first() {
        return Err(ConfigError::new(
            first,
            format!(
                "is missing: some Clerk variables are set but not all ({} missing). Set them all \
                 to use Clerk, or none to use the built-in local identity provider",
                missing.join(", ")
            ),
        ));
    }
    let secret_key = lookup("CLERK_SECRET_KEY").unwrap_or_default();
    if !secret_key.starts_with("sk_") {
        return Err(ConfigError::new(
            "CLERK_SECRET_KEY",
            "does not look like a Clerk secret key (expected sk_live_… or sk_test_…)",
        ));
    }
    let raw_pk = lookup("CLERK_PUBLISHABLE_KEY").unwrap_or_default();
    let publishable_key = PublishableKey::parse(&raw_pk).ok_or_else(|| {
        ConfigError::new(
            "CLERK_PUBLISHABLE_KEY",
            format!("is {raw_pk:?}, which is not a valid Clerk publishable key (pk_live_… or pk_test_…)"),
        )
    })?;
    let jwt_key = match lookup("CLERK_JWT_KEY") {
        Some(pem) => {
            let pem = pem.replace("\\n", "\n");
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|error| {
                ConfigError::new(
                    "CLERK_JWT_KEY",
                    format!("is not an RSA public key in PEM format ({error})"),
                )
            })?;
            Some(pem)
        }
        None => None,
    };
    let api_url = match lookup("CLERK_API_URL") {
        Some(url) => parse_base_url(&url).ok_or_else(|| {
            ConfigError::new(
                "CLERK_API_URL",
                format!("is {url:?}; expected a URL like https://api.clerk.com"),
            )
        })?,
        None => "https://api.clerk.com".to_owned(),
    };
    let proxy_url = match lookup("CLERK_PROXY_URL") {
        Some(url) => Some(parse_base_url(&url).ok_or_else(|| {
            ConfigError::new(
                "CLERK_PROXY_URL",
                format!("is {url:?}; expected a URL like https://example.com/__clerk"),
            )
        })?),
        None => None,
    };
    let sign_in_url = match lookup("CLERK_SIGN_IN_URL") {
        Some(url) => Some(parse_base_url(&url).ok_or_else(|| {
            ConfigError::new(
                "CLERK_SIGN_IN_URL",
                format!("is {url:?}; expected a URL like https://accounts.example.com/sign-in"),
            )
        })?),
        None => None,
    };
    let authorized_parties = match lookup("CLERK_AUTHORIZED_PARTIES") {
        Some(list) => {
            let mut parties = Vec::new();
            for item in list
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
            {
                parties.push(parse_origin(item).ok_or_else(|| {
                    ConfigError::new(
                        "CLERK_AUTHORIZED_PARTIES",
                        format!(
                            "has {item:?}, which is not an origin like https://app.example.com"
                        ),
                    )
                })?);
            }
            Some(parties)
        }
        None => None,
    };
    let _ = app_origin;
    Ok(ClerkSettings::Remote(Box::new(ClerkKeys {
        secret_key: Secret::new(secret_key),
        publishable_key,
        jwt_key,
        api_url,
        proxy_url,
        sign_in_url,
        authorized_parties,
        webhook_signing_secret: Secret::new(webhook_secret.unwrap_or_default()),
    })))
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
fn parse_base_url(value: &str) -> Option<String> {
    let url = url::Url::parse(value.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
    {
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
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

    const PK: &str = "pk_live_ZmFrZS1jbGVyay10ZXN0LmNsZXJrLmFjY291bnRzLmRldiQ";

    #[test]
    fn no_clerk_variable_means_the_local_provider() {
        assert!(matches!(config(&[]).unwrap().clerk, ClerkSettings::Local));
    }

    #[test]
    fn some_clerk_variables_but_not_all_name_what_is_missing() {
        let error = config(&[("CLERK_SECRET_KEY", "sk_live_x")]).unwrap_err();
        assert!(
            error.to_string().contains("CLERK_PUBLISHABLE_KEY"),
            "{error}"
        );
        assert!(
            error.to_string().contains("CLERK_WEBHOOK_SIGNING_SECRET"),
            "{error}"
        );
        assert!(!error.to_string().contains("sk_live_x"), "{error}");
        let error = config(&[("CLERK_PROXY_URL", "https://example.com/__clerk")]).unwrap_err();
        assert_eq!(error.var, "CLERK_SECRET_KEY");
    }

    #[test]
    fn a_full_clerk_configuration_is_accepted_with_the_seeds_alias() {
        let config = config(&[
            ("CLERK_SECRET_KEY", "sk_live_x"),
            ("CLERK_PUBLISHABLE_KEY", PK),
            ("CLERK_WEBHOOK_SECRET", "whsec_abc"),
            (
                "CLERK_AUTHORIZED_PARTIES",
                "https://a.example.com, http://localhost:3000/",
            ),
        ])
        .unwrap();
        let ClerkSettings::Remote(keys) = config.clerk else {
            panic!("remote expected")
        };
        assert_eq!(
            keys.publishable_key.frontend_api_host,
            "fake-clerk-test.clerk.accounts.dev"
        );
        assert_eq!(keys.api_url, "https://api.clerk.com");
        assert_eq!(keys.webhook_signing_secret.expose(), "whsec_abc");
        assert_eq!(
            keys.authorized_parties.unwrap(),
            vec![
                "https://a.example.com".to_owned(),
                "http://localhost:3000".to_owned()
            ]
        );
    }

    #[test]
    fn bad_clerk_values_are_refused() {
        let base = [
            ("CLERK_SECRET_KEY", "sk_live_x"),
            ("CLERK_PUBLISHABLE_KEY", PK),
            ("CLERK_WEBHOOK_SIGNING_SECRET", "whsec_abc"),
        ];
        for (var, value) in [
            ("CLERK_PUBLISHABLE_KEY", "pk_live_bm9wZQ"),
            ("CLERK_JWT_KEY", "not a pem"),
            ("CLERK_API_URL", "ftp://x"),
            ("CLERK_AUTHORIZED_PARTIES", "https://a.example.com/path"),
        ] {
            let mut vars = base.to_vec();
            vars.retain(|(k, _)| *k != var);
            vars.push((var, value));
            assert_eq!(config(&vars).unwrap_err().var, var);
        }
    }

    #[test]
    fn production_refuses_the_local_provider() {
        let error = config(&[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://u:p@h/db"),
        ])
        .unwrap_err();
        assert_eq!(error.var, "CLERK_SECRET_KEY");
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
