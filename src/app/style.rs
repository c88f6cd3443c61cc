//! The stylesheet: part of the app, served by the server under a URL that changes with its
//! content (so that browsers may cache it for good).

/// Where the stylesheet is served; the query string changes with its content.
pub const STYLESHEET_PATH: &str = "/pkg/warden.css";

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use std::sync::OnceLock;

    /// The stylesheet, compiled into the binary so that plain `cargo run` serves it.
    pub const STYLESHEET: &str = include_str!("../../style/main.css");

    /// A short hash of the stylesheet, used in its URL.
    pub fn stylesheet_version() -> &'static str {
        static VERSION: OnceLock<String> = OnceLock::new();
        VERSION.get_or_init(|| {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(STYLESHEET.as_bytes());
            digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
        })
    }
}

/// The stylesheet's URL, versioned by its content on the server.
pub fn stylesheet_href() -> String {
    #[cfg(feature = "ssr")]
    {
        format!("{STYLESHEET_PATH}?v={}", stylesheet_version())
    }
    #[cfg(not(feature = "ssr"))]
    {
        STYLESHEET_PATH.to_owned()
    }
}
