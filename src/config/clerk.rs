//! Clerk's own variable names, read into `clerk::settings`.

use super::{parse_base_url, parse_origin, AppEnv, ConfigError};
use crate::clerk::keys::{PublishableKey, Secret};
use crate::clerk::settings::{ClerkKeys, ClerkSettings};

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

pub(super) fn clerk_settings(
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
