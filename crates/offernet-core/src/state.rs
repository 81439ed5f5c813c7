//! The engine's state: the `Engine` struct (accounts, their indexes, orders, counters),
//! its configuration, the per-command work list that propagation settles before the command
//! returns, and the plain lookups every rule uses. It imports no rule: the rules (`catalog`,
//! `connect`, `settle`, `orders/`, …) add their `impl Engine` blocks on top of it, and
//! `engine.rs` dispatches commands to them.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::{DomainError, Missing, Result};
use crate::event::Event;
use crate::fx::FxHashMap;
use crate::model::*;
use crate::validate as v;

/// Longest chain (origin … final marketplace) the server may be configured with, and the
/// shortest (a seller and its marketplace).
pub const MAX_CHAIN_LIMIT: u8 = 8;
pub const MIN_CHAIN_LIMIT: u8 = 2;
/// The documents' example is a chain of three accounts.
pub const DEFAULT_MAX_CHAIN: u8 = 3;

/// The version of the rules `apply` follows. Replay is deterministic only under the rules a
/// command was accepted under, so a journal records the version it was written with, and one
/// written under older rules is not replayed past its newest snapshot (offernet-store's
/// `rules::check_rules`). Bump it whenever a command that was accepted before could now be
/// refused or do something else.
/// 1: the first release. 2: cancels take whole order trees (rule 34), the marketplace order's
/// status follows its seller orders (rule 38), bodies are checked before state (rule 39),
/// text refuses control characters, an account's lists are bounded together. 3: an order line
/// takes a seller's own stock from its warehouses in the order they were created (rule 40),
/// not in the order their stock was first set; a suggestion created by a send is matched with
/// the other pending suggestions after the command's sends (rule 36), not at once. 4: an order
/// with a sub order at an external seller is not authorised while that placement is pending
/// (409 `external_placement_pending`); an external seller's quote counts back only the units
/// its placed orders reserve (vtex-compat.md §3.3 R), not every reserved unit. An invoice or a cancel by
/// the seller of an order whose marketplace is a VTEX mirror owes that marketplace a call
/// (`pending_outbound`), which an older build never made: replayed, an old journal would owe
/// calls nobody made.
pub const RULES_VERSION: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Most accounts on a chain, both ends counted (domain rule 14).
    pub max_chain: u8,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { max_chain: DEFAULT_MAX_CHAIN }
    }
}

impl EngineConfig {
    pub fn new(max_chain: u8) -> Result<Self> {
        if !(MIN_CHAIN_LIMIT..=MAX_CHAIN_LIMIT).contains(&max_chain) {
            return Err(DomainError::invalid("max_chain", format!("between {MIN_CHAIN_LIMIT} and {MAX_CHAIN_LIMIT}")));
        }
        Ok(EngineConfig { max_chain })
    }
}

/// The whole offer network in memory. See ARCHITECTURE.md: no IO, no clock, no randomness;
/// the same commands always give the same state and events.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) accounts: Vec<Account>,
    pub(crate) account_index: FxHashMap<Arc<str>, AccountIdx>,
    /// Marketplaces whose half registers each seller (reverse of `Account::sellers`).
    pub(crate) registered_at: Vec<BTreeSet<AccountIdx>>,
    /// Pending suggestions per marketplace, by (seller, seller SKU).
    pub(crate) pending: Vec<BTreeSet<(AccountIdx, SkuIdx)>>,
    /// Sequence number of the last event emitted.
    pub(crate) seq: u64,
    /// Commands applied successfully.
    pub(crate) applied: u64,
    /// Reused buffers of propagation (not state: always empty between commands).
    pub(crate) scratch: Scratch,
    pub(crate) orders: crate::orders::Orders,
    /// Shared brand and category text (not state: sharing is invisible but to memory).
    pub(crate) strings: crate::intern::Interner,
    /// Fresh quotes of external sellers by when they go stale: (due ms, seller, SKU). Derived
    /// from the quotes (rebuilt on a snapshot's load).
    pub(crate) quote_expiry: BTreeSet<(u64, AccountIdx, SkuIdx)>,
    /// This engine's own number, which a `Resolved` carries (`resolve.rs`; not state).
    pub(crate) engine_id: EngineId,
}

/// A number no other engine of this process has: a clone or a restored engine gets its own,
/// so a `Resolved` is used only by the engine that made it (`resolve.rs` says why). Not state:
/// equal engines differ in it, so `Debug` (which tests compare) does not show it.
pub(crate) struct EngineId(pub(crate) u64);

impl EngineId {
    fn fresh() -> EngineId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        EngineId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl Clone for EngineId {
    /// A clone is another engine: a new number.
    fn clone(&self) -> EngineId {
        EngineId::fresh()
    }
}

impl std::fmt::Debug for EngineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineId")
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    pub nodes: Vec<(AccountIdx, SkuIdx)>,
    pub frontier: Vec<(AccountIdx, SkuIdx)>,
    pub next: Vec<(AccountIdx, SkuIdx)>,
    pub targets: Vec<AccountIdx>,
}

/// What one command left to do after its ground change: nodes whose derived values may have
/// changed, suggestions to match again, and the events emitted so far.
#[derive(Default)]
pub(crate) struct Work {
    /// Seller SKUs whose own inputs changed; propagation follows bindings downstream.
    pub dirty: Vec<(AccountIdx, SkuIdx)>,
    /// Marketplaces whose catalog, bindings or registrations changed: their pending
    /// suggestions are matched again.
    pub match_dirty: BTreeSet<AccountIdx>,
    /// Single pending suggestions to match again: (marketplace, seller, seller SKU).
    pub rematch: BTreeSet<(AccountIdx, AccountIdx, SkuIdx)>,
    pub events: Vec<Event>,
}

impl Work {
    pub(crate) fn all_skus(&mut self, engine: &Engine, a: AccountIdx) {
        let n = engine.accounts[a].skus.len();
        self.dirty.extend((0..n).map(|s| (a, SkuIdx::new(s))));
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            config,
            accounts: Vec::new(),
            account_index: FxHashMap::default(),
            registered_at: Vec::new(),
            pending: Vec::new(),
            seq: 0,
            applied: 0,
            scratch: Scratch::default(),
            orders: Default::default(),
            strings: Default::default(),
            quote_expiry: BTreeSet::new(),
            engine_id: EngineId::fresh(),
        }
    }

    pub fn config(&self) -> EngineConfig {
        self.config
    }
    /// Sequence number of the last event emitted (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.seq
    }
    /// Number of commands applied successfully.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    pub(crate) fn account_idx(&self, id: &str) -> Result<AccountIdx> {
        self.account_index
            .get(id)
            .copied()
            .ok_or_else(|| DomainError::not_found(Missing::Account, id, format!("account `{id}`")))
    }

    pub(crate) fn sku_of(&self, a: AccountIdx, id: &str) -> Result<SkuIdx> {
        self.accounts[a].sku_idx(id).ok_or_else(|| {
            DomainError::not_found(Missing::Sku, id, format!("SKU `{id}` of account `{}`", self.accounts[a].id))
        })
    }

    pub(crate) fn tp_of(&self, a: AccountIdx, field: &str, id: &str) -> Result<TpIdx> {
        self.accounts[a]
            .tp_idx(id)
            .ok_or_else(|| DomainError::invalid(field, format!("trade policy `{id}` does not exist")))
    }

    /// `MAX_ACCOUNT_LIST_IDS`: replacing a list of `old` ids by one of `new` keeps the account's
    /// lists within the limit (409 otherwise; shrinking is always allowed).
    pub(crate) fn check_list_ids(&self, a: AccountIdx, old: usize, new: usize) -> Result<()> {
        let total = self.accounts[a].list_ids() - old + new;
        if new > old && total > v::MAX_ACCOUNT_LIST_IDS {
            return Err(DomainError::conflict(format!(
                "the account's assortment and resale lists would hold {total} ids; at most {} in all (use \"all\")",
                v::MAX_ACCOUNT_LIST_IDS
            )));
        }
        Ok(())
    }

    /// Order `id` as `account` names it: the account, the order, and the sub order when `id`
    /// is a seller or chain order (`None`: the marketplace's own order).
    pub(crate) fn order_of(&self, account: &str, id: &str) -> Result<(AccountIdx, usize, Option<usize>)> {
        let a = self.account_idx(account)?;
        let &(oi, si) = self
            .orders
            .index
            .get(&(a, Arc::from(id)))
            .ok_or_else(|| DomainError::not_found(Missing::Order, id, format!("order `{id}` of `{account}`")))?;
        Ok((a, oi, si))
    }
}
