//! The keys that sign session tokens: Clerk's JWKS, cached, or a PEM key (`CLERK_JWT_KEY`).
//!
//! Keys are fetched from the Backend API (`GET /v1/jwks`, as Clerk's SDK does) and cached by
//! `kid`. A token with an unknown `kid` triggers a refetch, because that is how a key rotation
//! shows up, but at most one fetch per `min_refetch_interval`: a flood of made-up kids cannot
//! make the app hammer Clerk. The whole set is also refreshed after `max_age`, keeping the old
//! keys when the refresh fails.

use crate::clerk::api::ClerkApi;
use jsonwebtoken::DecodingKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key with this `kid`, even after a refetch (Clerk's `jwk-kid-mismatch`).
    #[error("no signing key with kid {0:?}")]
    KidMismatch(String),
    /// The JWKS could not be loaded (Clerk's `jwk-remote-failed-to-load`).
    #[error("the signing keys could not be loaded: {0}")]
    RemoteFailed(String),
}

enum Source {
    Pem(DecodingKey),
    Jwks(ClerkApi),
}

struct Cached {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

pub struct KeyStore {
    source: Source,
    cache: RwLock<Cached>,
    /// Serialises fetches and remembers when the last one started.
    fetch_gate: Mutex<Option<Instant>>,
    min_refetch_interval: Duration,
    max_age: Duration,
    fetches: AtomicU64,
}

impl KeyStore {
    pub fn from_pem(pem: &str) -> Result<KeyStore, String> {
        let key = DecodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|error| format!("CLERK_JWT_KEY is not an RSA public key: {error}"))?;
        Ok(Self::new(Source::Pem(key)))
    }

    pub fn from_jwks(api: ClerkApi) -> KeyStore {
        Self::new(Source::Jwks(api))
    }

    fn new(source: Source) -> KeyStore {
        KeyStore {
            source,
            cache: RwLock::new(Cached {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            fetch_gate: Mutex::new(None),
            min_refetch_interval: Duration::from_secs(5),
            max_age: Duration::from_secs(300),
            fetches: AtomicU64::new(0),
        }
    }

    /// At most one JWKS fetch per `interval` for unknown kids.
    pub fn with_min_refetch_interval(mut self, interval: Duration) -> KeyStore {
        self.min_refetch_interval = interval;
        self
    }

    /// How many times the JWKS was fetched (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key for `kid`. With a PEM key, the `kid` is not looked at (as in Clerk's SDK).
    pub async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, KeyError> {
        let api = match &self.source {
            Source::Pem(key) => return Ok(key.clone()),
            Source::Jwks(api) => api,
        };
        let kid = kid.ok_or_else(|| KeyError::KidMismatch(String::new()))?;
        {
            let cache = self.cache.read().await;
            let fresh = cache
                .fetched_at
                .is_some_and(|at| at.elapsed() < self.max_age);
            if let Some(key) = cache.keys.get(kid) {
                if fresh {
                    return Ok(key.clone());
                }
            }
        }
        let refetched = self.refetch(api).await;
        let cache = self.cache.read().await;
        match (cache.keys.get(kid), refetched) {
            // A failed refresh keeps the keys we had: Clerk being briefly down must not sign
            // everyone out.
            (Some(key), _) => Ok(key.clone()),
            (None, Err(error)) => Err(error),
            (None, Ok(())) => Err(KeyError::KidMismatch(kid.to_owned())),
        }
    }

    async fn refetch(&self, api: &ClerkApi) -> Result<(), KeyError> {
        let mut last_fetch = self.fetch_gate.lock().await;
        if let Some(at) = *last_fetch {
            if at.elapsed() < self.min_refetch_interval {
                // Someone fetched moments ago (maybe while we waited for the gate): use that.
                return match self.cache.read().await.fetched_at {
                    Some(_) => Ok(()),
                    None => Err(KeyError::RemoteFailed("the last fetch failed".into())),
                };
            }
        }
        *last_fetch = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let jwks = api.jwks().await.map_err(|error| {
            tracing::warn!(%error, trace_id = error.trace_id(), "fetching Clerk's JWKS failed");
            KeyError::RemoteFailed(error.to_string())
        })?;
        let keys: HashMap<String, DecodingKey> = jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.get("kid")?.as_str()?.to_owned();
                let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).ok()?;
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                Some((kid, key))
            })
            .collect();
        if keys.is_empty() {
            return Err(KeyError::RemoteFailed("the JWKS has no usable key".into()));
        }
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }
}

pub type SharedKeyStore = Arc<KeyStore>;
