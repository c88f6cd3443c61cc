//! Publishable keys, cookie suffixes and the instance's RSA signing keys.

use crate::util::{b64std, b64std_decode_lenient, b64url};
use crate::EmulatorError;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::KeyPair as _;
use sha1::Digest as _;

/// Instance type encoded in a publishable key's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceType {
    /// `pk_test_`
    Development,
    /// `pk_live_`
    Production,
}

/// `pk_live_` + base64(host + "$") without padding.
pub fn publishable_key_for_host(host: &str) -> String {
    format!(
        "pk_live_{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            format!("{host}$")
        )
    )
}

/// Parse a publishable key as Clerk's SDK does: prefix gives the instance type, the rest is
/// base64(frontend API host + "$") (padding optional). Valid iff the decoded text ends with a
/// single `$`, contains no other `$`, and contains a `.`.
pub fn parse_publishable_key(pk: &str) -> Option<(InstanceType, String)> {
    let (ty, rest) = if let Some(r) = pk.strip_prefix("pk_live_") {
        (InstanceType::Production, r)
    } else if let Some(r) = pk.strip_prefix("pk_test_") {
        (InstanceType::Development, r)
    } else {
        return None;
    };
    let bytes = b64std_decode_lenient(rest)?;
    let decoded = String::from_utf8(bytes).ok()?;
    let host = decoded.strip_suffix('$')?;
    if host.contains('$') || !host.contains('.') || host.is_empty() {
        return None;
    }
    Some((ty, host.to_string()))
}

/// First 8 characters of base64url(SHA-1(publishable key)): the suffix of `__session_<suffix>`.
pub fn cookie_suffix(pk: &str) -> String {
    let digest = sha1::Sha1::digest(pk.as_bytes());
    let mut s = b64url(&digest);
    s.truncate(8);
    s
}

/// One RSA-2048 signing key (of the instance, or a stranger's in tests).
pub struct SigningKey {
    pub kid: String,
    pub created_at_ms: i64,
    pkcs8: Vec<u8>,
    kp: aws_lc_rs::rsa::KeyPair,
}

impl SigningKey {
    pub fn generate(kid: String, created_at_ms: i64) -> Result<Self, EmulatorError> {
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| EmulatorError::Crypto("RSA key generation failed".into()))?;
        let pkcs8 = kp
            .as_der()
            .map_err(|_| EmulatorError::Crypto("PKCS#8 export failed".into()))?
            .as_ref()
            .to_vec();
        Ok(SigningKey {
            kid,
            created_at_ms,
            pkcs8,
            kp,
        })
    }

    pub fn from_pkcs8_b64(
        kid: String,
        created_at_ms: i64,
        b64: &str,
    ) -> Result<Self, EmulatorError> {
        let pkcs8 = b64std_decode_lenient(b64)
            .ok_or_else(|| EmulatorError::Storage("bad base64 in stored key".into()))?;
        let kp = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| EmulatorError::Storage(format!("stored key rejected: {e}")))?;
        Ok(SigningKey {
            kid,
            created_at_ms,
            pkcs8,
            kp,
        })
    }

    pub fn pkcs8_b64(&self) -> String {
        b64std(&self.pkcs8)
    }

    /// Public JWK in Clerk's shape: `{"use":"sig","kty":"RSA","kid":…,"alg":"RS256","n":…,"e":…}`.
    pub fn jwk(&self) -> serde_json::Value {
        let pk = self.kp.public_key();
        serde_json::json!({
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": b64url(pk.modulus().big_endian_without_leading_zero()),
            "e": b64url(pk.exponent().big_endian_without_leading_zero()),
        })
    }

    /// SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
    pub fn public_key_pem(&self) -> String {
        let der = match self.kp.public_key().as_der() {
            Ok(d) => d.as_ref().to_vec(),
            Err(_) => return String::new(),
        };
        pem_wrap("PUBLIC KEY", &der)
    }

    /// Compact RS256 JWS with the given header and payload.
    pub fn sign_jwt(
        &self,
        header: &serde_json::Value,
        payload: &serde_json::Value,
    ) -> Result<String, EmulatorError> {
        let h = serde_json::to_vec(header).map_err(|e| EmulatorError::Crypto(e.to_string()))?;
        let p = serde_json::to_vec(payload).map_err(|e| EmulatorError::Crypto(e.to_string()))?;
        let signing_input = format!("{}.{}", b64url(&h), b64url(&p));
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = vec![0u8; self.kp.public_modulus_len()];
        self.kp
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| EmulatorError::Crypto("RS256 signing failed".into()))?;
        Ok(format!("{signing_input}.{}", b64url(&sig)))
    }
}

fn pem_wrap(label: &str, der: &[u8]) -> String {
    let b64 = b64std(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
