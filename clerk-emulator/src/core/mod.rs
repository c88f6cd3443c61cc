//! Instance state and the operations shared by BAPI, FAPI pages, dashboard and the library
//! API. HTTP handlers stay thin: every rule Clerk enforces (uniqueness, validation, which
//! webhook fires) lives here so that all entry points behave the same.

mod dev_browsers;
mod events;
mod persistence;
mod public_api;
mod seed;
mod sessions;
mod signing;
mod startup;
mod user_list;
mod user_updates;
mod users;
mod validation;

pub(crate) use events::ReqInfo;
pub(crate) use user_list::ListQuery;
pub(crate) use user_updates::{MetadataPatch, UpdateUser};
pub(crate) use users::CreateUser;

use crate::keys::SigningKey;
use crate::model::PersistedState;
use crate::webhooks::Webhooks;
use crate::{Config, Faults};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub(crate) struct Inner {
    pub config: Config,
    pub state: Mutex<PersistedState>,
    pub keys: RwLock<Vec<SigningKey>>,
    pub faults: Faults,
    pub webhooks: Arc<Webhooks>,
    pub rotate_lock: tokio::sync::Mutex<()>,
    /// Handshake nonce → (directives, unix seconds when made).
    pub handshake_nonces: Mutex<HashMap<String, (Vec<String>, i64)>>,
    /// User id → metadata writes through BAPI that succeeded (a test aid: how often an app
    /// wrote, whatever the writes changed).
    pub metadata_writes: Mutex<HashMap<String, u32>>,
}

/// Result of [`Emulator::sign_in`].
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user_id: String,
    /// `sess_…`
    pub session_id: String,
    /// The `__session` JWT.
    pub session_token: String,
    /// The `__client_uat` value (unix seconds); `session_token`'s `iat` is ≥ it.
    pub client_uat: i64,
    /// The `__client` cookie value.
    pub client_token: String,
}
