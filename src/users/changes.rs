//! Changes made elsewhere (another instance, the CLI, plain SQL) reach this process's cache.

use crate::cache::Tag;
use crate::users::UserStore;
use std::time::Duration;

/// The channel on which the database announces every change to `users`.
pub const USERS_CHANGED_CHANNEL: &str = "warden_users_changed";

impl UserStore {
    /// Follows `warden_users_changed` (see the migration that announces every change to
    /// `users`) and invalidates this process's cache for each change made elsewhere: by another
    /// app instance, the CLI, or plain SQL. Runs until the task is aborted.
    pub fn follow_database_changes(&self) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        let tags = self.tags.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for user changes; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(error) = listener.listen(USERS_CHANGED_CHANNEL).await {
                    tracing::warn!(%error, "cannot listen for user changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // Anything may have changed while nobody was listening.
                tags.invalidate_everything();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            let mut ids = notification.payload().splitn(2, ' ');
                            match (ids.next(), ids.next()) {
                                (Some(id), Some(clerk_user_id)) => tags.invalidate(&[
                                    Tag::all_users(),
                                    Tag::user(id),
                                    Tag::clerk_user(clerk_user_id),
                                ]),
                                _ => tags.invalidate_everything(),
                            }
                        }
                        // The connection dropped and was re-established: changes were missed.
                        Ok(None) => tags.invalidate_everything(),
                        Err(error) => {
                            tracing::warn!(%error, "listening for user changes failed; reconnecting");
                            tags.invalidate_everything();
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        })
    }
}
