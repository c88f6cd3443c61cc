//! The resolved Clerk instance the app talks to, and the local provider of development mode.

use crate::clerk::api::ClerkApi;
use crate::clerk::keys::{PublishableKey, Secret};
use crate::config::{ClerkKeys, ClerkSettings, Config};

/// Where the local identity provider is mounted in development mode.
pub const LOCAL_PROVIDER_PATH: &str = "/__clerk";

/// Everything the app needs to talk to its Clerk instance, resolved once at start-up.
#[derive(Clone, Debug)]
pub struct ClerkContext {
    pub api: ClerkApiHandle,
    pub publishable_key: PublishableKey,
    /// The Frontend API URL: `https://` + the publishable key's host, or the proxy URL. Session
    /// tokens must carry it as `iss`; handshakes go there.
    pub frontend_api_url: String,
    /// Where people sign in (Clerk's Account Portal, or the local provider's page).
    pub sign_in_url: String,
    pub jwt_key: Option<String>,
    /// Origins accepted in a token's `azp`.
    pub authorized_parties: Vec<String>,
    pub webhook_signing_secret: Secret,
    /// True when this is the built-in local provider (development mode).
    pub is_local_provider: bool,
}

/// `ClerkApi` with a `Debug` that shows nothing secret.
#[derive(Clone)]
pub struct ClerkApiHandle(pub ClerkApi);

impl std::fmt::Debug for ClerkApiHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClerkApi")
    }
}

impl std::ops::Deref for ClerkApiHandle {
    type Target = ClerkApi;
    fn deref(&self) -> &ClerkApi {
        &self.0
    }
}

impl ClerkContext {
    /// From Clerk's variables (`ClerkSettings::Remote`).
    pub fn from_keys(keys: &ClerkKeys, app_origin: &str) -> Result<ClerkContext, String> {
        let frontend_api_url = keys
            .proxy_url
            .clone()
            .unwrap_or_else(|| keys.publishable_key.frontend_api_url());
        let sign_in_url = keys
            .sign_in_url
            .clone()
            .unwrap_or_else(|| account_portal_sign_in_url(&keys.publishable_key.frontend_api_host));
        Ok(ClerkContext {
            api: ClerkApiHandle(ClerkApi::new(&keys.api_url, keys.secret_key.clone())?),
            publishable_key: keys.publishable_key.clone(),
            frontend_api_url,
            sign_in_url,
            jwt_key: keys.jwt_key.clone(),
            authorized_parties: keys
                .authorized_parties
                .clone()
                .unwrap_or_else(|| vec![app_origin.to_owned()]),
            webhook_signing_secret: keys.webhook_signing_secret.clone(),
            is_local_provider: false,
        })
    }

    /// The origin of the Frontend API (for the CSP's `form-action`).
    pub fn frontend_api_origin(&self) -> Option<String> {
        url::Url::parse(&self.frontend_api_url)
            .ok()
            .map(|url| url.origin().ascii_serialization())
    }
}

/// Clerk's Account Portal for a Frontend API host: `clerk.example.com` → `accounts.example.com`,
/// `foo-bar-13.clerk.accounts.dev` → `foo-bar-13.accounts.dev`.
fn account_portal_sign_in_url(frontend_api_host: &str) -> String {
    let host = frontend_api_host
        .replacen("clerk.accounts.", "accounts.", 1)
        .replacen("clerk.", "accounts.", 1);
    format!("https://{host}/sign-in")
}

/// The local identity provider of development mode, with the context that points at it.
pub struct LocalProvider {
    pub emulator: clerk_emulator::Emulator,
    pub context: ClerkContext,
}

impl LocalProvider {
    /// Starts (or restores from `data_dir`) the local provider for an app at `app_origin`.
    pub async fn start(config: &Config) -> Result<LocalProvider, String> {
        let origin = config.app_origin.trim_end_matches('/');
        let frontend_api_url = format!("{origin}{LOCAL_PROVIDER_PATH}");
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|error| format!("creating {}: {error}", config.data_dir.display()))?;
        let emulator_config = clerk_emulator::Config {
            frontend_api_url: frontend_api_url.clone(),
            webhook_endpoints: vec![format!("{origin}/api/webhooks/clerk")],
            allowed_redirect_origins: vec![origin.to_owned()],
            storage: clerk_emulator::Storage::File(config.data_dir.join("local-clerk.json")),
            token_lifetime: config.local_clerk_token_lifetime,
            ..clerk_emulator::Config::default()
        };
        let emulator = clerk_emulator::Emulator::new(emulator_config)
            .await
            .map_err(|error| format!("starting the local identity provider: {error}"))?;
        let effective = emulator.config();
        let publishable_key = PublishableKey::parse(&effective.publishable_key)
            .ok_or("the local identity provider made an invalid publishable key")?;
        let keys = ClerkKeys {
            secret_key: Secret::new(effective.secret_key.clone()),
            publishable_key,
            jwt_key: None,
            api_url: frontend_api_url.clone(),
            proxy_url: Some(frontend_api_url.clone()),
            sign_in_url: Some(format!("{frontend_api_url}/sign-in")),
            authorized_parties: None,
            webhook_signing_secret: Secret::new(effective.webhook_signing_secret.clone()),
        };
        let mut context = ClerkContext::from_keys(&keys, origin)?;
        context.is_local_provider = true;
        Ok(LocalProvider { emulator, context })
    }
}

/// The Clerk context for a configuration, starting the local provider when there are no keys.
pub async fn context_for(config: &Config) -> Result<(ClerkContext, Option<LocalProvider>), String> {
    match &config.clerk {
        ClerkSettings::Remote(keys) => {
            Ok((ClerkContext::from_keys(keys, &config.app_origin)?, None))
        }
        ClerkSettings::Local => {
            let local = LocalProvider::start(config).await?;
            Ok((local.context.clone(), Some(local)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_portal_urls_follow_clerk() {
        assert_eq!(
            account_portal_sign_in_url("clerk.example.com"),
            "https://accounts.example.com/sign-in"
        );
        assert_eq!(
            account_portal_sign_in_url("foo-bar-13.clerk.accounts.dev"),
            "https://foo-bar-13.accounts.dev/sign-in"
        );
    }
}
