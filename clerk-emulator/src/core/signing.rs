//! The instance's RSA signing keys: JWKS, rotation, JWT signing.

use crate::api_error::ApiError;
use crate::keys::SigningKey;
use crate::model::{PersistedState, StoredKey};
use crate::util::{new_id, now_ms};
use crate::{Emulator, EmulatorError};
use serde_json::{json, Value};

/// How many signing keys JWKS keeps after a rotation (current + previous).
const KEYS_KEPT: usize = 2;

/// The stored keys; with none stored, a first key whose kid is the instance id.
pub(super) async fn load_or_generate_keys(
    state: &mut PersistedState,
) -> Result<Vec<SigningKey>, EmulatorError> {
    let mut keys = Vec::new();
    for k in &state.keys {
        keys.push(SigningKey::from_pkcs8_b64(
            k.kid.clone(),
            k.created_at_ms,
            &k.pkcs8_der_b64,
        )?);
    }
    if keys.is_empty() {
        let kid = state.instance_id.clone();
        let key = tokio::task::spawn_blocking(move || SigningKey::generate(kid, now_ms()))
            .await
            .map_err(|e| EmulatorError::Crypto(e.to_string()))??;
        state.keys.push(StoredKey {
            kid: key.kid.clone(),
            created_at_ms: key.created_at_ms,
            pkcs8_der_b64: key.pkcs8_b64(),
        });
        keys.push(key);
    }
    Ok(keys)
}

impl Emulator {
    /// The instance id (`ins_…`), also the kid of the first signing key.
    pub fn instance_id(&self) -> String {
        self.lock_state().instance_id.clone()
    }

    /// kid of the key that signs new tokens.
    pub fn current_kid(&self) -> String {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.last().map(|k| k.kid.clone()).unwrap_or_default()
    }

    /// JWKS `{"keys":[…]}` with every served key (newest last).
    pub fn jwks(&self) -> Value {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        json!({"keys": keys.iter().map(SigningKey::jwk).collect::<Vec<_>>()})
    }

    /// Current signing key's public key as SPKI PEM (what Clerk calls the JWT public key).
    pub fn public_key_pem(&self) -> String {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.last()
            .map(SigningKey::public_key_pem)
            .unwrap_or_default()
    }

    /// Generate a new signing key (new kid `ins_…`); JWKS serves it and the previous one, new
    /// tokens use the new one. Returns the new kid.
    pub async fn rotate_key(&self) -> String {
        let _guard = self.inner.rotate_lock.lock().await;
        let kid = new_id("ins");
        let k2 = kid.clone();
        let key =
            match tokio::task::spawn_blocking(move || SigningKey::generate(k2, now_ms())).await {
                Ok(Ok(k)) => k,
                _ => return self.current_kid(),
            };
        let stored = StoredKey {
            kid: key.kid.clone(),
            created_at_ms: key.created_at_ms,
            pkcs8_der_b64: key.pkcs8_b64(),
        };
        {
            let mut keys = self.inner.keys.write().unwrap_or_else(|p| p.into_inner());
            keys.push(key);
            while keys.len() > KEYS_KEPT {
                keys.remove(0);
            }
        }
        let mut st = self.lock_state();
        st.keys.push(stored);
        while st.keys.len() > KEYS_KEPT {
            st.keys.remove(0);
        }
        self.persist_logged(&st);
        kid
    }

    /// Signs `payload` with the instance's current RSA key under exactly the given `header`
    /// (an RS256 signature whatever the header says). For tests that forge tokens: wrong
    /// issuer, expired, unknown kid, a lying `alg` header…
    pub fn sign_with_instance_key(
        &self,
        header: &Value,
        payload: &Value,
    ) -> Result<String, EmulatorError> {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys
            .last()
            .ok_or_else(|| EmulatorError::Crypto("no signing key".into()))?;
        key.sign_jwt(header, payload)
    }

    /// Sign a JWT with the current key. `cat` adds Clerk's token-category header.
    pub(crate) fn sign_jwt(&self, payload: &Value, cat: Option<&str>) -> Result<String, ApiError> {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.last().ok_or_else(|| ApiError::internal(500))?;
        let mut header = json!({"alg": "RS256", "kid": key.kid, "typ": "JWT"});
        if let (Some(c), Value::Object(m)) = (cat, &mut header) {
            m.insert("cat".into(), json!(c));
        }
        key.sign_jwt(&header, payload)
            .map_err(|_| ApiError::internal(500))
    }
}
