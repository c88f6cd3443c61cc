//! Authentication on the HTTP side: the layer that gives every session route its Clerk auth
//! state, the page guard, and the extractors handlers use.

pub mod extract;
pub mod guard;
pub mod layer;
