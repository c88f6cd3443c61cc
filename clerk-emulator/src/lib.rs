//! A local Clerk-compatible identity provider: Frontend API (sign-in pages, handshake, JWKS),
//! a Backend API subset (users, metadata, JWKS) and Svix-signed webhooks, plus a small
//! development dashboard. The Clerk protocol facts it follows are pinned by its tests against
//! Clerk's published examples and vectors in `tests/fixtures/clerk/`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), clerk_emulator::EmulatorError> {
//! let running = clerk_emulator::Emulator::spawn(clerk_emulator::Config::for_tests()).await?;
//! let user = running.emulator.create_user(clerk_emulator::NewUser {
//!     email: "ada@example.com".into(),
//!     ..Default::default()
//! }).await?;
//! let signed_in = running.emulator.sign_in(&user.id).await?;
//! println!("{} {}", running.url, signed_in.session_token);
//! # Ok(()) }
//! ```

mod api_error;
mod bapi;
mod core;
mod dashboard;
mod fapi;
mod faults;
mod html;
mod keys;
mod model;
mod tokens;
mod util;
mod webhooks;

pub use crate::core::SignedIn;
pub use faults::Faults;
pub use keys::{
    cookie_suffix, parse_publishable_key, publishable_key_for_host, InstanceType, SigningKey,
};
pub use model::{EmailAddress, NewUser, User, Verification};
pub use webhooks::{
    svix_signature, verify_svix_signature, DeliveryAttempt, SvixVerifyError, ATTEMPT_TIMEOUT,
    RETRY_SCHEDULE_SECS,
};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the emulator keeps its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Nothing survives the process.
    Memory,
    /// A JSON file (written atomically via temp file + rename) holding users, sessions,
    /// signing keys, the instance id and the secret keys.
    File(PathBuf),
}

/// Emulator configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public base URL of the emulator's FAPI (no trailing slash), e.g.
    /// `http://127.0.0.1:3000/__clerk` when mounted in the app. It is the `iss` of every token
    /// and the base of every absolute link/form in its pages.
    pub frontend_api_url: String,
    /// `sk_live_…` accepted as BAPI bearer. Empty: taken from storage or generated.
    pub secret_key: String,
    /// `pk_live_…`. Empty: derived from `frontend_api_url`'s host.
    pub publishable_key: String,
    /// Full URLs that receive Svix-signed events.
    pub webhook_endpoints: Vec<String>,
    /// `whsec_` + base64(24 random bytes). Empty: taken from storage or generated.
    pub webhook_signing_secret: String,
    /// Exact origins (`http://127.0.0.1:3000`) allowed as `redirect_url` targets. The
    /// emulator's own origin is always allowed.
    pub allowed_redirect_origins: Vec<String>,
    /// Session-token lifetime (Clerk: 60 s).
    pub token_lifetime: Duration,
    /// "Customize session token" template.
    pub session_token_template: serde_json::Value,
    pub storage: Storage,
    /// 1.0 = Svix's real retry schedule; tests use e.g. 0.001.
    pub webhook_retry_time_scale: f64,
    /// A production instance (`pk_live_`, the default) or a development one (`pk_test_`):
    /// the latter knows browsers by their development browser (`__clerk_db_jwt`), sets no
    /// cookie on the app's site, and hands handshake payloads over in the URL.
    pub instance_type: InstanceType,
}

/// Clerk's default-less template used by this project.
pub fn default_session_token_template() -> serde_json::Value {
    serde_json::json!({
        "dbId": "{{user.public_metadata.dbId}}",
        "role": "{{user.public_metadata.role}}"
    })
}

/// A fresh `sk_live_…` secret key.
pub fn generate_secret_key() -> String {
    format!("sk_live_{}", util::random_hex(24))
}

/// A fresh `whsec_…` signing secret (24 random bytes).
pub fn generate_webhook_secret() -> String {
    format!("whsec_{}", util::b64std(&util::random_bytes(24)))
}

impl Default for Config {
    fn default() -> Self {
        Config {
            frontend_api_url: String::new(),
            secret_key: String::new(),
            publishable_key: String::new(),
            webhook_endpoints: Vec::new(),
            webhook_signing_secret: String::new(),
            allowed_redirect_origins: Vec::new(),
            token_lifetime: Duration::from_secs(60),
            session_token_template: default_session_token_template(),
            storage: Storage::Memory,
            webhook_retry_time_scale: 1.0,
            instance_type: InstanceType::Production,
        }
    }
}

impl Config {
    /// Memory storage, random secrets, webhook time scale 0.001; `frontend_api_url` (and the
    /// publishable key) are filled in by [`Emulator::spawn`].
    pub fn for_tests() -> Config {
        Config {
            secret_key: generate_secret_key(),
            webhook_signing_secret: generate_webhook_secret(),
            webhook_retry_time_scale: 0.001,
            ..Config::default()
        }
    }

    /// Defaults with the given public URL (secrets come from storage or are generated).
    pub fn new(frontend_api_url: impl Into<String>) -> Config {
        Config {
            frontend_api_url: frontend_api_url.into(),
            ..Config::default()
        }
    }

    /// Origin (`scheme://host[:port]`) of `frontend_api_url`.
    pub fn frontend_origin(&self) -> String {
        util::normalize_origin(&self.frontend_api_url)
    }
}

/// Errors of the library API.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage error: {0}")]
    Storage(String),
    #[error("crypto error: {0}")]
    Crypto(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A Clerk API error (code, long message).
    #[error("{code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
}

/// Cheap-to-clone handle on one emulated Clerk instance.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<core::Inner>,
}

/// An emulator serving on 127.0.0.1; stops when dropped (or via [`RunningEmulator::shutdown`]).
pub struct RunningEmulator {
    /// `http://127.0.0.1:{port}` (== `emulator.config().frontend_api_url`).
    pub url: String,
    pub emulator: Emulator,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningEmulator {
    /// What an app sets, under Clerk's own variable names, to use this instance where it
    /// would use clerk.com: the keys, the webhook signing secret, the Backend API, the Frontend
    /// API (as the proxy a development instance is reached through) and the sign-in page.
    pub fn app_env(&self) -> Vec<(String, String)> {
        let config = self.emulator.config();
        let url = &self.url;
        [
            ("CLERK_SECRET_KEY", config.secret_key.clone()),
            ("CLERK_PUBLISHABLE_KEY", config.publishable_key.clone()),
            ("CLERK_API_URL", url.clone()),
            ("CLERK_PROXY_URL", url.clone()),
            ("CLERK_SIGN_IN_URL", format!("{url}/sign-in")),
            (
                "CLERK_WEBHOOK_SIGNING_SECRET",
                config.webhook_signing_secret.clone(),
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Emulator {
    /// Bind 127.0.0.1:0, set `frontend_api_url` to `http://127.0.0.1:{port}` (when empty) and
    /// serve [`Emulator::router`] in a tokio task.
    pub async fn spawn(mut config: Config) -> Result<RunningEmulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        if config.frontend_api_url.is_empty() {
            config.frontend_api_url = format!("http://127.0.0.1:{}", addr.port());
        }
        let emulator = Emulator::new(config).await?;
        let app = emulator.router();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(RunningEmulator {
            url: emulator.config().frontend_api_url.clone(),
            emulator,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The full router (FAPI + BAPI + dashboard), everything at the root.
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .merge(fapi::routes())
            .merge(bapi::routes())
            .merge(dashboard::routes())
            .with_state(self.clone())
    }

    /// Effective configuration (secrets and publishable key filled in).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Every webhook delivery attempt so far, in order.
    pub fn webhook_log(&self) -> Vec<DeliveryAttempt> {
        self.inner.webhooks.log()
    }

    /// Resolves when no webhook delivery is pending or in flight.
    pub async fn webhooks_idle(&self) {
        self.inner.webhooks.idle().await
    }

    /// How many metadata writes (`PATCH` or `PUT /v1/users/{id}/metadata`) for this user the
    /// Backend API answered 200, since the emulator started: what an app's writer did, which
    /// the user's state alone cannot tell (a second identical write changes nothing).
    pub fn metadata_writes(&self, user_id: &str) -> u32 {
        self.metadata_write_counts()
            .get(user_id)
            .copied()
            .unwrap_or(0)
    }

    /// [`Emulator::metadata_writes`] of every user written to at least once.
    pub fn metadata_write_counts(&self) -> std::collections::HashMap<String, u32> {
        self.inner
            .metadata_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn count_metadata_write(&self, user_id: &str) {
        *self
            .inner
            .metadata_writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(user_id.to_owned())
            .or_default() += 1;
    }
}
