//! The users store (`warden::users`) against a real PostgreSQL: its writes and its cache.

mod cache;
mod catch_up;
mod feed;
mod kept_pages;
mod writes;

use std::time::Duration;
use warden::cache::CacheTags;
use warden::models::{ClerkUserId, UserProfile};
use warden::users::UserStore;

fn store(pool: sqlx::PgPool) -> UserStore {
    UserStore::new(
        pool,
        CacheTags::new(Duration::from_secs(60)),
        1000,
        Duration::from_secs(60),
    )
}

fn profile(clerk_id: &str, name: &str) -> UserProfile {
    UserProfile {
        clerk_user_id: ClerkUserId::new(clerk_id),
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
        image_url: Some(format!("https://img.example.com/{clerk_id}.png")),
    }
}
