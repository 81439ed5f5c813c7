//! `SkuIndex`: an account's SKUs by id. A hash table of positions only (4 bytes a slot); the ids
//! are read from the SKUs themselves when a lookup compares or the table grows.
//!
//! Why not `FxHashMap<Arc<str>, SkuIdx>`: each of its slots held a second pointer to the id
//! (16 bytes) beside the position, 24 bytes a slot at up to twice as many slots as SKUs, for
//! every SKU of every account. A lookup reads the same memory either way: the slot, then the
//! id's text; the SKU record it then reads is the one the command goes on to use.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;

use super::{Sku, SkuIdx};
use crate::fx::FxHasher;

#[derive(Clone, Debug, Default)]
pub struct SkuIndex(HashTable<SkuIdx>);

fn hash(id: &str) -> u64 {
    let mut h = FxHasher::default();
    id.hash(&mut h);
    h.finish()
}

impl SkuIndex {
    /// The position of SKU `id` among `skus` (the account's SKUs this index is of).
    #[inline]
    pub fn get(&self, skus: &[Sku], id: &str) -> Option<SkuIdx> {
        self.0.find(hash(id), |&i| &*skus[i.ix()].id == id).copied()
    }

    /// Indexes `skus[idx]`, whose id no other SKU of `skus` has.
    pub fn insert(&mut self, skus: &[Sku], idx: SkuIdx) {
        debug_assert!(self.get(skus, &skus[idx.ix()].id).is_none(), "SKU ids are unique in an account");
        self.0.insert_unique(hash(&skus[idx.ix()].id), idx, |&i| hash(&skus[i.ix()].id));
    }

    /// Makes room for `additional` more SKUs of `skus` at once (a snapshot's load knows how
    /// many), instead of growing by doubling and rehashing on the way.
    pub fn reserve(&mut self, skus: &[Sku], additional: usize) {
        self.0.reserve(additional, |&i| hash(&skus[i.ix()].id));
    }

    /// Slots the table holds (for `Engine::memory_use`): a power of two, or none.
    pub fn buckets(&self) -> usize {
        if self.0.capacity() == 0 {
            0
        } else {
            (self.0.capacity() * 8 / 7).next_power_of_two()
        }
    }
}
