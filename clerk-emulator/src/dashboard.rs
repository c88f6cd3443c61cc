//! Development dashboard (no JavaScript).

use crate::Emulator;
use axum::Router;

pub(crate) fn routes() -> Router<Emulator> {
    Router::new()
}
