//! Clerk's protocol: keys, the Backend API client, the JWKS key store, session tokens, the
//! request's auth state and the handshake, and the local provider of development mode.
//!
//! The app speaks Clerk's real protocol only. In development without Clerk keys it runs the
//! local identity provider (`clerk-emulator`) inside the process, mounted at `/__clerk` the way
//! Clerk's proxy mode mounts the Frontend API, and reaches it over HTTP like clerk.com: the code
//! paths are the same, only the URLs differ.
//!
//! Infrastructure: nothing here knows about users, pages or routes of the app.

pub mod api;
pub mod context;
pub mod cookies;
pub mod handshake;
pub mod jwks;
pub mod keys;
pub mod referrer;
pub mod request;
pub mod session;
pub mod settings;
