//! Session-token verification, following Clerk's `verifyToken`.
//!
//! Order matters: header checks, then the signature, then the claims, so that an attacker
//! learns nothing about claims from a token we did not sign. Time checks use Clerk's rules and
//! its 5-second skew: expired when `exp <= now - 5s`, not yet valid when `nbf > now + 5s`.
//! `iss` must be one of our instance's issuers (its Frontend API URL, or the proxy that
//! stands in for it); `azp`, when present, must be an authorized party.
//!
//! Verified tokens are cached by SHA-256 of the token until their `exp`, so that a busy page
//! does not redo RSA work per request (`cargo bench --bench token_verify` measures it). The time
//! checks run again on every cache hit. A request looks its token up once ([`Recalled`]): the
//! same lookup answers the cookie choice, which needs a few claims, and the verification.

use crate::clerk::jwks::{KeyError, KeyStore};
use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Clerk's allowed clock skew.
pub const CLOCK_SKEW_SECONDS: i64 = 5;

/// The claims of a verified session token that the app uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionClaims {
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub sid: Option<String>,
    pub iss: String,
    #[serde(default)]
    pub azp: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Custom claim from the session-token template: our user id, once synced.
    #[serde(default, rename = "dbId")]
    pub db_id: Option<serde_json::Value>,
    /// Custom claim: the role Clerk last heard of. Never trusted for authorization.
    #[serde(default)]
    pub role: Option<serde_json::Value>,
    /// Session status (`active`, `pending`).
    #[serde(default)]
    pub sts: Option<String>,
}

impl SessionClaims {
    pub fn db_id(&self) -> Option<&str> {
        self.db_id.as_ref().and_then(|value| value.as_str())
    }
}

/// Why a token was refused, with Clerk's reason strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token-invalid")]
    Malformed,
    #[error("token-invalid-algorithm")]
    Algorithm,
    #[error("token-type-mismatch")]
    NotASessionToken,
    #[error("token-invalid-signature")]
    Signature,
    #[error("jwk-kid-mismatch")]
    UnknownKey,
    #[error("jwk-remote-failed-to-load")]
    KeysUnavailable,
    #[error("token-expired")]
    Expired,
    #[error("token-not-active-yet")]
    NotYetValid,
    #[error("token-iat-in-the-future")]
    IssuedInTheFuture,
    #[error("token-invalid-issuer")]
    Issuer,
    #[error("token-invalid-authorized-parties")]
    AuthorizedParty,
    #[error("token-invalid-subject")]
    Subject,
    #[error("session-pending")]
    Pending,
}

impl TokenError {
    /// Clerk's reason string (also sent in `x-clerk-auth-reason`).
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// Failures that a fresh token from a handshake can cure.
    pub fn is_time_related(&self) -> bool {
        matches!(
            self,
            TokenError::Expired | TokenError::NotYetValid | TokenError::IssuedInTheFuture
        )
    }
}

#[derive(Deserialize)]
struct RawHeader {
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    cat: Option<String>,
}

/// Clerk's token categories (the `cat` header) that are session tokens.
const SESSION_CATEGORIES: [&str; 2] = ["cl_B7d4PD111AAA", "cl_I7d4PD111III"];

/// One token as the verifier remembers it, looked up once.
pub struct Recalled {
    fingerprint: Option<[u8; 32]>,
    claims: Option<Arc<SessionClaims>>,
}

impl Recalled {
    /// The claims the cookie choice reads: from the verified token when it is remembered, else
    /// decoded without any check.
    pub fn choice_claims(&self, token: &str) -> Option<UnverifiedClaims> {
        match &self.claims {
            Some(claims) => Some(UnverifiedClaims {
                issuer: Some(claims.iss.clone()),
                issued_at: claims.iat,
                expires_at: Some(claims.exp),
            }),
            None => unverified_payload(token),
        }
    }
}

pub struct SessionVerifier {
    keys: Arc<KeyStore>,
    issuers: Vec<String>,
    authorized_parties: Vec<String>,
    cache: Option<Cache<[u8; 32], Arc<SessionClaims>>>,
}

impl SessionVerifier {
    pub fn new(keys: Arc<KeyStore>, issuers: Vec<String>, authorized_parties: Vec<String>) -> Self {
        let issuers = issuers
            .into_iter()
            .map(|issuer| issuer.trim_end_matches('/').to_owned())
            .collect();
        SessionVerifier {
            keys,
            issuers,
            authorized_parties,
            cache: Some(
                Cache::builder()
                    .max_capacity(100_000)
                    // Clerk's tokens live 60 s; nothing is kept much longer than that.
                    .time_to_live(Duration::from_secs(120))
                    .build(),
            ),
        }
    }

    /// Without the verified-token cache (to measure what it saves).
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    pub async fn verify(&self, token: &str) -> Result<Arc<SessionClaims>, TokenError> {
        self.verify_at(token, now_seconds()).await
    }

    pub async fn verify_at(&self, token: &str, now: i64) -> Result<Arc<SessionClaims>, TokenError> {
        self.verify_recalled(token, self.recall(token), now).await
    }

    /// What this process has verified of `token` before, times not checked yet.
    pub fn recall(&self, token: &str) -> Recalled {
        let fingerprint = self.cache.as_ref().map(|_| fingerprint(token));
        let claims = match (&self.cache, &fingerprint) {
            (Some(cache), Some(fingerprint)) => cache.get(fingerprint),
            _ => None,
        };
        Recalled {
            fingerprint,
            claims,
        }
    }

    /// [`SessionVerifier::verify_at`] for a token already looked up with
    /// [`SessionVerifier::recall`].
    pub async fn verify_recalled(
        &self,
        token: &str,
        recalled: Recalled,
        now: i64,
    ) -> Result<Arc<SessionClaims>, TokenError> {
        if let Some(claims) = recalled.claims {
            check_times(&claims, now)?;
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_uncached(token, now).await?);
        if let (Some(cache), Some(fingerprint)) = (&self.cache, recalled.fingerprint) {
            cache.insert(fingerprint, claims.clone());
        }
        Ok(claims)
    }

    async fn verify_uncached(&self, token: &str, now: i64) -> Result<SessionClaims, TokenError> {
        let header = parse_header(token)?;
        match header.alg.as_deref() {
            Some("RS256") => {}
            _ => return Err(TokenError::Algorithm),
        }
        if header.typ.as_deref().is_some_and(|typ| typ != "JWT") {
            return Err(TokenError::NotASessionToken);
        }
        if header
            .cat
            .as_deref()
            .is_some_and(|cat| !SESSION_CATEGORIES.contains(&cat))
        {
            return Err(TokenError::NotASessionToken);
        }
        let key = self
            .keys
            .key(header.kid.as_deref())
            .await
            .map_err(|error| match error {
                KeyError::KidMismatch(_) => TokenError::UnknownKey,
                KeyError::RemoteFailed(_) => TokenError::KeysUnavailable,
            })?;
        // Signature first; the claims are checked below with Clerk's exact rules.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(
            |error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::Signature,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                _ => TokenError::Malformed,
            },
        )?;
        let claims: SessionClaims =
            serde_json::from_value(data.claims).map_err(|_| TokenError::Malformed)?;
        if claims.sub.trim().is_empty() {
            return Err(TokenError::Subject);
        }
        if claims.sub.starts_with("mch_") || claims.sid.is_none() {
            // Machine tokens and JWT-template tokens are not session tokens.
            return Err(TokenError::NotASessionToken);
        }
        let issuer = claims.iss.trim_end_matches('/');
        if !self.issuers.iter().any(|accepted| accepted == issuer) {
            return Err(TokenError::Issuer);
        }
        if let Some(azp) = &claims.azp {
            if !self.authorized_parties.is_empty() && !self.authorized_parties.contains(azp) {
                return Err(TokenError::AuthorizedParty);
            }
        }
        if claims.sts.as_deref() == Some("pending") {
            return Err(TokenError::Pending);
        }
        check_times(&claims, now)?;
        Ok(claims)
    }
}

fn check_times(claims: &SessionClaims, now: i64) -> Result<(), TokenError> {
    if claims.exp <= now - CLOCK_SKEW_SECONDS {
        return Err(TokenError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + CLOCK_SKEW_SECONDS) {
        return Err(TokenError::NotYetValid);
    }
    if claims.iat.is_some_and(|iat| iat > now + CLOCK_SKEW_SECONDS) {
        return Err(TokenError::IssuedInTheFuture);
    }
    Ok(())
}

fn parse_header(token: &str) -> Result<RawHeader, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// The claims of a JWT that choosing between cookies looks at, decoded without any check:
/// never for trusting what they say. A claim of an unexpected type reads as absent rather than
/// spoiling the others.
#[derive(Debug, Default, PartialEq)]
pub struct UnverifiedClaims {
    issuer: Option<String>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
}

impl UnverifiedClaims {
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    pub fn issued_at(&self) -> Option<i64> {
        self.issued_at
    }

    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }
}

/// The payload's claims as JSON, each of whatever type it has.
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<serde_json::Value>,
    iat: Option<serde_json::Value>,
    exp: Option<serde_json::Value>,
}

/// The payload of a JWT, decoded without any check: only for choosing between cookies, never
/// for trusting what it says. Only the claims that choice needs are read (this runs on every
/// request with a session cookie).
pub fn unverified_payload(token: &str) -> Option<UnverifiedClaims> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let raw: RawClaims = serde_json::from_slice(&bytes).ok()?;
    Some(UnverifiedClaims {
        issuer: match raw.iss {
            Some(serde_json::Value::String(issuer)) => Some(issuer),
            _ => None,
        },
        issued_at: raw.iat.and_then(|iat| iat.as_i64()),
        expires_at: raw.exp.and_then(|exp| exp.as_i64()),
    })
}

/// The cache key of a token: its SHA-256 (the token itself is a bearer secret).
pub fn fingerprint(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
}

pub fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
