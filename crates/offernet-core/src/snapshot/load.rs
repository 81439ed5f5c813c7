//! The load's passes after decoding (`read.rs`): each copy given its source's text
//! (`share_text`), every offer evaluated (`rebuild_derived`), and the threads they, format 8's
//! decoding (`read.rs`) and the writing of accounts (`write.rs`) run on: the work cut into
//! consecutive ranges (`split_balanced`), each on its own scoped thread (`in_parallel`), the
//! results set or joined afterwards in a fixed order, so the engine (and the bytes) are the
//! same whatever the number of threads.

use std::ops::Range;
use std::sync::Arc;

use super::codec::DResult;
use super::sku_at;
use crate::model::*;
use crate::state::{Engine, Scratch, MAX_CHAIN_LIMIT};

impl Engine {
    /// Shares text as building the state did (memory only: sharing is invisible otherwise):
    /// from format 7, a SKU written with `TEXT_OF_SOURCE` (holding one of the `markers`)
    /// takes the text of the SKU it was made from, up the chain of copies to the first with
    /// its own; before, each SKU made from another (`created_from`) holds its source's text
    /// when the two are still equal, up the chain. (Brands and categories were shared as they
    /// were read: `sku`.) The text is found on several threads (reading only), then set in
    /// account and SKU order.
    pub(super) fn share_text(
        &mut self,
        threads: usize,
        format: u32,
        markers: &[Arc<SkuInfo>],
        copies: &[usize],
    ) -> DResult<()> {
        let accounts = &self.accounts;
        // Cut by copies, not SKUs: the copies sit at the marketplaces, so cut by SKUs one
        // thread got most of them.
        let shared = in_parallel(split_balanced(copies.iter().copied(), threads), |range| {
            let mut out = Vec::new();
            for a in range {
                for (k, sku) in accounts[a].skus.iter().enumerate() {
                    let found = if format >= 7 {
                        text_of_source(accounts, sku, markers)
                    } else {
                        equal_source_text(accounts, sku).map(Found::Text)
                    };
                    match found {
                        Some(Found::Text(info)) => out.push(Ok((a, k, Some(info.clone())))),
                        Some(Found::Further) => out.push(Ok((a, k, None))),
                        Some(Found::Broken) => {
                            out.push(Err(no_source_text(sku)));
                            return out;
                        }
                        None => {}
                    }
                }
            }
            out
        });
        let mut further = Vec::new();
        for found in shared {
            match found? {
                (a, k, Some(info)) => self.accounts[a].skus[k].info = info,
                (a, k, None) => further.push((a, k)),
            }
        }
        // Copies of copies more than `MAX_CHAIN_LIMIT` deep (a copy with stock of its own sends
        // on like any origin, so chains of copies have no bound): up the chain to the first
        // text, every SKU on the way given it, so each chain is walked once.
        let skus: usize = self.accounts.iter().map(|a| a.skus.len()).sum();
        for (a, k) in further {
            let mut path = vec![(AccountIdx::new(a), SkuIdx::new(k))];
            let mut from = self.accounts[a].skus[k].created_from;
            let info = loop {
                match sku_at(&self.accounts, from).filter(|_| path.len() <= skus) {
                    Some(src) if !is_marker(&src.info, markers) => break src.info.clone(),
                    Some(src) => {
                        path.extend(from);
                        from = src.created_from;
                    }
                    None => return Err(no_source_text(&self.accounts[a].skus[k])),
                }
            };
            for (x, y) in path {
                self.accounts[x].skus[y].info = info.clone();
            }
        }
        Ok(())
    }

    /// What is derived: registrations by seller, then every offer.
    pub(super) fn rebuild_derived(&mut self, threads: usize) -> DResult<()> {
        for mi in 0..self.accounts.len() {
            let sellers: Vec<AccountIdx> = self.accounts[mi].sellers.keys().copied().collect();
            for s in sellers {
                if s.ix() >= self.accounts.len() {
                    return Err("snapshot names an account that does not exist".into());
                }
                self.registered_at[s.ix()].insert(AccountIdx::new(mi));
            }
        }
        // Every offer, evaluated on several threads (reading only) seller by seller, each
        // seller's SKUs in order and each SKU's bindings: the seller records are read in
        // sequence, not in the suggestion maps' hash order. Then set in that order.
        let engine = &*self;
        let n = engine.accounts.len();
        let states = over_accounts(&engine.accounts, threads, |range| {
            let mut out = Vec::new();
            for s in range {
                for (ss, sku) in engine.accounts[s].skus.iter().enumerate() {
                    for &(m, mk) in sku.bound_at.iter() {
                        if m.ix() >= n || mk.ix() >= engine.accounts[m].skus.len() {
                            out.push(Err("snapshot binds to a SKU that does not exist".to_string()));
                            return out;
                        }
                        let (s, ss) = (AccountIdx::new(s), SkuIdx::new(ss));
                        out.push(Ok((m, mk, s, ss, engine.eval_offer(m, s, ss, Some(mk), None).offer_state())));
                    }
                }
            }
            out
        })
        .into_iter()
        .collect::<DResult<Vec<_>>>()?;
        let bound: usize =
            self.accounts.iter().map(|a| a.suggestions.values().filter(|g| g.sku().is_some()).count()).sum();
        if bound != states.len() {
            return Err(format!("snapshot holds {bound} bound suggestions but {} bindings", states.len()));
        }
        for (m, mk, s, ss, st) in states {
            match self.accounts[m].suggestions.get_mut(&(s, ss)) {
                Some(g) if g.sku() == Some(mk) => g.set_offer(Some(st)),
                _ => return Err("snapshot holds a binding without its approved suggestion".into()),
            }
        }
        self.scratch = Scratch::default();
        Ok(())
    }
}

/// What `text_of_source` found for a SKU written with `TEXT_OF_SOURCE`.
enum Found<'e> {
    Text(&'e Arc<SkuInfo>),
    /// Still a SKU without its own text `MAX_CHAIN_LIMIT` steps up: looked for afterwards.
    Further,
    /// The chain ends (or names a SKU that does not exist) before any text.
    Broken,
}

/// Format 7: the text of a SKU written with `TEXT_OF_SOURCE` (`None` for one with its own):
/// the first SKU up its chain of copies that has its own text, looked for `MAX_CHAIN_LIMIT`
/// steps up here (most chains are shorter), further by `share_text`.
fn text_of_source<'e>(accounts: &'e [Account], sku: &Sku, markers: &[Arc<SkuInfo>]) -> Option<Found<'e>> {
    if !is_marker(&sku.info, markers) {
        return None;
    }
    let mut from = sku.created_from;
    for _ in 0..MAX_CHAIN_LIMIT {
        let Some(src) = sku_at(accounts, from) else {
            return Some(Found::Broken);
        };
        if !is_marker(&src.info, markers) {
            return Some(Found::Text(&src.info));
        }
        from = src.created_from;
    }
    Some(Found::Further)
}

/// The markers that SKUs written with `TEXT_OF_SOURCE` hold until `share_text` gives them their
/// source's text: one per decoding thread (`read.rs`).
pub(super) type Markers = Vec<Arc<SkuInfo>>;

/// A marker: a text of its own, known by its address only (`is_marker`).
pub(super) fn new_marker() -> Arc<SkuInfo> {
    Arc::new(SkuInfo::named(Arc::from("")))
}

/// Whether `info` is one of the load's markers (a SKU still without its text).
#[inline]
fn is_marker(info: &Arc<SkuInfo>, markers: &[Arc<SkuInfo>]) -> bool {
    markers.iter().any(|m| Arc::ptr_eq(info, m))
}

/// Why a SKU written with `TEXT_OF_SOURCE` has no text: its chain of copies ends, or loops.
fn no_source_text(sku: &Sku) -> String {
    format!("SKU {} takes the text of a SKU it was not made from", sku.id)
}

/// Formats before 7: the text a SKU made from another can share: its source's while the two
/// are equal, up the chain of copies (`None` when it shares none).
fn equal_source_text<'e>(accounts: &'e [Account], sku: &'e Sku) -> Option<&'e Arc<SkuInfo>> {
    let mut info = &sku.info;
    let mut from = sku.created_from;
    // Sharing stops `MAX_CHAIN_LIMIT` steps up (memory only: the text is equal either way).
    for _ in 0..MAX_CHAIN_LIMIT {
        let Some(src) = sku_at(accounts, from) else { break };
        if src.info != *info {
            break;
        }
        info = &src.info;
        from = src.created_from;
    }
    (!Arc::ptr_eq(info, &sku.info)).then_some(info)
}

/// Most threads a snapshot's load (decoding, sharing text, evaluating offers) and its writing
/// use, and the fewest snapshot bytes worth a second thread of a load (about 100,000 SKUs).
const MAX_LOAD_THREADS: usize = 8;
pub(super) const BYTES_PER_LOAD_THREAD: usize = 10 << 20;

/// SKUs of a snapshot worth a thread of its writing (about `BYTES_PER_LOAD_THREAD` of bytes).
pub(super) const SKUS_PER_WRITE_THREAD: usize = 100_000;

/// Threads for `units` of work: the number `asked`, else the machine's cores, one per
/// `per_thread` units; at most `MAX_LOAD_THREADS`, at least one.
pub(super) fn thread_count(asked: Option<usize>, units: usize, per_thread: usize) -> usize {
    let threads = asked.unwrap_or_else(|| {
        let most = units / per_thread;
        if most <= 1 {
            return 1;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(most)
    });
    threads.clamp(1, MAX_LOAD_THREADS)
}

/// Positions `0..n` (with these `weights`) cut into at most `parts` consecutive ranges of about
/// equal weight.
pub(super) fn split_balanced(weights: impl ExactSizeIterator<Item = usize> + Clone, parts: usize) -> Vec<Range<usize>> {
    let n = weights.len();
    let total: usize = weights.clone().sum();
    if parts <= 1 || total == 0 {
        return std::iter::once(0..n).collect();
    }
    let mut ranges = Vec::with_capacity(parts);
    let (mut start, mut seen) = (0, 0);
    for (i, w) in weights.enumerate() {
        seen += w;
        if seen * parts >= total * (ranges.len() + 1) && ranges.len() + 1 < parts {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    // The last range is empty when the heaviest positions end the list: nothing to do there.
    if start < n {
        ranges.push(start..n);
    }
    ranges
}

/// `f` over each range on its own (scoped) thread, the results concatenated in range order:
/// the same result whatever the ranges. `f` only reads what it shares.
pub(super) fn in_parallel<T: Send>(ranges: Vec<Range<usize>>, f: impl Fn(Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
    if ranges.len() <= 1 {
        return ranges.into_iter().flat_map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let running: Vec<_> = ranges.into_iter().map(|r| scope.spawn(move || f(r))).collect();
        // A thread's panic (an engine invariant) is raised again as it was.
        running.into_iter().flat_map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// `f` over consecutive ranges of `accounts` of about equal SKU counts, on `threads` threads.
fn over_accounts<T: Send>(accounts: &[Account], threads: usize, f: impl Fn(Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
    in_parallel(by_skus(accounts, threads), f)
}

/// `accounts` cut into at most `threads` consecutive ranges of about equal SKU counts.
pub(super) fn by_skus(accounts: &[Account], threads: usize) -> Vec<Range<usize>> {
    split_balanced(accounts.iter().map(|a| a.skus.len()), threads)
}
