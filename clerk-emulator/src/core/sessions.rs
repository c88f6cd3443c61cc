//! Clients, sessions, session tokens and the redirect allow-list that guards sign-in.

use super::SignedIn;
use crate::api_error::ApiError;
use crate::model::{Client, Session, User};
use crate::tokens::{session_claims, ClaimInput, SESSION_TOKEN_CATEGORY};
use crate::util::{new_id, now_ms, now_secs, random_hex};
use crate::Emulator;

impl Emulator {
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
}
