//! Building an instance from its configuration and whatever storage already holds.

use super::persistence::load_state;
use super::signing::load_or_generate_keys;
use super::Inner;
use crate::util::new_id;
use crate::webhooks::Webhooks;
use crate::{Config, Emulator, EmulatorError, Faults};
use std::sync::{Arc, Mutex, RwLock};

impl Emulator {
    /// Load (Storage::File) or create the instance state; generates the RSA key (kid =
    /// instance id) and any secret left empty in `config`.
    pub async fn new(mut config: Config) -> Result<Emulator, EmulatorError> {
        config.frontend_api_url = config.frontend_api_url.trim_end_matches('/').to_string();
        if crate::util::origin_of(&config.frontend_api_url).is_none() {
            return Err(EmulatorError::Config(format!(
                "frontend_api_url must be an absolute http(s) URL, got {:?}",
                config.frontend_api_url
            )));
        }
        let mut state = load_state(&config.storage).await?;
        if state.instance_id.is_empty() {
            state.instance_id = new_id("ins");
        }
        if config.secret_key.is_empty() {
            if state.secret_key.is_empty() {
                state.secret_key = crate::generate_secret_key();
                if config.instance_type == crate::InstanceType::Development {
                    state.secret_key = state.secret_key.replacen("sk_live_", "sk_test_", 1);
                }
            }
            config.secret_key = state.secret_key.clone();
        } else {
            state.secret_key = config.secret_key.clone();
        }
        if config.webhook_signing_secret.is_empty() {
            if state.webhook_signing_secret.is_empty() {
                state.webhook_signing_secret = crate::generate_webhook_secret();
            }
            config.webhook_signing_secret = state.webhook_signing_secret.clone();
        } else {
            state.webhook_signing_secret = config.webhook_signing_secret.clone();
        }
        if config.publishable_key.is_empty() {
            let live = crate::publishable_key_for_host(&pk_host(&config));
            config.publishable_key = match config.instance_type {
                crate::InstanceType::Production => live,
                crate::InstanceType::Development => live.replacen("pk_live_", "pk_test_", 1),
            };
        }
        config.allowed_redirect_origins = config
            .allowed_redirect_origins
            .iter()
            .map(|o| crate::util::normalize_origin(o))
            .collect();
        let keys = load_or_generate_keys(&mut state).await?;
        let webhooks = Webhooks::new(
            config.webhook_endpoints.clone(),
            config.webhook_signing_secret.clone(),
            config.webhook_retry_time_scale,
        );
        let emu = Emulator {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(state),
                keys: RwLock::new(keys),
                faults: Faults::default(),
                webhooks,
                rotate_lock: tokio::sync::Mutex::new(()),
                handshake_nonces: Mutex::new(Default::default()),
                metadata_writes: Mutex::new(Default::default()),
            }),
        };
        {
            let st = emu.lock_state();
            emu.persist(&st)?;
        }
        Ok(emu)
    }
}

fn pk_host(config: &Config) -> String {
    let host = url::Url::parse(&config.frontend_api_url)
        .ok()
        .and_then(|u| {
            let h = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h,
            })
        })
        .unwrap_or_else(|| "clerk.emulator.localhost".into());
    if host.contains('.') {
        host
    } else {
        format!("clerk.{host}")
    }
}
