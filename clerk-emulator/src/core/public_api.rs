//! The library API: what the app and tests call directly instead of going through HTTP.

use super::events::ReqInfo;
use super::user_updates::MetadataPatch;
use super::users::CreateUser;
use super::SignedIn;
use crate::util::now_secs;
use crate::{Emulator, EmulatorError, NewUser, User};
use serde_json::Value;

impl Emulator {
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
