//! Creating and deleting users.

use super::events::ReqInfo;
use super::validation::{metadata_object, non_empty, valid_email, valid_username};
use crate::api_error::ApiError;
use crate::model::{EmailAddress, User, Verification};
use crate::util::{new_id, now_ms, now_secs};
use crate::Emulator;
use serde_json::{json, Value};

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

impl Emulator {
    /// The generated initials avatar, used while a user has no image of its own.
    pub(super) fn avatar_url(&self, user_id: &str) -> String {
        format!(
            "{}/avatar/{user_id}.svg",
            self.inner.config.frontend_api_url
        )
    }

    pub(crate) fn op_create_user(
        &self,
        input: CreateUser,
        req: &ReqInfo,
    ) -> Result<User, ApiError> {
        let user = self.insert_user(input)?;
        self.fire(
            "user.created",
            serde_json::to_value(&user).unwrap_or_default(),
            req,
        );
        Ok(user)
    }

    /// Creates the user with every rule of [`Emulator::op_create_user`] but fires no webhook.
    pub(crate) fn insert_user(&self, input: CreateUser) -> Result<User, ApiError> {
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
}
