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

    /// Indexes every SKU of `skus` (the index is empty): sized once, then filled in the order
    /// of the slots the SKUs land in, so that a large table is written front to back instead
    /// of at random (a snapshot's load: one cache miss per page instead of one per SKU).
    pub fn fill(&mut self, skus: &[Sku]) {
        debug_assert_eq!(self.0.len(), 0, "fill starts from an empty index");
        self.0.reserve(skus.len(), |&i| hash(&skus[i.ix()].id));
        let mask = crate::fx::slot_mask(self.0.capacity());
        let mut order: Vec<(u64, u64, SkuIdx)> = skus
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let h = hash(&k.id);
                (h & mask, h, SkuIdx::new(i))
            })
            .collect();
        order.sort_unstable_by_key(|&(slot, _, i)| (slot, i));
        for (_, h, i) in order {
            self.0.insert_unique(h, i, |&j| hash(&skus[j.ix()].id));
        }
    }

    /// Slots the table holds (for `Engine::memory_use`): a power of two, or none.
    pub fn buckets(&self) -> usize {
        crate::fx::table_slots(self.0.capacity())
    }
}

#[cfg(test)]
mod fill_tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::SkuInfo;

    /// Filled at once (a snapshot's load) or SKU by SKU (commands): the same lookups.
    #[test]
    fn a_filled_index_finds_every_sku_as_one_built_sku_by_sku() {
        let info = Arc::new(SkuInfo::named(Arc::from("n")));
        let skus: Vec<Sku> = (0..5000).map(|i| Sku::new(Arc::from(format!("sku-{i}")), info.clone())).collect();
        let mut filled = SkuIndex::default();
        filled.fill(&skus);
        let mut grown = SkuIndex::default();
        for i in 0..skus.len() {
            grown.insert(&skus, SkuIdx::new(i));
        }
        for (i, k) in skus.iter().enumerate() {
            assert_eq!(filled.get(&skus, &k.id), Some(SkuIdx::new(i)));
            assert_eq!(grown.get(&skus, &k.id), Some(SkuIdx::new(i)));
        }
        assert_eq!(filled.get(&skus, "sku-5000"), None);
        assert!(filled.buckets() <= grown.buckets());
        let mut empty = SkuIndex::default();
        empty.fill(&[]);
        assert_eq!(empty.get(&skus, "sku-0"), None);
    }
}
