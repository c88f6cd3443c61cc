//! The resolved Clerk instance the app talks to, and the local provider of development mode.

use crate::clerk::api::ClerkApi;
use crate::clerk::jwks::KeyStore;
use crate::clerk::keys::{PublishableKey, Secret};
use crate::clerk::session::SessionVerifier;
use crate::clerk::settings::ClerkKeys;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

    /// The session-token verifier of this instance: keys from `CLERK_JWT_KEY`, else from the
    /// JWKS, refetched on an unknown `kid` at most once per `min_refetch` (5 s by default).
    pub fn session_verifier(
        &self,
        min_refetch: Option<Duration>,
    ) -> Result<SessionVerifier, String> {
        let keys = match &self.jwt_key {
            Some(pem) => KeyStore::from_pem(pem)?,
            None => KeyStore::from_jwks(self.api.0.clone()),
        };
        let keys = match min_refetch {
            Some(interval) => keys.with_min_refetch_interval(interval),
            None => keys,
        };
        // Clerk issues tokens as its own Frontend API even behind a proxy; the local provider,
        // which is its own proxy, issues them as the proxy URL.
        let mut issuers = vec![self.publishable_key.frontend_api_url()];
        if self.frontend_api_url != issuers[0] {
            issuers.push(self.frontend_api_url.clone());
        }
        Ok(SessionVerifier::new(
            Arc::new(keys),
            issuers,
            self.authorized_parties.clone(),
        ))
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

/// Where the local provider runs and keeps its data.
#[derive(Debug, Clone)]
pub struct LocalProviderSettings {
    /// The origin of the app that mounts it at [`LOCAL_PROVIDER_PATH`].
    pub app_origin: String,
    pub data_dir: PathBuf,
    pub token_lifetime: Duration,
    /// Play a development instance (`pk_test_`) rather than a production one.
    pub development: bool,
}

/// The local identity provider of development mode, with the context that points at it.
pub struct LocalProvider {
    pub emulator: clerk_emulator::Emulator,
    pub context: ClerkContext,
}

impl LocalProvider {
    /// Starts (or restores from the data folder) the local provider.
    pub async fn start(settings: &LocalProviderSettings) -> Result<LocalProvider, String> {
        let origin = settings.app_origin.trim_end_matches('/');
        let frontend_api_url = format!("{origin}{LOCAL_PROVIDER_PATH}");
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|error| format!("creating {}: {error}", settings.data_dir.display()))?;
        let emulator_config = clerk_emulator::Config {
            frontend_api_url: frontend_api_url.clone(),
            webhook_endpoints: vec![format!("{origin}/api/webhooks/clerk")],
            allowed_redirect_origins: vec![origin.to_owned()],
            // One file per kind of instance: their keys and browsers are not interchangeable.
            storage: clerk_emulator::Storage::File(settings.data_dir.join(
                if settings.development {
                    "local-clerk-development.json"
                } else {
                    "local-clerk.json"
                },
            )),
            token_lifetime: settings.token_lifetime,
            instance_type: if settings.development {
                clerk_emulator::InstanceType::Development
            } else {
                clerk_emulator::InstanceType::Production
            },
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
