//! Updating users: profile fields and the three metadata objects.

use super::events::ReqInfo;
use super::validation::{metadata_object, non_empty, valid_email, valid_username};
use crate::api_error::ApiError;
use crate::model::{EmailAddress, User, Verification};
use crate::util::{new_id, now_ms};
use crate::Emulator;
use serde_json::{json, Map, Value};

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

impl Emulator {
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
}
