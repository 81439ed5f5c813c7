//! Where the engine's memory goes: its structures' sizes counted, part by part, for
//! `offernet bench memory` and BENCHMARKS.md. An estimate of what the allocator holds (sizes
//! and capacities, each heap block rounded as glibc's malloc rounds it, hash tables at their
//! bucket count), not a measurement: the benchmark prints it beside the process's RSS.
//! Shared strings (`Arc<str>`) count a share of their block per holder (`1 / strong_count`),
//! so a string shared by a seller's SKU and the SKUs made from it counts once in all.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use crate::model::*;
use crate::state::Engine;

/// Bytes by part of the engine's state, largest structures named (`Engine::memory_use`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryUse {
    /// `Sku` records themselves (the vectors' capacity × the record's size).
    pub sku_records: u64,
    /// SKU ids, names, brands, categories and other catalog text (shares of `Arc<str>` blocks).
    pub sku_strings: u64,
    /// Per-SKU vectors: stock entries, bindings (`bound_at`), sources, fixed prices.
    pub sku_vectors: u64,
    /// Per-account indexes of SKUs: by id, by GTIN, by (ref_id, brand).
    pub sku_indexes: u64,
    /// Suggestions (each holding its derived offer) and the pending sets.
    pub offers: u64,
    /// Accounts, trade policies, warehouses, connections, orders: everything else.
    pub other: u64,
}

impl MemoryUse {
    /// The catalog: SKU records, their strings, vectors and indexes.
    pub fn catalog(&self) -> u64 {
        self.sku_records + self.sku_strings + self.sku_vectors + self.sku_indexes
    }
    pub fn total(&self) -> u64 {
        self.catalog() + self.offers + self.other
    }
}

/// A heap block as glibc's malloc holds it: the request plus an 8-byte header, rounded up to
/// 16, at least 32 (nothing for an empty request, which Rust never makes).
fn block(bytes: usize) -> u64 {
    if bytes == 0 {
        0
    } else {
        (bytes + 8).div_ceil(16).max(2) as u64 * 16
    }
}

fn vec_bytes<T>(v: &Vec<T>) -> u64 {
    block(v.capacity() * size_of::<T>())
}

fn few<T>(f: &Few<T>) -> u64 {
    block(f.heap_bytes())
}

/// This holder's share of a SKU's shared info: its block and the shares of its strings.
fn info(i: &Arc<SkuInfo>) -> u64 {
    let own = block(2 * size_of::<usize>() + size_of::<SkuInfo>())
        + arc_str(&i.name)
        + opt_arc_str(&i.brand)
        + opt_arc_str(&i.category)
        + opt_arc_str(&i.ref_id)
        + i.ean.as_ref().map_or(0, |e| arc_str(&e.0));
    own / Arc::strong_count(i) as u64
}

/// This holder's share of a shared string's block (its header of two counters, then the text).
fn arc_str(s: &Arc<str>) -> u64 {
    block(2 * size_of::<usize>() + s.len()) / Arc::strong_count(s) as u64
}

fn opt_arc_str(s: &Option<Arc<str>>) -> u64 {
    s.as_ref().map_or(0, arc_str)
}

/// A hash table of `capacity` entries of `K, V`: its buckets (a power of two holding the
/// capacity at 7/8 load), one control byte each, in one block.
fn table<K, V, S>(m: &HashMap<K, V, S>) -> u64 {
    if m.capacity() == 0 {
        return 0;
    }
    let buckets = crate::fx::table_slots(m.capacity());
    block(buckets * (size_of::<(K, V)>() + 1) + 16)
}

impl Engine {
    /// Counts the engine's structures (see the module's note: an estimate, not RSS).
    pub fn memory_use(&self) -> MemoryUse {
        let mut m = MemoryUse::default();
        m.other += vec_bytes(&self.accounts) + table(&self.account_index);
        for a in &self.accounts {
            m.sku_records += vec_bytes(&a.skus);
            for s in &a.skus {
                m.sku_strings += arc_str(&s.id) + opt_arc_str(&s.product_id) + info(&s.info);
                m.sku_vectors += few(&s.stock)
                    + few(&s.bound_at)
                    + few(&s.sources)
                    + block(s.tp_prices.len() * size_of::<(TpIdx, Price)>());
            }
            m.sku_indexes += block(a.sku_index.buckets() * (size_of::<SkuIdx>() + 1) + 16);
            m.sku_indexes += table(&a.gtin_index) + table(&a.ref_index);
            m.offers += table(&a.suggestions);
        }
        // A B-tree set holds its keys in nodes of up to 11; count them at two thirds full.
        let pending: usize = self.pending.iter().map(|p| p.len()).sum();
        m.offers += (pending * size_of::<(AccountIdx, SkuIdx)>() * 3 / 2) as u64;
        m
    }
}
