//! A small, fast, deterministic hasher (the FxHash of rustc).
//!
//! Why not std's SipHash: the engine hashes short integer keys on its hot path, and
//! std's `RandomState` would make any accidental iteration order differ between runs.
//! The engine never iterates a hash map where order is observable, but a fixed hasher
//! keeps even debugging output reproducible.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Slots of a hashbrown table (std's `HashMap` or a `HashTable`) holding `capacity` entries: a
/// power of two holding the capacity at 7/8 load, none for none. For counting memory
/// (`memory.rs`) and for filling a table in slot order (a snapshot's load).
pub(crate) fn table_slots(capacity: usize) -> usize {
    if capacity == 0 {
        0
    } else {
        (capacity * 8 / 7).next_power_of_two()
    }
}

/// The mask that turns a hash into its slot in a hashbrown table holding `capacity` entries
/// (a table is filled in slot order by a snapshot's load).
pub(crate) fn slot_mask(capacity: usize) -> u64 {
    (table_slots(capacity).max(1) - 1) as u64
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = HashMap<K, V, FxBuild>;
pub type FxHashSet<K> = HashSet<K, FxBuild>;
