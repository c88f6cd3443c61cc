//! Clerk BAPI object shapes and the emulator's persisted state.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Clerk's `EmailAddress` verification object (admin-created addresses are verified by `admin`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Verification {
    pub object: String,
    pub status: String,
    pub strategy: String,
    pub attempts: Option<i64>,
    pub expire_at: Option<i64>,
}

impl Verification {
    pub fn admin_verified() -> Self {
        Verification {
            object: "verification_admin".into(),
            status: "verified".into(),
            strategy: "admin".into(),
            attempts: None,
            expire_at: None,
        }
    }
}

/// Clerk's BAPI `EmailAddress` object.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EmailAddress {
    pub id: String,
    pub object: String,
    pub email_address: String,
    pub reserved: bool,
    pub verification: Option<Verification>,
    pub linked_to: Vec<Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Clerk's BAPI `User` object (schema `User` of API version 2026-05-12). Timestamps are unix
/// milliseconds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: String,
    pub object: String,
    pub external_id: Option<String>,
    pub primary_email_address_id: Option<String>,
    pub primary_phone_number_id: Option<String>,
    pub primary_web3_wallet_id: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub profile_image_url: String,
    pub image_url: String,
    pub has_image: bool,
    pub public_metadata: Value,
    pub private_metadata: Value,
    pub unsafe_metadata: Value,
    pub email_addresses: Vec<EmailAddress>,
    pub phone_numbers: Vec<Value>,
    pub web3_wallets: Vec<Value>,
    pub passkeys: Vec<Value>,
    pub password_enabled: bool,
    pub two_factor_enabled: bool,
    pub totp_enabled: bool,
    pub backup_code_enabled: bool,
    pub mfa_enabled_at: Option<i64>,
    pub mfa_disabled_at: Option<i64>,
    pub password_last_updated_at: Option<i64>,
    pub external_accounts: Vec<Value>,
    pub saml_accounts: Vec<Value>,
    pub enterprise_accounts: Vec<Value>,
    pub organization_memberships: Vec<Value>,
    pub last_sign_in_at: Option<i64>,
    pub banned: bool,
    pub locked: bool,
    pub deprovisioned: bool,
    pub lockout_expires_in_seconds: Option<i64>,
    pub verification_attempts_remaining: Option<i64>,
    pub updated_at: i64,
    pub created_at: i64,
    pub delete_self_enabled: bool,
    pub create_organization_enabled: bool,
    pub create_organizations_limit: Option<i64>,
    pub last_active_at: Option<i64>,
    pub legal_accepted_at: Option<i64>,
    pub bypass_client_trust: bool,
}

impl User {
    /// The primary email address string, if any.
    pub fn primary_email(&self) -> Option<&str> {
        let pid = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|e| e.id == pid)
            .map(|e| e.email_address.as_str())
    }

    /// "First Last", or username, or email, or id: for pages.
    pub fn display_name(&self) -> String {
        let full = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !full.is_empty() {
            return full;
        }
        if let Some(u) = self.username.as_deref().filter(|s| !s.is_empty()) {
            return u.to_string();
        }
        if let Some(e) = self.primary_email() {
            return e.to_string();
        }
        self.id.clone()
    }
}

/// Input of [`crate::Emulator::create_user`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewUser {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub email: String,
    pub image_url: Option<String>,
    pub public_metadata: Value,
}

/// A sign-in session (`sess_…`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub status: String,
    /// Origin recorded at sign-in; used as `azp` when no better origin is known.
    pub azp: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A browser "client" (`__client` cookie → this record).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Client {
    pub id: String,
    pub token: String,
    pub session_id: Option<String>,
    /// Unix seconds; the value of `__client_uat`.
    pub updated_at_secs: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredKey {
    pub kid: String,
    pub created_at_ms: i64,
    pub pkcs8_der_b64: String,
}

/// Everything the emulator persists (Storage::File writes this as JSON).
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub(crate) struct PersistedState {
    pub instance_id: String,
    #[serde(default)]
    pub secret_key: String,
    #[serde(default)]
    pub webhook_signing_secret: String,
    /// Oldest first; the last one signs new tokens.
    #[serde(default)]
    pub keys: Vec<StoredKey>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub sessions: BTreeMap<String, Session>,
    /// keyed by client token
    #[serde(default)]
    pub clients: BTreeMap<String, Client>,
    /// Development instances: development-browser token → client token.
    #[serde(default)]
    pub dev_browsers: BTreeMap<String, String>,
}
