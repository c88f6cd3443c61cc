//! The Backend API's client endpoints: the handshake payload behind a nonce.

use super::{encode_segment, ClerkApi, ClerkApiError};
use serde::Deserialize;

/// What `GET /v1/clients/handshake_payload` answers: the cookie directives of one handshake.
#[derive(Debug, Clone, Deserialize)]
pub struct HandshakePayload {
    #[serde(default)]
    pub directives: Vec<String>,
}

impl ClerkApi {
    /// `GET /v1/clients/handshake_payload?nonce=…`: the directives the Frontend API kept for the
    /// browser that came back with `__clerk_handshake_nonce`.
    pub async fn handshake_payload(&self, nonce: &str) -> Result<HandshakePayload, ClerkApiError> {
        let url = format!(
            "{}/clients/handshake_payload?nonce={}",
            self.base,
            encode_segment(nonce)
        );
        self.send(self.http.get(url)).await
    }
}
