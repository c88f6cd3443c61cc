//! How the app reaches its Clerk instance: the settings `config` reads from Clerk's own
//! variable names.

use crate::clerk::keys::{PublishableKey, Secret};

/// How the app reaches Clerk.
#[derive(Debug, Clone)]
pub enum ClerkSettings {
    /// Clerk's keys were given (real Clerk, or any Clerk-compatible service).
    Remote(Box<ClerkKeys>),
    /// No Clerk variable is set (development only): the built-in local identity provider runs
    /// inside the app, mounted at `/__clerk` like Clerk's proxy mode.
    Local,
}

/// Clerk's own variable names, validated.
#[derive(Debug, Clone)]
pub struct ClerkKeys {
    pub secret_key: Secret,
    pub publishable_key: PublishableKey,
    pub jwt_key: Option<String>,
    pub api_url: String,
    pub proxy_url: Option<String>,
    /// Where to send people to sign in; by default Clerk's Account Portal for the instance.
    pub sign_in_url: Option<String>,
    pub authorized_parties: Option<Vec<String>>,
    pub webhook_signing_secret: Secret,
}
