//! Catching up with the change feed: a request waits until this process has heard every change
//! to `users` committed before the request arrived, so that no cached row older than the
//! request is served, whichever instance made the change.
//!
//! # Why the feed alone is not enough
//! NOTIFY is asynchronous: another instance's commit, its response and the browser's next
//! request here can all happen before the notification has reached this process. Measured with
//! two instances on one machine, the next request served the old role in most runs of 25 role
//! changes (`tests/api/instances/coherence.rs`).
//!
//! # How
//! PostgreSQL delivers notifications in commit order, and a listening session sends those
//! already signalled to it before it reports itself ready after its next query (a commit
//! signals every listener before it returns). So one query (an empty one) on the listening
//! connection, sent after the request arrived, brings in every notification of a commit that
//! preceded the request. Requests share round trips: each waits for the first one *started*
//! after it arrived, so the feed sends one query at a time, however many requests wait. The
//! cost is one round trip on the connection the feed already holds; no request borrows one.

use crate::users::UserStore;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Longest a catch-up round trip may take before the feed counts as broken: the feed then
/// reconnects and, meanwhile, the cache is bypassed (so waiting requests read the database).
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(2);

/// What requests and the feed task share.
#[derive(Debug)]
pub(crate) struct FeedSync {
    /// True while a feed task runs; without one, there is nothing to catch up with.
    following: AtomicBool,
    /// A request waits for a round trip.
    wanted: Notify,
    /// Round trips started: the number is taken before the query is sent.
    started: AtomicU64,
    /// The last round trip completed. Also sent unchanged to wake every waiter when the feed
    /// goes down (waiters then find the cache suspended).
    done: watch::Sender<u64>,
}

impl FeedSync {
    pub(crate) fn new() -> FeedSync {
        FeedSync {
            following: AtomicBool::new(false),
            wanted: Notify::new(),
            started: AtomicU64::new(0),
            done: watch::Sender::new(0),
        }
    }

    /// The feed task's side: marks the feed as followed until the returned guard is dropped
    /// (the task ended or was aborted).
    pub(crate) fn follow<'a>(&'a self, store: &'a UserStore) -> Following<'a> {
        self.following.store(true, Ordering::SeqCst);
        Following { sync: self, store }
    }

    /// Waits until a request wants a round trip; returns its number.
    pub(crate) async fn next_round(&self) -> u64 {
        self.wanted.notified().await;
        self.started.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Round `round` brought in everything before it.
    pub(crate) fn completed(&self, round: u64) {
        self.done.send_replace(round);
    }

    /// Wakes every waiter: the feed went down (the cache is suspended by now).
    pub(crate) fn release_waiters(&self) {
        self.done.send_modify(|_| {});
    }
}

/// While it lives, a feed task follows the database; dropping it suspends the cache (nothing
/// invalidates it any more) and releases waiting requests.
pub(crate) struct Following<'a> {
    sync: &'a FeedSync,
    store: &'a UserStore,
}

impl Drop for Following<'_> {
    fn drop(&mut self) {
        self.store.tags.suspend();
        self.sync.following.store(false, Ordering::SeqCst);
        self.sync.release_waiters();
    }
}

impl UserStore {
    /// Returns once every change to `users` committed before this call has reached this
    /// process's cache (or the cache is bypassed, or no feed runs). Call it once per request,
    /// before its first cached read.
    pub async fn catch_up(&self) {
        let sync = &self.feed;
        if !sync.following.load(Ordering::SeqCst) || self.tags.is_suspended() {
            return;
        }
        // Subscribe before reading `started`, so that no completion after it is missed.
        let mut done = sync.done.subscribe();
        let needed = sync.started.load(Ordering::SeqCst) + 1;
        sync.wanted.notify_one();
        loop {
            if *done.borrow_and_update() >= needed
                || self.tags.is_suspended()
                || !sync.following.load(Ordering::SeqCst)
            {
                return;
            }
            if done.changed().await.is_err() {
                return;
            }
        }
    }
}
