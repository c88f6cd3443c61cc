//! State, persistence and the operations shared by BAPI, FAPI pages, dashboard and helpers.

use crate::api_error::ApiError;
use crate::keys::SigningKey;
use crate::model::{Client, EmailAddress, PersistedState, Session, StoredKey, User, Verification};
use crate::tokens::{session_claims, ClaimInput, SESSION_TOKEN_CATEGORY};
use crate::util::{new_id, now_ms, now_secs, random_hex};
use crate::webhooks::{envelope, Webhooks};
use crate::{Config, Emulator, EmulatorError, Faults, NewUser, Storage};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// How many signing keys JWKS keeps after a rotation (current + previous).
const KEYS_KEPT: usize = 2;

pub(crate) struct Inner {
    pub config: Config,
    pub state: Mutex<PersistedState>,
    pub keys: RwLock<Vec<SigningKey>>,
    pub faults: Faults,
    pub webhooks: Arc<Webhooks>,
    pub rotate_lock: tokio::sync::Mutex<()>,
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

/// Who caused a change (goes into webhook `event_attributes.http_request`).
#[derive(Clone, Debug, Default)]
pub(crate) struct ReqInfo {
    pub client_ip: String,
    pub user_agent: String,
}

impl ReqInfo {
    pub fn from_headers(h: &axum::http::HeaderMap) -> Self {
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let ip = get("x-forwarded-for")
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        ReqInfo {
            client_ip: ip,
            user_agent: get("user-agent"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct CreateUser {
    pub email_addresses: Vec<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub external_id: Option<String>,
    pub image_url: Option<String>,
    pub public_metadata: Option<Value>,
    pub private_metadata: Option<Value>,
    pub unsafe_metadata: Option<Value>,
    pub delete_self_enabled: Option<bool>,
    pub create_organization_enabled: Option<bool>,
}

/// `Some(None)` = set to null; `None` = leave untouched.
#[derive(Clone, Debug, Default)]
pub(crate) struct UpdateUser {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub username: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub primary_email_address_id: Option<String>,
    /// Dashboard: replace the primary email address string.
    pub primary_email: Option<String>,
    pub image_url: Option<Option<String>>,
    pub delete_self_enabled: Option<bool>,
    pub create_organization_enabled: Option<bool>,
    pub create_organizations_limit: Option<Option<i64>>,
    /// Legacy (API versions before 2026-05-12): replace whole objects.
    pub public_metadata: Option<Value>,
    pub private_metadata: Option<Value>,
    pub unsafe_metadata: Option<Value>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct MetadataPatch {
    pub public_metadata: Option<Value>,
    pub private_metadata: Option<Value>,
    pub unsafe_metadata: Option<Value>,
}

#[derive(Clone, Debug)]
pub(crate) struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub order_field: String,
    pub order_desc: bool,
    pub query: Option<String>,
    pub email_addresses: Vec<String>,
    pub user_ids: Vec<String>,
    pub usernames: Vec<String>,
    pub external_ids: Vec<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            limit: 10,
            offset: 0,
            order_field: "created_at".into(),
            order_desc: true,
            query: None,
            email_addresses: Vec::new(),
            user_ids: Vec::new(),
            usernames: Vec::new(),
            external_ids: Vec::new(),
        }
    }
}

/// Deep merge as Clerk's `PATCH …/metadata`: objects merge recursively, `null` deletes at any
/// depth, everything else (arrays included) replaces.
pub(crate) fn deep_merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            match v {
                Value::Null => {
                    t.remove(k);
                }
                Value::Object(_) => {
                    let entry = t.entry(k.clone()).or_insert(Value::Null);
                    deep_merge(entry, v);
                }
                other => {
                    t.insert(k.clone(), other.clone());
                }
            }
        }
    }
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.contains('@')
        && e.len() <= 320
}

fn valid_username(u: &str) -> bool {
    (4..=64).contains(&u.chars().count())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn metadata_object(name: &str, v: Option<Value>) -> Result<Option<Value>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(json!({}))),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ApiError::param_value_invalid(
            name,
            &format!("{name} must be a valid key-value object"),
        )),
    }
}

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
        let mut state = match &config.storage {
            Storage::File(path) if path.exists() => {
                let bytes = tokio::fs::read(path).await?;
                serde_json::from_slice::<PersistedState>(&bytes)
                    .map_err(|e| EmulatorError::Storage(format!("{}: {e}", path.display())))?
            }
            _ => PersistedState::default(),
        };
        if state.instance_id.is_empty() {
            state.instance_id = new_id("ins");
        }
        if config.secret_key.is_empty() {
            if state.secret_key.is_empty() {
                state.secret_key = crate::generate_secret_key();
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
            config.publishable_key = crate::publishable_key_for_host(&pk_host(&config));
        }
        config.allowed_redirect_origins = config
            .allowed_redirect_origins
            .iter()
            .map(|o| crate::util::normalize_origin(o))
            .collect();
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
            }),
        };
        {
            let st = emu.lock_state();
            emu.persist(&st)?;
        }
        Ok(emu)
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, PersistedState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn persist(&self, st: &PersistedState) -> Result<(), EmulatorError> {
        let Storage::File(path) = &self.inner.config.storage else {
            return Ok(());
        };
        let bytes =
            serde_json::to_vec_pretty(st).map_err(|e| EmulatorError::Storage(e.to_string()))?;
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut tmp = path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    fn persist_logged(&self, st: &PersistedState) {
        if let Err(e) = self.persist(st) {
            tracing::warn!("clerk-emulator: could not persist state: {e}");
        }
    }

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

    fn fire(&self, event_type: &str, data: Value, req: &ReqInfo) {
        let body = envelope(
            event_type,
            data,
            &self.instance_id(),
            &req.client_ip,
            &req.user_agent,
        );
        let faults = self.inner.faults.webhook_snapshot();
        self.inner.webhooks.enqueue(event_type, body, faults);
    }

    fn avatar_url(&self, user_id: &str) -> String {
        format!(
            "{}/avatar/{user_id}.svg",
            self.inner.config.frontend_api_url
        )
    }

    // ---------------------------------------------------------------- users

    pub(crate) fn op_create_user(
        &self,
        input: CreateUser,
        req: &ReqInfo,
    ) -> Result<User, ApiError> {
        let emails: Vec<String> = input
            .email_addresses
            .iter()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .collect();
        if emails.is_empty() {
            return Err(ApiError::data_missing("email_address"));
        }
        for e in &emails {
            if !valid_email(e) {
                return Err(ApiError::param_format_invalid(
                    "email_address",
                    "email_address must be a valid email address.",
                ));
            }
        }
        let username = non_empty(input.username);
        if let Some(u) = &username {
            if !valid_username(u) {
                return Err(ApiError::param_format_invalid(
                    "username",
                    "Usernames must be 4 to 64 characters: letters, digits, '_', '-' or '.'.",
                ));
            }
        }
        let public_metadata = metadata_object("public_metadata", input.public_metadata)?;
        let private_metadata = metadata_object("private_metadata", input.private_metadata)?;
        let unsafe_metadata = metadata_object("unsafe_metadata", input.unsafe_metadata)?;
        let image_url = non_empty(input.image_url);

        let mut st = self.lock_state();
        for (i, e) in emails.iter().enumerate() {
            let taken = st.users.iter().any(|u| {
                u.email_addresses
                    .iter()
                    .any(|x| x.email_address.eq_ignore_ascii_case(e))
            }) || emails[..i].iter().any(|x| x.eq_ignore_ascii_case(e));
            if taken {
                return Err(ApiError::identifier_exists(
                    "email_address",
                    "email address",
                ));
            }
        }
        if let Some(u) = &username {
            if st.users.iter().any(|x| {
                x.username
                    .as_deref()
                    .is_some_and(|y| y.eq_ignore_ascii_case(u))
            }) {
                return Err(ApiError::identifier_exists("username", "username"));
            }
        }
        if let Some(x) = input.external_id.as_deref() {
            if st.users.iter().any(|u| u.external_id.as_deref() == Some(x)) {
                return Err(ApiError::identifier_exists("external_id", "external ID"));
            }
        }
        let last_created = st.users.iter().map(|u| u.created_at).max().unwrap_or(0);
        let now = now_ms().max(last_created + 1);
        let id = new_id("user");
        let email_addresses: Vec<EmailAddress> = emails
            .iter()
            .map(|e| EmailAddress {
                id: new_id("idn"),
                object: "email_address".into(),
                email_address: e.clone(),
                reserved: false,
                verification: Some(Verification::admin_verified()),
                linked_to: Vec::new(),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let avatar = image_url.clone().unwrap_or_else(|| self.avatar_url(&id));
        let user = User {
            id: id.clone(),
            object: "user".into(),
            external_id: non_empty(input.external_id),
            primary_email_address_id: email_addresses.first().map(|e| e.id.clone()),
            primary_phone_number_id: None,
            primary_web3_wallet_id: None,
            username,
            first_name: non_empty(input.first_name),
            last_name: non_empty(input.last_name),
            locale: None,
            profile_image_url: avatar.clone(),
            image_url: avatar,
            has_image: image_url.is_some(),
            public_metadata: public_metadata.unwrap_or_else(|| json!({})),
            private_metadata: private_metadata.unwrap_or_else(|| json!({})),
            unsafe_metadata: unsafe_metadata.unwrap_or_else(|| json!({})),
            email_addresses,
            phone_numbers: Vec::new(),
            web3_wallets: Vec::new(),
            passkeys: Vec::new(),
            password_enabled: false,
            two_factor_enabled: false,
            totp_enabled: false,
            backup_code_enabled: false,
            mfa_enabled_at: None,
            mfa_disabled_at: None,
            password_last_updated_at: None,
            external_accounts: Vec::new(),
            saml_accounts: Vec::new(),
            enterprise_accounts: Vec::new(),
            organization_memberships: Vec::new(),
            last_sign_in_at: None,
            banned: false,
            locked: false,
            deprovisioned: false,
            lockout_expires_in_seconds: None,
            verification_attempts_remaining: Some(100),
            updated_at: now,
            created_at: now,
            delete_self_enabled: input.delete_self_enabled.unwrap_or(true),
            create_organization_enabled: input.create_organization_enabled.unwrap_or(true),
            create_organizations_limit: None,
            last_active_at: None,
            legal_accepted_at: None,
            bypass_client_trust: false,
        };
        st.users.push(user.clone());
        self.persist_logged(&st);
        drop(st);
        self.fire(
            "user.created",
            serde_json::to_value(&user).unwrap_or_default(),
            req,
        );
        Ok(user)
    }

    fn bump(user: &mut User) {
        user.updated_at = now_ms().max(user.updated_at + 1);
    }

    pub(crate) fn op_update_user(
        &self,
        id: &str,
        upd: UpdateUser,
        req: &ReqInfo,
    ) -> Result<User, ApiError> {
        let public_metadata = metadata_object("public_metadata", upd.public_metadata)?;
        let private_metadata = metadata_object("private_metadata", upd.private_metadata)?;
        let unsafe_metadata = metadata_object("unsafe_metadata", upd.unsafe_metadata)?;
        let mut st = self.lock_state();
        let Some(idx) = st.users.iter().position(|u| u.id == id) else {
            return Err(ApiError::user_not_found(id));
        };
        if let Some(Some(u)) = &upd.username {
            let u = u.trim();
            if !u.is_empty() {
                if !valid_username(u) {
                    return Err(ApiError::param_format_invalid(
                        "username",
                        "Usernames must be 4 to 64 characters: letters, digits, '_', '-' or '.'.",
                    ));
                }
                if st.users.iter().any(|x| {
                    x.id != id
                        && x.username
                            .as_deref()
                            .is_some_and(|y| y.eq_ignore_ascii_case(u))
                }) {
                    return Err(ApiError::identifier_exists("username", "username"));
                }
            }
        }
        if let Some(e) = &upd.primary_email {
            let e = e.trim();
            if !valid_email(e) {
                return Err(ApiError::param_format_invalid(
                    "email_address",
                    "email_address must be a valid email address.",
                ));
            }
            if st.users.iter().any(|x| {
                x.id != id
                    && x.email_addresses
                        .iter()
                        .any(|a| a.email_address.eq_ignore_ascii_case(e))
            }) {
                return Err(ApiError::identifier_exists(
                    "email_address",
                    "email address",
                ));
            }
        }
        if let Some(pid) = &upd.primary_email_address_id {
            if !st.users[idx].email_addresses.iter().any(|a| &a.id == pid) {
                return Err(ApiError::param_value_invalid(
                    "primary_email_address_id",
                    &format!("{pid} does not match one of the allowed values for parameter primary_email_address_id"),
                ));
            }
        }
        let avatar = self.avatar_url(id);
        let user = &mut st.users[idx];
        if let Some(v) = upd.first_name {
            user.first_name = non_empty(v);
        }
        if let Some(v) = upd.last_name {
            user.last_name = non_empty(v);
        }
        if let Some(v) = upd.username {
            user.username = non_empty(v);
        }
        if let Some(v) = upd.external_id {
            user.external_id = non_empty(v);
        }
        if let Some(v) = upd.locale {
            user.locale = non_empty(v);
        }
        if let Some(v) = upd.primary_email_address_id {
            user.primary_email_address_id = Some(v);
        }
        if let Some(v) = upd.image_url {
            match non_empty(v) {
                Some(url) => {
                    user.image_url = url.clone();
                    user.profile_image_url = url;
                    user.has_image = true;
                }
                None => {
                    user.image_url = avatar.clone();
                    user.profile_image_url = avatar;
                    user.has_image = false;
                }
            }
        }
        if let Some(v) = upd.delete_self_enabled {
            user.delete_self_enabled = v;
        }
        if let Some(v) = upd.create_organization_enabled {
            user.create_organization_enabled = v;
        }
        if let Some(v) = upd.create_organizations_limit {
            user.create_organizations_limit = v;
        }
        if let Some(v) = public_metadata {
            user.public_metadata = v;
        }
        if let Some(v) = private_metadata {
            user.private_metadata = v;
        }
        if let Some(v) = unsafe_metadata {
            user.unsafe_metadata = v;
        }
        Self::bump(user);
        if let Some(e) = upd.primary_email {
            let now = user.updated_at;
            let pid = user.primary_email_address_id.clone();
            match user
                .email_addresses
                .iter_mut()
                .find(|a| Some(&a.id) == pid.as_ref())
            {
                Some(a) => {
                    if a.email_address != e.trim() {
                        a.email_address = e.trim().to_string();
                        a.updated_at = now;
                    }
                }
                None => {
                    let a = EmailAddress {
                        id: new_id("idn"),
                        object: "email_address".into(),
                        email_address: e.trim().to_string(),
                        reserved: false,
                        verification: Some(Verification::admin_verified()),
                        linked_to: Vec::new(),
                        created_at: now,
                        updated_at: now,
                    };
                    user.primary_email_address_id = Some(a.id.clone());
                    user.email_addresses.push(a);
                }
            }
        }
        let user = user.clone();
        self.persist_logged(&st);
        drop(st);
        self.fire(
            "user.updated",
            serde_json::to_value(&user).unwrap_or_default(),
            req,
        );
        Ok(user)
    }

    /// PATCH (deep merge) or PUT (replace) `…/metadata`.
    pub(crate) fn op_update_metadata(
        &self,
        id: &str,
        patch: MetadataPatch,
        replace: bool,
        req: &ReqInfo,
    ) -> Result<User, ApiError> {
        for (name, v) in [
            ("public_metadata", &patch.public_metadata),
            ("private_metadata", &patch.private_metadata),
            ("unsafe_metadata", &patch.unsafe_metadata),
        ] {
            if let Some(v) = v {
                if !v.is_object() && !v.is_null() {
                    return Err(ApiError::param_value_invalid(
                        name,
                        &format!("{name} must be a valid key-value object"),
                    ));
                }
            }
        }
        let mut st = self.lock_state();
        let Some(user) = st.users.iter_mut().find(|u| u.id == id) else {
            return Err(ApiError::user_not_found(id));
        };
        let apply = |target: &mut Value, v: &Option<Value>, nullable: bool| {
            if let Some(v) = v {
                if replace {
                    *target = if v.is_null() && !nullable {
                        json!({})
                    } else {
                        v.clone()
                    };
                } else if v.is_null() {
                    *target = json!({});
                } else {
                    deep_merge(target, v);
                }
            }
        };
        apply(&mut user.public_metadata, &patch.public_metadata, false);
        apply(&mut user.private_metadata, &patch.private_metadata, true);
        apply(&mut user.unsafe_metadata, &patch.unsafe_metadata, false);
        Self::bump(user);
        let user = user.clone();
        self.persist_logged(&st);
        drop(st);
        self.fire(
            "user.updated",
            serde_json::to_value(&user).unwrap_or_default(),
            req,
        );
        Ok(user)
    }

    pub(crate) fn op_delete_user(&self, id: &str, req: &ReqInfo) -> Result<Value, ApiError> {
        let mut st = self.lock_state();
        let Some(idx) = st.users.iter().position(|u| u.id == id) else {
            return Err(ApiError::user_not_found(id));
        };
        let user = st.users.remove(idx);
        let ended: Vec<String> = st
            .sessions
            .values()
            .filter(|s| s.user_id == id)
            .map(|s| s.id.clone())
            .collect();
        for sid in &ended {
            st.sessions.remove(sid);
        }
        for c in st.clients.values_mut() {
            if c.session_id.as_ref().is_some_and(|s| ended.contains(s)) {
                c.session_id = None;
                c.updated_at_secs = now_secs();
            }
        }
        self.persist_logged(&st);
        drop(st);
        let mut data = json!({"object": "user", "id": user.id, "deleted": true});
        if let (Some(x), Value::Object(m)) = (&user.external_id, &mut data) {
            m.insert("external_id".into(), json!(x));
        }
        self.fire("user.deleted", data.clone(), req);
        Ok(data)
    }

    pub(crate) fn op_list(&self, q: &ListQuery) -> (Vec<User>, usize) {
        let st = self.lock_state();
        let needle = q.query.as_ref().map(|s| s.to_lowercase());
        let mut users: Vec<User> = st
            .users
            .iter()
            .filter(|u| {
                (q.email_addresses.is_empty()
                    || u.email_addresses.iter().any(|a| {
                        q.email_addresses
                            .iter()
                            .any(|e| e.eq_ignore_ascii_case(&a.email_address))
                    }))
                    && (q.user_ids.is_empty() || q.user_ids.iter().any(|x| x == &u.id))
                    && (q.usernames.is_empty()
                        || q.usernames.iter().any(|x| {
                            u.username
                                .as_deref()
                                .is_some_and(|y| y.eq_ignore_ascii_case(x))
                        }))
                    && (q.external_ids.is_empty()
                        || q.external_ids
                            .iter()
                            .any(|x| u.external_id.as_deref() == Some(x.as_str())))
                    && needle.as_ref().is_none_or(|n| {
                        let mut hay: Vec<String> = vec![u.id.to_lowercase()];
                        hay.extend(
                            u.email_addresses
                                .iter()
                                .map(|a| a.email_address.to_lowercase()),
                        );
                        for v in [&u.username, &u.first_name, &u.last_name]
                            .into_iter()
                            .flatten()
                        {
                            hay.push(v.to_lowercase());
                        }
                        hay.iter().any(|h| h.contains(n.as_str()))
                    })
            })
            .cloned()
            .collect();
        drop(st);
        let total = users.len();
        let key = |u: &User| -> (Option<String>, i64) {
            match q.order_field.as_str() {
                "updated_at" => (None, u.updated_at),
                "email_address" => (u.primary_email().map(str::to_lowercase), 0),
                "first_name" => (u.first_name.as_ref().map(|s| s.to_lowercase()), 0),
                "last_name" => (u.last_name.as_ref().map(|s| s.to_lowercase()), 0),
                "username" => (u.username.as_ref().map(|s| s.to_lowercase()), 0),
                "last_sign_in_at" => (None, u.last_sign_in_at.unwrap_or(0)),
                "last_active_at" => (None, u.last_active_at.unwrap_or(0)),
                _ => (None, u.created_at),
            }
        };
        users.sort_by(|a, b| {
            let o = key(a).cmp(&key(b)).then(a.created_at.cmp(&b.created_at));
            if q.order_desc {
                o.reverse()
            } else {
                o
            }
        });
        let page = users.into_iter().skip(q.offset).take(q.limit).collect();
        (page, total)
    }

    // ---------------------------------------------------------------- sessions

    pub(crate) fn op_sign_in(
        &self,
        user_id: &str,
        client_token: Option<&str>,
        azp: Option<String>,
    ) -> Result<SignedIn, ApiError> {
        let mut st = self.lock_state();
        let now = now_ms();
        let Some(user) = st.users.iter_mut().find(|u| u.id == user_id) else {
            return Err(ApiError::user_not_found(user_id));
        };
        user.last_sign_in_at = Some(now);
        user.last_active_at = Some(now);
        let token = match client_token.filter(|t| st.clients.contains_key(*t)) {
            Some(t) => t.to_string(),
            None => {
                let t = format!("client_{}", random_hex(24));
                st.clients.insert(
                    t.clone(),
                    Client {
                        id: new_id("client"),
                        token: t.clone(),
                        session_id: None,
                        updated_at_secs: 0,
                    },
                );
                t
            }
        };
        let (client_id, old) = match st.clients.get(&token) {
            Some(c) => (c.id.clone(), c.session_id.clone()),
            None => return Err(ApiError::internal(500)),
        };
        if let Some(old) = old {
            st.sessions.remove(&old);
        }
        let sid = new_id("sess");
        st.sessions.insert(
            sid.clone(),
            Session {
                id: sid.clone(),
                user_id: user_id.to_string(),
                client_id,
                status: "active".into(),
                azp,
                created_at: now,
                updated_at: now,
            },
        );
        let uat = now_secs();
        if let Some(c) = st.clients.get_mut(&token) {
            c.session_id = Some(sid.clone());
            c.updated_at_secs = uat;
        }
        self.persist_logged(&st);
        drop(st);
        let jwt = self.mint_for_session(&sid, None)?;
        Ok(SignedIn {
            user_id: user_id.to_string(),
            session_id: sid,
            session_token: jwt,
            client_uat: uat,
            client_token: token,
        })
    }

    /// End the client's session. Returns the ended session id.
    pub(crate) fn op_sign_out(&self, client_token: &str) -> Option<String> {
        let mut st = self.lock_state();
        let sid = st.clients.get_mut(client_token).and_then(|c| {
            c.updated_at_secs = now_secs();
            c.session_id.take()
        })?;
        st.sessions.remove(&sid);
        self.persist_logged(&st);
        Some(sid)
    }

    /// (session id, client_uat) of the client's live session.
    pub(crate) fn live_session(&self, client_token: &str) -> Option<(String, i64)> {
        let st = self.lock_state();
        let c = st.clients.get(client_token)?;
        let sid = c.session_id.clone()?;
        let s = st.sessions.get(&sid)?;
        if s.status != "active" || !st.users.iter().any(|u| u.id == s.user_id) {
            return None;
        }
        Some((sid, c.updated_at_secs))
    }

    /// User of the client's live session.
    pub(crate) fn client_user(&self, client_token: &str) -> Option<User> {
        let (sid, _) = self.live_session(client_token)?;
        let st = self.lock_state();
        let uid = st.sessions.get(&sid)?.user_id.clone();
        st.users.iter().find(|u| u.id == uid).cloned()
    }

    /// Mint a session token; `azp` overrides the origin recorded at sign-in.
    pub(crate) fn mint_for_session(
        &self,
        session_id: &str,
        azp: Option<&str>,
    ) -> Result<String, ApiError> {
        let (user, uat, recorded_azp) = {
            let st = self.lock_state();
            let s = st
                .sessions
                .get(session_id)
                .filter(|s| s.status == "active")
                .ok_or_else(ApiError::resource_not_found)?;
            let user = st
                .users
                .iter()
                .find(|u| u.id == s.user_id)
                .cloned()
                .ok_or_else(|| ApiError::user_not_found(&s.user_id))?;
            let uat = st
                .clients
                .values()
                .find(|c| c.session_id.as_deref() == Some(session_id))
                .map(|c| c.updated_at_secs)
                .unwrap_or(0);
            (user, uat, s.azp.clone())
        };
        let cfg = &self.inner.config;
        let claims = session_claims(&ClaimInput {
            iss: &cfg.frontend_api_url,
            user: &user,
            session_id,
            azp: azp.or(recorded_azp.as_deref()),
            iat: now_secs().max(uat),
            lifetime_secs: cfg.token_lifetime.as_secs().max(1) as i64,
            template: &cfg.session_token_template,
        });
        self.sign_jwt(&claims, Some(SESSION_TOKEN_CATEGORY))
    }

    /// Is `origin` an allowed redirect target (configured list or the emulator's own origin)?
    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        let cfg = &self.inner.config;
        origin == cfg.frontend_origin() || cfg.allowed_redirect_origins.iter().any(|o| o == origin)
    }

    /// The redirect target if its origin is allowed.
    pub(crate) fn allowed_redirect(&self, redirect_url: Option<&str>) -> Option<String> {
        let r = redirect_url?.trim();
        let origin = crate::util::origin_of(r)?;
        self.origin_allowed(&origin).then(|| r.to_string())
    }

    // ---------------------------------------------------------------- public helpers

    /// Create a user (as the sign-in page does); fires `user.created`.
    pub async fn create_user(&self, new: NewUser) -> Result<User, EmulatorError> {
        let input = CreateUser {
            email_addresses: vec![new.email],
            first_name: new.first_name,
            last_name: new.last_name,
            username: new.username,
            image_url: new.image_url,
            public_metadata: Some(new.public_metadata),
            ..CreateUser::default()
        };
        Ok(self.op_create_user(input, &ReqInfo::default())?)
    }

    /// Sign a user in on a new client (as the sign-in page does). The token's `azp` is the
    /// first allowed redirect origin, if any.
    pub async fn sign_in(&self, user_id: &str) -> Result<SignedIn, EmulatorError> {
        let azp = self.inner.config.allowed_redirect_origins.first().cloned();
        Ok(self.op_sign_in(user_id, None, azp)?)
    }

    /// A fresh session token for a live session.
    pub async fn mint_session_token(&self, session_id: &str) -> Result<String, EmulatorError> {
        self.mint_for_session(session_id, None)
            .map_err(|_| EmulatorError::NotFound(format!("no active session {session_id}")))
    }

    /// Deep-merge `patch` (`{"public_metadata":…, "private_metadata":…, "unsafe_metadata":…}`)
    /// like BAPI `PATCH /v1/users/{id}/metadata`; fires `user.updated`.
    pub async fn update_user_metadata(
        &self,
        user_id: &str,
        patch: Value,
    ) -> Result<User, EmulatorError> {
        let p = MetadataPatch {
            public_metadata: patch.get("public_metadata").cloned(),
            private_metadata: patch.get("private_metadata").cloned(),
            unsafe_metadata: patch.get("unsafe_metadata").cloned(),
        };
        Ok(self.op_update_metadata(user_id, p, false, &ReqInfo::default())?)
    }

    /// Delete a user and its sessions; fires `user.deleted`.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), EmulatorError> {
        self.op_delete_user(user_id, &ReqInfo::default())?;
        Ok(())
    }

    pub async fn get_user(&self, user_id: &str) -> Option<User> {
        self.lock_state()
            .users
            .iter()
            .find(|u| u.id == user_id)
            .cloned()
    }

    /// All users, oldest first.
    pub async fn list_users(&self) -> Vec<User> {
        self.lock_state().users.clone()
    }

    /// End a session (as if the user signed out elsewhere).
    pub async fn end_session(&self, session_id: &str) -> bool {
        let mut st = self.lock_state();
        let removed = st.sessions.remove(session_id).is_some();
        for c in st.clients.values_mut() {
            if c.session_id.as_deref() == Some(session_id) {
                c.session_id = None;
                c.updated_at_secs = now_secs();
            }
        }
        self.persist_logged(&st);
        removed
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
