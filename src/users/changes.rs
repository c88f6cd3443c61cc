//! Changes made elsewhere (another instance, the CLI, plain SQL) reach this process's cache.
//!
//! NOTIFY reaches only the sessions listening when it is sent, so while the feed is down this
//! process cannot know what changed. From the moment it is known to be down (and from start-up
//! until the first LISTEN succeeds) the users cache is suspended: reads go to the database.
//! Once listening again, the cache resumes from a clean slate.

use crate::cache::Tag;
use crate::users::catch_up::CATCH_UP_TIMEOUT;
use crate::users::UserStore;
use sqlx::postgres::PgListener;
use std::time::Duration;

/// The channel on which the database announces every change to `users`.
pub const USERS_CHANGED_CHANNEL: &str = "warden_users_changed";

/// The `application_name` of the listening connection, so that operators (and the tests) can
/// find it in `pg_stat_activity`.
pub const CHANGE_FEED_APPLICATION_NAME: &str = "warden change feed";

/// The catch-up round trip's query: empty, and in the simple protocol (a bare `&str` takes no
/// arguments). The server answers it with nothing but its readiness, before which it sends the
/// notifications already signalled to the session, which is all a catch-up needs; it parses,
/// plans and runs nothing. (`SELECT 1`, prepared, cost the profile page about a tenth of its
/// throughput: PostgreSQL shares the machine.)
const CATCH_UP_QUERY: &str = "";

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
        let store = self.clone();
        // Synchronously, so that no read between here and the first LISTEN is served cached.
        store.tags.suspend();
        tokio::spawn(async move {
            let _following = store.feed.follow(&store);
            loop {
                let mut listener = match listen(&store.pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for user changes; retrying");
                        tokio::time::sleep(retry).await;
                        continue;
                    }
                };
                // Anything may have changed while nobody was listening.
                store.tags.resume();
                tracing::debug!("listening for user changes");
                store.hear(&mut listener).await;
                store.tags.suspend();
                store.feed.release_waiters();
                drop(listener);
                tokio::time::sleep(retry).await;
            }
        })
    }

    /// Applies notifications and answers catch-ups until the connection fails.
    async fn hear(&self, listener: &mut PgListener) {
        loop {
            // Both branches are cancel-safe: a notification half read stays buffered.
            tokio::select! {
                biased;
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => self.apply_notification(notification.payload()),
                    Ok(None) => {
                        tracing::warn!("the user change feed's connection dropped; reconnecting");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "listening for user changes failed; reconnecting");
                        return;
                    }
                },
                round = self.feed.next_round() => {
                    let answered = tokio::time::timeout(
                        CATCH_UP_TIMEOUT,
                        sqlx::Executor::execute(&mut *listener, CATCH_UP_QUERY),
                    )
                    .await;
                    match answered {
                        Ok(Ok(_)) => {
                            // What arrived before the answer was buffered meanwhile.
                            while let Some(notification) = listener.next_buffered() {
                                self.apply_notification(notification.payload());
                            }
                            self.feed.completed(round);
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "catching up with user changes failed; reconnecting");
                            return;
                        }
                        Err(_) => {
                            tracing::warn!(timeout = ?CATCH_UP_TIMEOUT,
                                "catching up with user changes timed out; reconnecting");
                            return;
                        }
                    }
                }
            }
        }
    }

    fn apply_notification(&self, payload: &str) {
        let mut ids = payload.splitn(2, ' ');
        match (ids.next(), ids.next()) {
            (Some(id), Some(clerk_user_id)) => self.tags.invalidate(&[
                Tag::all_users(),
                Tag::user(id),
                Tag::clerk_user(clerk_user_id),
            ]),
            _ => self.tags.invalidate_everything(),
        }
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
