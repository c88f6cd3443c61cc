//! A bounded in-memory cache with tag invalidation (the seed's `revalidateTag`, on moka).
//!
//! Entries carry tags such as `global:users` or `id:{id}-users`. Invalidating a tag makes every
//! entry that carries it stale at once, in O(1): each tag has a *generation* (a value of one
//! monotonic clock), and an entry remembers the clock value taken **before** its value was loaded.
//! An entry is fresh only while none of its tags was invalidated after that moment.
//!
//! Taking the clock before the load is what makes a read after a write safe even when the two
//! race: a reader that loaded the old row before a writer committed and invalidated stores it
//! with an older clock value, so the next read sees the newer tag generation and reloads.
//!
//! Tag generations older than the TTL are pruned: every entry that could be compared with them
//! has expired by then.
//!
//! While the invalidations of other processes cannot reach this one (the change feed is down),
//! the clock is *suspended*: every read goes to its loader and nothing is stored, since nothing
//! would tell us when a stored value went stale. Resuming invalidates everything first, so a
//! value loaded during the outage (its clock value is older) is never trusted afterwards.

use moka::future::Cache;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A cache tag. The constructors give the seed's names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// Everything about users as a collection (lists, counts).
    pub fn all_users() -> Tag {
        Tag("global:users".into())
    }

    /// One user, by our id.
    pub fn user(id: impl std::fmt::Display) -> Tag {
        Tag(format!("id:{id}-users"))
    }

    /// One user, by Clerk id (lookups that happen before we know our id).
    pub fn clerk_user(clerk_user_id: impl std::fmt::Display) -> Tag {
        Tag(format!("clerk:{clerk_user_id}-users"))
    }

    /// Data derived from one user, e.g. `user:{id}-role-history`.
    pub fn user_data(id: impl std::fmt::Display, what: &str) -> Tag {
        Tag(format!("user:{id}-{what}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The tag clock shared by every cache of the app: the one invalidation API.
#[derive(Debug)]
pub struct CacheTags {
    clock: AtomicU64,
    /// Entries loaded before this clock value are stale, whatever their tags.
    everything_before: AtomicU64,
    generations: Mutex<HashMap<Tag, (u64, Instant)>>,
    keep_for: Duration,
    suspended: AtomicBool,
}

impl CacheTags {
    pub fn new(ttl: Duration) -> Arc<Self> {
        Arc::new(CacheTags {
            clock: AtomicU64::new(1),
            everything_before: AtomicU64::new(0),
            generations: Mutex::new(HashMap::new()),
            keep_for: ttl,
            suspended: AtomicBool::new(false),
        })
    }

    fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// Makes every entry carrying any of `tags` stale, in every cache built on this clock.
    pub fn invalidate(&self, tags: &[Tag]) {
        let generation = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        let now = Instant::now();
        let mut generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for tag in tags {
            generations.insert(tag.clone(), (generation, now));
        }
        if generations.len() > 1024 {
            let keep_for = self.keep_for;
            generations.retain(|_, (_, at)| now.duration_since(*at) <= keep_for);
        }
    }

    /// Makes every entry stale: for when invalidations may have been missed (e.g. the
    /// change feed from the database was interrupted).
    pub fn invalidate_everything(&self) {
        let generation = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.everything_before
            .fetch_max(generation, Ordering::SeqCst);
    }

    /// Stops serving and storing cached values until [`CacheTags::resume`]: for while
    /// invalidations may be missed (the change feed from the database is down).
    pub fn suspend(&self) {
        self.suspended.store(true, Ordering::SeqCst);
        self.invalidate_everything();
    }

    /// Trusts the cache again, from a clean slate: call it once invalidations flow again.
    pub fn resume(&self) {
        // Before clearing the flag: a load that began while suspended has an older clock value
        // and is stale from here on.
        self.invalidate_everything();
        self.suspended.store(false, Ordering::SeqCst);
    }

    pub fn is_suspended(&self) -> bool {
        self.suspended.load(Ordering::SeqCst)
    }

    fn is_fresh(&self, loaded_at: u64, tags: &[Tag]) -> bool {
        if loaded_at < self.everything_before.load(Ordering::SeqCst) {
            return false;
        }
        let generations = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tags.iter().all(|tag| {
            generations
                .get(tag)
                .is_none_or(|(generation, _)| *generation <= loaded_at)
        })
    }
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    tags: Arc<[Tag]>,
    loaded_at: u64,
}

/// One typed cache: bounded in entries, with a TTL as a safety net.
#[derive(Clone)]
pub struct TaggedCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    entries: Cache<K, Entry<V>>,
    tags: Arc<CacheTags>,
    lookups: LookupCounters,
}

/// The lookups of one cache by result: `hit`, `miss` (stale entries included), or `bypass`
/// while the clock is suspended. Registered once, when the cache is built (the app installs its
/// metrics recorder before that): a lookup then costs an atomic add, not a key built, hashed
/// and looked up in the registry, which the busiest page would pay several times a request.
#[derive(Clone)]
struct LookupCounters {
    hit: metrics::Counter,
    miss: metrics::Counter,
    bypass: metrics::Counter,
}

impl LookupCounters {
    fn new(name: &'static str) -> Self {
        let counter = |result: &'static str| metrics::counter!("warden_cache_requests_total", "cache" => name, "result" => result);
        LookupCounters {
            hit: counter("hit"),
            miss: counter("miss"),
            bypass: counter("bypass"),
        }
    }
}

impl<K, V> TaggedCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(name: &'static str, tags: Arc<CacheTags>, max_entries: u64, ttl: Duration) -> Self {
        TaggedCache {
            entries: Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
            tags,
            lookups: LookupCounters::new(name),
        }
    }

    /// The cached value, or `load()`'s, cached under `tags` when it succeeds.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Vec<Tag>), E>>,
    {
        if self.tags.is_suspended() {
            self.lookups.bypass.increment(1);
            return load().await.map(|(value, _)| value);
        }
        if let Some(entry) = self.entries.get(&key).await {
            if self.tags.is_fresh(entry.loaded_at, &entry.tags) {
                self.lookups.hit.increment(1);
                return Ok(entry.value);
            }
            self.entries.invalidate(&key).await;
        }
        self.lookups.miss.increment(1);
        let loaded_at = self.tags.now();
        let (value, tags) = load().await?;
        let entry = Entry {
            value: value.clone(),
            tags: tags.into(),
            loaded_at,
        };
        self.entries.insert(key, entry).await;
        Ok(value)
    }

    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(tags: &Arc<CacheTags>) -> TaggedCache<&'static str, u32> {
        TaggedCache::new("test", tags.clone(), 100, Duration::from_secs(60))
    }

    async fn load(cache: &TaggedCache<&'static str, u32>, value: u32, tags: &[Tag]) -> u32 {
        let tags = tags.to_vec();
        cache
            .get_or_load("k", || async move { Ok::<_, ()>((value, tags)) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_hit_until_a_tag_of_the_entry_is_invalidated() {
        let tags = CacheTags::new(Duration::from_secs(60));
        let cache = cache(&tags);
        assert_eq!(load(&cache, 1, &[Tag::user(1)]).await, 1);
        assert_eq!(load(&cache, 2, &[Tag::user(1)]).await, 1, "cached");
        tags.invalidate(&[Tag::user(2)]);
        assert_eq!(
            load(&cache, 3, &[Tag::user(1)]).await,
            1,
            "other tags do not matter"
        );
        tags.invalidate(&[Tag::user(1)]);
        assert_eq!(load(&cache, 4, &[Tag::user(1)]).await, 4, "reloaded");
    }

    #[tokio::test]
    async fn a_load_that_raced_an_invalidation_is_not_trusted() {
        let tags = CacheTags::new(Duration::from_secs(60));
        let cache = cache(&tags);
        // The loader reads the old value, then a writer invalidates before it is stored.
        let racing = tags.clone();
        let stale = cache
            .get_or_load("k", || async move {
                racing.invalidate(&[Tag::all_users()]);
                Ok::<_, ()>((1, vec![Tag::all_users()]))
            })
            .await
            .unwrap();
        assert_eq!(stale, 1);
        assert_eq!(
            load(&cache, 2, &[Tag::all_users()]).await,
            2,
            "the raced entry is stale"
        );
    }

    #[tokio::test]
    async fn invalidating_everything_reloads_every_entry() {
        let tags = CacheTags::new(Duration::from_secs(60));
        let cache = cache(&tags);
        assert_eq!(load(&cache, 1, &[Tag::user(1)]).await, 1);
        tags.invalidate_everything();
        assert_eq!(load(&cache, 2, &[Tag::user(1)]).await, 2);
        assert_eq!(
            load(&cache, 3, &[Tag::user(1)]).await,
            2,
            "fresh again afterwards"
        );
    }

    #[tokio::test]
    async fn a_suspended_clock_serves_nothing_cached_and_a_load_across_resume_is_stale() {
        let tags = CacheTags::new(Duration::from_secs(60));
        let cache = cache(&tags);
        assert_eq!(load(&cache, 1, &[Tag::user(1)]).await, 1);
        tags.suspend();
        assert_eq!(
            load(&cache, 2, &[Tag::user(1)]).await,
            2,
            "not the cached 1"
        );
        assert_eq!(
            load(&cache, 3, &[Tag::user(1)]).await,
            3,
            "2 was not stored"
        );
        // A load that began before the feed came back stores a value nobody may trust.
        tags.resume();
        let racing = tags.clone();
        let before_resume = cache
            .get_or_load("k", || async move {
                racing.suspend();
                racing.resume();
                Ok::<_, ()>((4, vec![Tag::user(1)]))
            })
            .await
            .unwrap();
        assert_eq!(before_resume, 4);
        assert_eq!(load(&cache, 5, &[Tag::user(1)]).await, 5, "4 is stale");
        assert_eq!(load(&cache, 6, &[Tag::user(1)]).await, 5, "cached again");
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let tags = CacheTags::new(Duration::from_secs(60));
        let cache = cache(&tags);
        let failed = cache
            .get_or_load("k", || async { Err::<(u32, Vec<Tag>), _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        assert_eq!(load(&cache, 5, &[]).await, 5);
    }
}
