//! Sessions, the current user, route protection and the handshake, over real HTTP against the
//! local Clerk-compatible provider.

mod authorization;
mod development;
mod forged;
mod handshake;
mod sessions;
mod tokens;
