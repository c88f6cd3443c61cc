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
    let error = config(&[("DATABASE_URL", "postgres://u:s3cr3t-pw@host:notaport/db")]).unwrap_err();
    assert_eq!(error.var, "DATABASE_URL");
    assert!(!error.to_string().contains("s3cr3t-pw"), "{error}");
}

#[test]
fn log_format_is_human_by_default_json_on_request_and_checked() {
    assert_eq!(config(&[]).unwrap().log_format, LogFormat::Human);
    assert_eq!(
        config(&[("LOG_FORMAT", "json")]).unwrap().log_format,
        LogFormat::Json
    );
    let error = config(&[("LOG_FORMAT", "yaml")]).unwrap_err();
    assert_eq!(error.var, "LOG_FORMAT");
    assert!(error.to_string().contains("json"), "{error}");
}

#[test]
fn metrics_are_off_unless_an_address_or_a_token_is_set() {
    assert!(!config(&[]).unwrap().metrics.is_enabled());
    let config_with = |vars: &[(&str, &str)]| config(vars).unwrap().metrics;
    let metrics = config_with(&[("METRICS_ADDR", "127.0.0.1:9100")]);
    assert_eq!(metrics.addr.unwrap().to_string(), "127.0.0.1:9100");
    assert!(metrics.token.is_none());
    let metrics = config_with(&[("METRICS_TOKEN", "0123456789abcdef-token")]);
    assert_eq!(metrics.token.unwrap().expose(), "0123456789abcdef-token");
}

#[test]
fn bad_metrics_settings_name_the_variable_and_never_echo_the_token() {
    let error = config(&[("METRICS_ADDR", "localhost:9100")]).unwrap_err();
    assert_eq!(error.var, "METRICS_ADDR");
    let error = config(&[
        ("LEPTOS_SITE_ADDR", "127.0.0.1:3000"),
        ("METRICS_ADDR", "127.0.0.1:3000"),
    ])
    .unwrap_err();
    assert_eq!(error.var, "METRICS_ADDR");
    for token in ["short-s3cret", "has a space in it, s3cret"] {
        let error = config(&[("METRICS_TOKEN", token)]).unwrap_err();
        assert_eq!(error.var, "METRICS_TOKEN");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
    let config = config(&[("METRICS_TOKEN", "0123456789abcdef-s3cret")]).unwrap();
    assert!(!format!("{config:?}").contains("s3cret"));
}
