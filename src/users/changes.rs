//! Changes made elsewhere (another instance, the CLI, plain SQL) reach this process's cache.
//!
//! NOTIFY reaches only the sessions listening when it is sent, so while the feed is down this
//! process cannot know what changed. From the moment it is known to be down (and from start-up
//! until the first LISTEN succeeds) the users cache is suspended: reads go to the database.
//! Once listening again, the cache resumes from a clean slate.

use crate::cache::Tag;
use crate::users::UserStore;
use sqlx::postgres::PgListener;
use std::time::Duration;

/// The channel on which the database announces every change to `users`.
pub const USERS_CHANGED_CHANNEL: &str = "warden_users_changed";

/// The `application_name` of the listening connection, so that operators (and the tests) can
/// find it in `pg_stat_activity`.
pub const CHANGE_FEED_APPLICATION_NAME: &str = "warden change feed";

/// How long the feed waits before listening again after a failure.
pub const CHANGE_FEED_RETRY: Duration = Duration::from_secs(1);

impl UserStore {
    /// Follows `warden_users_changed` (see the migration that announces every change to
    /// `users`) and invalidates this process's cache for each change made elsewhere: by another
    /// app instance, the CLI, or plain SQL. Runs until the task is aborted.
    pub fn follow_database_changes(&self) -> tokio::task::JoinHandle<()> {
        self.follow_database_changes_with(CHANGE_FEED_RETRY)
    }

    /// [`UserStore::follow_database_changes`], waiting `retry` before each new attempt to
    /// listen.
    pub fn follow_database_changes_with(&self, retry: Duration) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        let tags = self.tags.clone();
        // Synchronously, so that no read between here and the first LISTEN is served cached.
        tags.suspend();
        tokio::spawn(async move {
            loop {
                let mut listener = match listen(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for user changes; retrying");
                        tokio::time::sleep(retry).await;
                        continue;
                    }
                };
                // Anything may have changed while nobody was listening.
                tags.resume();
                tracing::debug!("listening for user changes");
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
                        Ok(None) => {
                            tracing::warn!(
                                "the user change feed's connection dropped; reconnecting"
                            );
                            break;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "listening for user changes failed; reconnecting");
                            break;
                        }
                    }
                }
                tags.suspend();
                drop(listener);
                tokio::time::sleep(retry).await;
            }
        })
    }

    /// True while this process hears every change made to `users` elsewhere (and so trusts
    /// its users cache).
    pub fn change_feed_is_live(&self) -> bool {
        !self.tags.is_suspended()
    }
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // Reconnecting is ours to do, so that the cache stays suspended until LISTEN succeeded.
    listener.eager_reconnect(false);
    sqlx::query(&format!(
        "SET application_name = '{CHANGE_FEED_APPLICATION_NAME}'"
    ))
    .execute(&mut listener)
    .await?;
    listener.listen(USERS_CHANGED_CHANNEL).await?;
    Ok(listener)
}
