//! The refresh queue (vtex-compat.md §3.3): which external sellers' SKUs the quote worker must
//! ask again (A1). Notifications (C1–C4) and the sweep put keys (E, s) in; the worker takes up to
//! `MAX_SKUS_PER_SIMULATION` keys of one seller at a time.
//!
//! - In memory, never journaled: a lost key costs at most `refresh_minutes` of staleness (the
//!   sweep asks again) and never more than the quote TTL of false sellability (`quote_stale`).
//! - Deduplicated: a key already waiting is not added twice, so a burst of notifications for
//!   one SKU coalesces into one simulation.
//! - Held off: a key asked at `t` is not asked again before `t + HOLD_OFF_MS`, so a burst that
//!   outlasts one simulation costs two calls, not one per notification; the first notification
//!   after a quiet spell is asked at once (freshness).
//! - Bounded at `MAX_KEYS`: the oldest key is dropped (and counted) for a new one.
//!
//! Pure data: the caller passes the time (milliseconds of a monotonic clock), so tests drive it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// At most this many keys wait: about 10 MB, far more than the SKUs a simulation sweep of every
/// external seller asks at once; past it the oldest is dropped (the sweep brings it back).
pub const MAX_KEYS: usize = 100_000;
/// SKUs of one seller per simulation (design §2.4): VTEX's checkout asks a handful at a time,
/// and a seller's endpoint must answer within 2.5 s.
pub const MAX_SKUS_PER_SIMULATION: usize = 50;
/// A key is not asked again sooner than this after it was asked: a burst of notifications
/// coalesces into at most one more call, and a notification is still answered within
/// `HOLD_OFF_MS` + one simulation (well under the 1 s freshness goal).
pub const HOLD_OFF_MS: u64 = 500;

/// An external seller's SKU: (seller account, its SKU id).
pub type Key = (Arc<str>, Arc<str>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiting {
    seq: u64,
    ready_ms: u64,
}

/// The queue; see the module's documentation.
#[derive(Debug, Default)]
pub struct RefreshQueue {
    next_seq: u64,
    waiting: HashMap<Key, Waiting>,
    /// Oldest first, for dropping: seq → key.
    by_age: BTreeMap<u64, Key>,
    /// Ready order: (ready_ms, seq) → key.
    ready: BTreeMap<(u64, u64), Key>,
    /// Per seller, its waiting keys in ready order.
    per_seller: HashMap<Arc<str>, BTreeSet<(u64, u64)>>,
    /// When each recently taken key was taken, oldest first (pruned after `HOLD_OFF_MS`).
    taken: VecDeque<(u64, Key)>,
    taken_at: HashMap<Key, u64>,
    /// Keys dropped because the queue was full, since the start.
    dropped: u64,
}

impl RefreshQueue {
    pub fn new() -> RefreshQueue {
        RefreshQueue::default()
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Keys of `seller` waiting.
    pub fn pending(&self, seller: &str) -> usize {
        self.per_seller.get(seller).map_or(0, BTreeSet::len)
    }

    /// Keys dropped because the queue was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Queues (seller, sku) at `now_ms`; false when it was waiting already (coalesced). A key
    /// taken less than `HOLD_OFF_MS` ago becomes ready only then.
    pub fn push(&mut self, seller: &str, sku: &str, now_ms: u64) -> bool {
        let key: Key = (Arc::from(seller), Arc::from(sku));
        if self.waiting.contains_key(&key) {
            return false;
        }
        if self.waiting.len() >= MAX_KEYS {
            self.drop_oldest();
        }
        self.prune_taken(now_ms);
        let ready_ms = self.taken_at.get(&key).map_or(now_ms, |&t| (t + HOLD_OFF_MS).max(now_ms));
        let seq = self.next_seq;
        self.next_seq += 1;
        self.waiting.insert(key.clone(), Waiting { seq, ready_ms });
        self.by_age.insert(seq, key.clone());
        self.per_seller.entry(key.0.clone()).or_default().insert((ready_ms, seq));
        self.ready.insert((ready_ms, seq), key);
        true
    }

    /// When the next key is ready (`None`: nothing waits).
    pub fn next_ready_ms(&self) -> Option<u64> {
        self.ready.keys().next().map(|&(ready_ms, _)| ready_ms)
    }

    /// The seller of the key ready first, with up to `MAX_SKUS_PER_SIMULATION` of its keys that
    /// are ready at `now_ms` (in ready order); `None` when no key is ready.
    pub fn take(&mut self, now_ms: u64) -> Option<(Arc<str>, Vec<Arc<str>>)> {
        let (&(ready_ms, _), key) = self.ready.iter().next()?;
        if ready_ms > now_ms {
            return None;
        }
        let seller = key.0.clone();
        let slots: Vec<(u64, u64)> = self.per_seller[&seller]
            .iter()
            .take_while(|&&(r, _)| r <= now_ms)
            .take(MAX_SKUS_PER_SIMULATION)
            .copied()
            .collect();
        self.prune_taken(now_ms);
        let mut skus = Vec::with_capacity(slots.len());
        for slot in slots {
            let key = self.ready.get(&slot).cloned().expect("the indexes agree");
            self.remove(&key);
            self.taken_at.insert(key.clone(), now_ms);
            self.taken.push_back((now_ms, key.clone()));
            skus.push(key.1);
        }
        Some((seller, skus))
    }

    fn remove(&mut self, key: &Key) {
        let Some(w) = self.waiting.remove(key) else { return };
        self.by_age.remove(&w.seq);
        self.ready.remove(&(w.ready_ms, w.seq));
        if let Some(set) = self.per_seller.get_mut(&key.0) {
            set.remove(&(w.ready_ms, w.seq));
            if set.is_empty() {
                self.per_seller.remove(&key.0);
            }
        }
    }

    fn drop_oldest(&mut self) {
        if let Some((_, key)) = self.by_age.pop_first() {
            self.remove(&key);
            self.dropped += 1;
        }
    }

    /// Forgets keys taken `HOLD_OFF_MS` or more before `now_ms`.
    fn prune_taken(&mut self, now_ms: u64) {
        while let Some((t, key)) = self.taken.front() {
            if t + HOLD_OFF_MS > now_ms {
                break;
            }
            if self.taken_at.get(key) == Some(t) {
                self.taken_at.remove(key);
            }
            self.taken.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skus(v: &[Arc<str>]) -> Vec<&str> {
        v.iter().map(|s| &**s).collect()
    }

    #[test]
    fn repeats_coalesce_and_one_seller_is_taken_at_a_time() {
        let mut q = RefreshQueue::new();
        assert!(q.push("e", "a", 0));
        assert!(!q.push("e", "a", 1), "already waiting");
        assert!(q.push("f", "x", 2));
        assert!(q.push("e", "b", 3));
        assert_eq!((q.len(), q.pending("e"), q.pending("f"), q.pending("g")), (3, 2, 1, 0));
        let (seller, got) = q.take(3).unwrap();
        assert_eq!((&*seller, skus(&got)), ("e", vec!["a", "b"]));
        let (seller, got) = q.take(3).unwrap();
        assert_eq!((&*seller, skus(&got)), ("f", vec!["x"]));
        assert!(q.take(3).is_none() && q.is_empty());
    }

    #[test]
    fn at_most_fifty_skus_per_take() {
        let mut q = RefreshQueue::new();
        for i in 0..120 {
            q.push("e", &format!("s{i}"), 0);
        }
        let sizes: Vec<usize> = std::iter::from_fn(|| q.take(0)).map(|(_, s)| s.len()).collect();
        assert_eq!(sizes, [50, 50, 20]);
    }

    #[test]
    fn a_key_taken_recently_waits_for_the_hold_off() {
        let mut q = RefreshQueue::new();
        q.push("e", "a", 1_000);
        assert!(q.take(1_000).is_some());
        // A burst during and after the call: one more key, ready at the end of the hold-off.
        for t in 1_001..1_050 {
            q.push("e", "a", t);
        }
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_ready_ms(), Some(1_000 + HOLD_OFF_MS));
        assert!(q.take(1_000 + HOLD_OFF_MS - 1).is_none());
        // Another key of the seller is ready at once and goes alone.
        q.push("e", "b", 1_100);
        assert_eq!(skus(&q.take(1_100).unwrap().1), vec!["b"]);
        assert_eq!(skus(&q.take(1_000 + HOLD_OFF_MS).unwrap().1), vec!["a"]);
        // After a quiet spell, a key is ready at once.
        q.push("e", "a", 5_000);
        assert_eq!(q.next_ready_ms(), Some(5_000));
    }

    #[test]
    fn the_oldest_key_is_dropped_when_full() {
        let mut q = RefreshQueue::new();
        for i in 0..MAX_KEYS {
            q.push("e", &format!("s{i}"), 0);
        }
        assert!(q.push("e", "new", 1));
        assert_eq!((q.len(), q.dropped()), (MAX_KEYS, 1));
        assert!(q.push("e", "s0", 2), "s0 was the one dropped");
        assert_eq!(q.dropped(), 2);
        let first = q.take(2).unwrap().1;
        assert_eq!(&*first[0], "s2", "s1 went second");
    }
}
