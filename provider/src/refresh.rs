//! The refresh cache: Terraform refreshes every resource with its own `ReadResource` call, but
//! the provider answers a whole refresh from **one list call per parent and collection** (e.g.
//! all computes of a workspace), shared by concurrent callers and kept for the life of the
//! provider process (one Terraform phase). Any write (`ApplyResourceChange`) clears it, so a
//! read after a write is never stale. Which list call to make is the caller's business.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use engine::schema::Collection;
use engine::value::ObjectValue;
use tokio::sync::OnceCell;

/// One list: everything a parent holds in one collection.
pub type Listing = Arc<Vec<ObjectValue>>;

/// The key of one list call: the parent's ARM id (compared case-insensitively, as ARM does)
/// and the collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    parent: String,
    collection: &'static str,
}

impl ListKey {
    /// The key for `collection` under `parent`.
    pub fn new(parent: &str, collection: Collection) -> ListKey {
        ListKey {
            parent: parent.to_ascii_lowercase(),
            collection: collection.segment(),
        }
    }
}

/// Lists shared by all readers until the next write.
#[derive(Debug, Default)]
pub struct RefreshCache {
    lists: Mutex<HashMap<ListKey, Arc<OnceCell<Listing>>>>,
}

impl RefreshCache {
    /// The listing for `key`: from the cache, or by running `load` once for all concurrent
    /// callers. A failed load is not cached (the next caller tries again).
    pub async fn get_or_load<E, F>(
        &self,
        key: ListKey,
        load: impl FnOnce() -> F,
    ) -> Result<Listing, E>
    where
        F: Future<Output = Result<Vec<ObjectValue>, E>>,
    {
        let cell = {
            let mut lists = self
                .lists
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            lists.entry(key).or_default().clone()
        };
        cell.get_or_try_init(|| async { load().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Forgets every listing (after a write).
    pub fn invalidate(&self) {
        self.lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn listing(names: &[&str]) -> Vec<ObjectValue> {
        names
            .iter()
            .map(|name| {
                let mut object = ObjectValue::default();
                object.set("name", (*name).into());
                object
            })
            .collect()
    }

    #[tokio::test]
    async fn concurrent_readers_share_one_list_call_until_a_write() {
        let cache = Arc::new(RefreshCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let read = |cache: Arc<RefreshCache>, calls: Arc<AtomicUsize>, parent: &'static str| async move {
            cache
                .get_or_load(ListKey::new(parent, Collection::Computes), || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, String>(listing(&["a", "b"]))
                })
                .await
        };
        let readers: Vec<_> = (0..10)
            .map(|_| tokio::spawn(read(cache.clone(), calls.clone(), "/Subs/S/WS")))
            .collect();
        for reader in readers {
            assert_eq!(reader.await.expect("joined").expect("listed").len(), 2);
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one list call for ten readers"
        );
        // Same parent spelled differently: ARM ids are case-insensitive.
        read(cache.clone(), calls.clone(), "/subs/s/ws")
            .await
            .expect("listed");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another parent is another call.
        read(cache.clone(), calls.clone(), "/subs/s/other")
            .await
            .expect("listed");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        cache.invalidate();
        read(cache.clone(), calls.clone(), "/subs/s/ws")
            .await
            .expect("listed");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "a write clears the cache");
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = RefreshCache::default();
        let key = ListKey::new("/ws", Collection::Computes);
        let failed = cache
            .get_or_load(key.clone(), || async {
                Err::<Vec<ObjectValue>, _>("throttled")
            })
            .await;
        assert_eq!(failed.expect_err("fails"), "throttled");
        let listed = cache
            .get_or_load(key, || async { Ok::<_, &str>(listing(&["a"])) })
            .await;
        assert_eq!(listed.expect("listed").len(), 1);
    }
}
