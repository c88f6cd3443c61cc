//! Development instances: browsers known by a development-browser token (`__clerk_db_jwt`)
//! instead of the `__client` cookie, since a development Frontend API lives on another site
//! than the app; and the single-use nonces behind `format=nonce` handshakes.

use crate::api_error::ApiError;
use crate::keys::InstanceType;
use crate::model::Client;
use crate::util::{new_id, now_secs, random_hex};
use crate::Emulator;
use serde_json::json;

/// How long a handshake nonce can be redeemed (Clerk's are short-lived too).
const NONCE_LIFETIME_SECS: i64 = 60;

impl Emulator {
    pub fn is_development(&self) -> bool {
        self.inner.config.instance_type == InstanceType::Development
    }

    /// The development browser `token` names, with its client token; an unknown or missing
    /// token gets a new browser with an empty client, as Clerk's Frontend API does.
    pub(crate) fn op_dev_browser(&self, token: Option<&str>) -> Result<(String, String), ApiError> {
        if let Some(token) = token {
            let st = self.lock_state();
            if let Some(client) = st.dev_browsers.get(token) {
                return Ok((token.to_string(), client.clone()));
            }
        }
        let id = new_id("dvb");
        let token = self.sign_jwt(&json!({ "dev": id, "iat": now_secs() }), None)?;
        let client_token = format!("client_{}", random_hex(24));
        let mut st = self.lock_state();
        st.clients.insert(
            client_token.clone(),
            Client {
                id: new_id("client"),
                token: client_token.clone(),
                session_id: None,
                updated_at_secs: 0,
            },
        );
        st.dev_browsers.insert(token.clone(), client_token.clone());
        self.persist_logged(&st);
        Ok((token, client_token))
    }

    /// Keeps a handshake's directives behind a fresh nonce.
    pub(crate) fn op_store_handshake(&self, directives: Vec<String>) -> String {
        let nonce = format!("hsn_{}", random_hex(24));
        let mut nonces = self
            .inner
            .handshake_nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let now = now_secs();
        nonces.retain(|_, (_, created)| now - *created <= NONCE_LIFETIME_SECS);
        nonces.insert(nonce.clone(), (directives, now));
        nonce
    }

    /// The directives behind `nonce`, once.
    pub(crate) fn op_take_handshake(&self, nonce: &str) -> Option<Vec<String>> {
        let mut nonces = self
            .inner
            .handshake_nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (directives, created) = nonces.remove(nonce)?;
        (now_secs() - created <= NONCE_LIFETIME_SECS).then_some(directives)
    }
}
