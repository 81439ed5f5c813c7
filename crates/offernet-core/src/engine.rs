//! The engine: ground state, command application, and the per-command work list that
//! propagation settles before the command returns.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::command::*;
use crate::error::{DomainError, Result};
use crate::event::Event;
use crate::fx::{FxHashMap, FxHashSet};
use crate::gtin::parse_gtin;
use crate::model::*;
use crate::settle::NewSkuId;
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
/// text refuses control characters, an account's lists are bounded together.
pub const RULES_VERSION: u32 = 2;

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
        let n = engine.accounts[a as usize].skus.len() as SkuIdx;
        self.dirty.extend((0..n).map(|s| (a, s)));
    }
}

fn opt_text(field: &str, s: &Option<String>) -> Result<Option<Arc<str>>> {
    match s {
        None => Ok(None),
        Some(t) => {
            v::text(field, t)?;
            Ok(Some(Arc::from(t.as_str())))
        }
    }
}

fn parse_resale(r: &Option<WordOrList>) -> Result<Resale> {
    Ok(match r {
        None => Resale::None,
        Some(WordOrList::Word(w)) if w == "none" => Resale::None,
        Some(WordOrList::Word(w)) if w == "all" => Resale::All,
        Some(WordOrList::Word(_)) => {
            return Err(DomainError::invalid("resale", "\"none\", \"all\" or a list of account ids"))
        }
        Some(WordOrList::List(l)) => {
            v::list_len("resale", l.len(), v::MAX_LIST_LEN)?;
            for (i, a) in l.iter().enumerate() {
                v::account_id(&format!("resale[{i}]"), a)?;
            }
            let mut ids: Vec<Arc<str>> = l.iter().map(|a| Arc::from(a.as_str())).collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                Resale::None
            } else {
                Resale::List(ids)
            }
        }
    })
}

fn parse_match_mode(m: &str) -> Result<MatchMode> {
    match m {
        "auto" => Ok(MatchMode::Auto),
        "score" => Ok(MatchMode::Score),
        "manual" => Ok(MatchMode::Manual),
        _ => Err(DomainError::invalid("match_mode", "one of auto, score, manual")),
    }
}

fn parse_commission(c: i64) -> Result<u16> {
    if !(0..=v::MAX_COMMISSION_BP).contains(&c) {
        return Err(DomainError::invalid("commission_bp", "between 0 and 10000 basis points"));
    }
    Ok(c as u16)
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
        self.account_index.get(id).copied().ok_or_else(|| DomainError::not_found(format!("account `{id}`")))
    }

    pub(crate) fn sku_of(&self, a: AccountIdx, id: &str) -> Result<SkuIdx> {
        self.accounts[a as usize]
            .sku_idx(id)
            .ok_or_else(|| DomainError::not_found(format!("SKU `{id}` of account `{}`", self.accounts[a as usize].id)))
    }

    fn tp_of(&self, a: AccountIdx, field: &str, id: &str) -> Result<TpIdx> {
        self.accounts[a as usize]
            .tp_idx(id)
            .ok_or_else(|| DomainError::invalid(field, format!("trade policy `{id}` does not exist")))
    }

    /// `MAX_ACCOUNT_LIST_IDS`: replacing a list of `old` ids by one of `new` keeps the account's
    /// lists within the limit (409 otherwise; shrinking is always allowed).
    fn check_list_ids(&self, a: AccountIdx, old: usize, new: usize) -> Result<()> {
        let total = self.accounts[a as usize].list_ids() - old + new;
        if new > old && total > v::MAX_ACCOUNT_LIST_IDS {
            return Err(DomainError::conflict(format!(
                "the account's assortment and resale lists would hold {total} ids; at most {} in all (use \"all\")",
                v::MAX_ACCOUNT_LIST_IDS
            )));
        }
        Ok(())
    }

    /// Both accounts of a connection half: they exist, differ, and share a currency.
    fn connection_pair(&self, seller: &str, marketplace: &str) -> Result<(AccountIdx, AccountIdx)> {
        if seller == marketplace {
            return Err(DomainError::invalid("account", "a connection to oneself is not allowed"));
        }
        let s = self.account_idx(seller)?;
        let m = self.account_idx(marketplace)?;
        if self.accounts[s as usize].currency != self.accounts[m as usize].currency {
            return Err(DomainError::conflict(format!(
                "`{seller}` sells in {} and `{marketplace}` in {}: a connection needs one currency",
                self.accounts[s as usize].currency, self.accounts[m as usize].currency
            )));
        }
        Ok((s, m))
    }

    /// Applies one command whole, or returns why not and changes nothing. `now_ms` is the
    /// command's time (the engine has no clock): orders take their expiry from it.
    pub fn apply(&mut self, cmd: &Command, now_ms: u64) -> Result<Vec<Event>> {
        let mut work = Work::default();
        match cmd {
            Command::CreateAccount { id, name, currency, token_hash } => {
                self.create_account(id, name, currency, token_hash.as_deref())?
            }
            Command::PutSku { account, sku, body } => self.put_sku(account, sku, body, &mut work)?,
            Command::PutTradePolicy { account, trade_policy, body } => {
                self.put_trade_policy(account, trade_policy, body, &mut work)?
            }
            Command::PutWarehouse { account, warehouse, body } => {
                self.put_warehouse(account, warehouse, body, &mut work)?
            }
            Command::PutStock { account, warehouse, sku, body } => {
                self.put_stock(account, warehouse, sku, body, &mut work)?
            }
            Command::PutPrice { account, sku, body } => self.put_price(account, sku, body, &mut work)?,
            Command::DeletePrice { account, sku, trade_policy } => {
                self.delete_price(account, sku, trade_policy.as_deref(), &mut work)?
            }
            Command::PutAffiliation { seller, marketplace, body } => {
                self.write_affiliation(seller, marketplace, Some(body), false, &mut work)?
            }
            Command::PatchAffiliation { seller, marketplace, body } => {
                self.write_affiliation(seller, marketplace, Some(body), true, &mut work)?
            }
            Command::DeleteAffiliation { seller, marketplace } => {
                self.write_affiliation(seller, marketplace, None, false, &mut work)?
            }
            Command::PutSeller { marketplace, seller, body } => {
                self.write_registration(marketplace, seller, Some(body), false, &mut work)?
            }
            Command::PatchSeller { marketplace, seller, body } => {
                self.write_registration(marketplace, seller, Some(body), true, &mut work)?
            }
            Command::DeleteSeller { marketplace, seller } => {
                self.write_registration(marketplace, seller, None, false, &mut work)?
            }
            Command::ApproveSuggestion { marketplace, seller, seller_sku, sku } => {
                self.approve_command(marketplace, seller, seller_sku, sku.as_deref(), &mut work)?
            }
            Command::DenySuggestion { marketplace, seller, seller_sku } => {
                self.deny_command(marketplace, seller, seller_sku, &mut work)?
            }
            Command::PutOrderSettings { account, body } => self.put_order_settings(account, body)?,
            Command::PlaceOrder { marketplace, body } => self.place_order(marketplace, body, now_ms, &mut work)?,
            Command::AuthorizeOrder { marketplace, id } => self.authorize_order(marketplace, id, now_ms, &mut work)?,
            Command::CancelOrder { account, id } => self.cancel_order(account, id, &mut work)?,
            Command::InvoiceOrder { account, id } => self.invoice_order(account, id, &mut work)?,
            Command::ExpireOrders {} => self.expire_orders(now_ms, &mut work),
            Command::SkipEventSeq { seq } => self.seq = self.seq.max(*seq),
        }
        // Past this point nothing can fail: the ground change is made; settle its effects.
        self.settle(&mut work);
        self.applied += 1;
        Ok(work.events)
    }

    fn create_account(&mut self, id: &str, name: &str, currency: &str, token_hash: Option<&str>) -> Result<()> {
        v::account_id("id", id)?;
        v::text("name", name)?;
        v::currency("currency", currency)?;
        if self.account_index.contains_key(id) {
            return Err(DomainError::conflict(format!("account `{id}` already exists")));
        }
        let idx = self.accounts.len() as AccountIdx;
        let id: Arc<str> = Arc::from(id);
        self.accounts.push(Account::new(id.clone(), Arc::from(name), Arc::from(currency), token_hash.map(Arc::from)));
        self.account_index.insert(id, idx);
        self.registered_at.push(BTreeSet::new());
        self.pending.push(BTreeSet::new());
        Ok(())
    }

    fn put_sku(&mut self, account: &str, sku_id: &str, body: &SkuBody, work: &mut Work) -> Result<()> {
        v::item_id("sku", sku_id)?;
        let name = match &body.name {
            None => return Err(DomainError::invalid("name", "required")),
            Some(n) => {
                v::text("name", n)?;
                Arc::<str>::from(n.as_str())
            }
        };
        let product_id = opt_text("product_id", &body.product_id)?;
        let brand = opt_text("brand", &body.brand)?;
        if let Some(c) = &body.category {
            v::category("category", c)?;
        }
        let category = body.category.as_deref().map(Arc::from);
        let ean = match &body.ean {
            None => None,
            Some(e) => {
                let g = parse_gtin(e).map_err(|r| DomainError::invalid("ean", r))?;
                Some((Arc::<str>::from(e.as_str()), g))
            }
        };
        let ref_id = opt_text("ref_id", &body.ref_id)?;
        let active = body.active.unwrap_or(true);
        let a = self.account_idx(account)?;

        let acct = &mut self.accounts[a as usize];
        let idx = match acct.sku_idx(sku_id) {
            Some(i) => {
                unindex_sku(acct, i);
                let s = &mut acct.skus[i as usize];
                s.name = name;
                s.product_id = product_id;
                s.brand = brand;
                s.category = category;
                s.ean = ean;
                s.ref_id = ref_id;
                s.active = active;
                i
            }
            None => {
                let sku = Sku { product_id, brand, category, ean, ref_id, active, ..Sku::new(Arc::from(sku_id), name) };
                insert_sku(acct, sku)
            }
        };
        index_sku(acct, idx);
        self.sku_changed(a, idx, work);
        Ok(())
    }

    /// A SKU's own fields changed: its offers everywhere, the offers of sellers bound to it
    /// (its activity is theirs, rule 19), and the matching of suggestions on both sides.
    pub(crate) fn sku_changed(&mut self, a: AccountIdx, idx: SkuIdx, work: &mut Work) {
        work.dirty.push((a, idx));
        work.dirty.extend(self.accounts[a as usize].skus[idx as usize].sources.iter().copied());
        work.match_dirty.insert(a);
        for &m in &self.registered_at[a as usize] {
            if self.pending[m as usize].contains(&(a, idx)) {
                work.rematch.insert((m, a, idx));
            }
        }
    }

    fn put_trade_policy(&mut self, account: &str, tp_id: &str, body: &TradePolicyBody, work: &mut Work) -> Result<()> {
        v::item_id("trade_policy", tp_id)?;
        let name = opt_text("name", &body.name)?;
        let assortment = match &body.assortment {
            None => return Err(DomainError::invalid("assortment", "required: \"all\" or a list of SKU ids")),
            Some(WordOrList::Word(w)) if w == "all" => Assortment::All,
            Some(WordOrList::Word(_)) => {
                return Err(DomainError::invalid("assortment", "\"all\" or a list of SKU ids"))
            }
            Some(WordOrList::List(l)) => {
                v::list_len("assortment", l.len(), v::MAX_ASSORTMENT_LEN)?;
                let mut ids = Vec::with_capacity(l.len());
                let mut set = FxHashSet::default();
                for (i, s) in l.iter().enumerate() {
                    v::item_id(&format!("assortment[{i}]"), s)?;
                    let s: Arc<str> = Arc::from(s.as_str());
                    if set.insert(s.clone()) {
                        ids.push(s);
                    }
                }
                Assortment::List(ids, set)
            }
        };
        let a = self.account_idx(account)?;
        let old = self.accounts[a as usize]
            .tp_idx(tp_id)
            .map_or(0, |t| self.accounts[a as usize].trade_policies[t as usize].assortment.id_count());
        self.check_list_ids(a, old, assortment.id_count())?;
        let acct = &mut self.accounts[a as usize];
        let tp = match acct.tp_idx(tp_id) {
            Some(tp) => {
                let t = &mut acct.trade_policies[tp as usize];
                t.name = name;
                t.assortment = assortment;
                tp
            }
            None => {
                if acct.trade_policies.len() >= v::MAX_TRADE_POLICIES {
                    return Err(DomainError::conflict(format!(
                        "an account has at most {} trade policies",
                        v::MAX_TRADE_POLICIES
                    )));
                }
                let tp = acct.trade_policies.len() as TpIdx;
                let id: Arc<str> = Arc::from(tp_id);
                acct.trade_policies.push(TradePolicy { id: id.clone(), name, assortment });
                acct.tp_index.insert(id, tp);
                tp
            }
        };
        // The assortment is read only through affiliations that use this trade policy.
        if acct.affiliations.values().any(|x| x.trade_policy == tp) {
            work.all_skus(self, a);
        }
        Ok(())
    }

    fn put_warehouse(&mut self, account: &str, wh_id: &str, body: &WarehouseBody, work: &mut Work) -> Result<()> {
        v::item_id("warehouse", wh_id)?;
        if let Some(l) = &body.trade_policies {
            v::list_len("trade_policies", l.len(), v::MAX_LIST_LEN)?;
            for (i, t) in l.iter().enumerate() {
                v::item_id(&format!("trade_policies[{i}]"), t)?;
            }
        }
        let a = self.account_idx(account)?;
        let tps = match &body.trade_policies {
            None => vec![DEFAULT_TRADE_POLICY],
            Some(l) => {
                let mut tps = Vec::with_capacity(l.len());
                for (i, t) in l.iter().enumerate() {
                    let tp = self.tp_of(a, &format!("trade_policies[{i}]"), t)?;
                    if !tps.contains(&tp) {
                        tps.push(tp);
                    }
                }
                tps
            }
        };
        let acct = &mut self.accounts[a as usize];
        let wh = match acct.wh_index.get(wh_id) {
            Some(&w) => {
                acct.warehouses[w as usize].trade_policies = tps;
                w
            }
            None => {
                if acct.warehouses.len() >= v::MAX_WAREHOUSES {
                    return Err(DomainError::conflict(format!(
                        "an account has at most {} warehouses",
                        v::MAX_WAREHOUSES
                    )));
                }
                let w = acct.warehouses.len() as WhIdx;
                let id: Arc<str> = Arc::from(wh_id);
                acct.warehouses.push(Warehouse { id: id.clone(), trade_policies: tps });
                acct.wh_index.insert(id, w);
                w
            }
        };
        for (i, s) in acct.skus.iter().enumerate() {
            if s.stock.iter().any(|e| e.warehouse == wh) {
                work.dirty.push((a, i as SkuIdx));
            }
        }
        Ok(())
    }

    fn put_stock(&mut self, account: &str, wh_id: &str, sku_id: &str, body: &StockBody, work: &mut Work) -> Result<()> {
        let quantity = match (body.quantity, body.unlimited) {
            (Some(_), Some(true)) => {
                return Err(DomainError::invalid("unlimited", "give either a quantity or unlimited: true, not both"))
            }
            (Some(q), _) => Qty(v::quantity("quantity", q)?),
            (None, Some(true)) => Qty::UNLIMITED,
            (None, _) => return Err(DomainError::invalid("quantity", "required (or unlimited: true)")),
        };
        let a = self.account_idx(account)?;
        let wh = *self.accounts[a as usize]
            .wh_index
            .get(wh_id)
            .ok_or_else(|| DomainError::not_found(format!("warehouse `{wh_id}` of account `{account}`")))?;
        let s = self.sku_of(a, sku_id)?;
        let sku = &mut self.accounts[a as usize].skus[s as usize];
        match sku.stock.iter_mut().find(|e| e.warehouse == wh) {
            Some(e) => {
                if e.quantity == quantity {
                    return Ok(());
                }
                if !quantity.is_unlimited() && quantity.0 < e.reserved {
                    return Err(DomainError::conflict(format!(
                        "{} units are reserved by open orders: the quantity cannot go below that",
                        e.reserved
                    )));
                }
                e.quantity = quantity;
            }
            None => push_one(&mut sku.stock, StockEntry { warehouse: wh, quantity, reserved: 0 }),
        }
        work.dirty.push((a, s));
        Ok(())
    }

    fn put_price(&mut self, account: &str, sku_id: &str, body: &PriceBody, work: &mut Work) -> Result<()> {
        if let Some(t) = &body.trade_policy {
            v::item_id("trade_policy", t)?;
        }
        let price = match body.price {
            None => return Err(DomainError::invalid("price", "required")),
            Some(p) => v::price("price", p)?,
        };
        let list_price = match body.list_price {
            None => None,
            Some(lp) => {
                let lp = v::price("list_price", lp)?;
                if lp < price {
                    return Err(DomainError::invalid("list_price", "the list price is never below the price"));
                }
                Some(lp)
            }
        };
        let a = self.account_idx(account)?;
        let s = self.sku_of(a, sku_id)?;
        let tp = match &body.trade_policy {
            None => None,
            Some(t) => Some(self.tp_of(a, "trade_policy", t)?),
        };
        let p = Price { price, list_price };
        let sku = &mut self.accounts[a as usize].skus[s as usize];
        match tp {
            None => sku.price = Some(p),
            Some(tp) => match sku.tp_prices.iter_mut().find(|(t, _)| *t == tp) {
                Some(e) => e.1 = p,
                None => sku.tp_prices.push((tp, p)),
            },
        }
        work.dirty.push((a, s));
        Ok(())
    }

    fn delete_price(&mut self, account: &str, sku_id: &str, tp: Option<&str>, work: &mut Work) -> Result<()> {
        let Some(tp) = tp else {
            return Err(DomainError::invalid(
                "trade_policy",
                "required: only a trade policy's fixed price can be deleted",
            ));
        };
        let a = self.account_idx(account)?;
        let s = self.sku_of(a, sku_id)?;
        let tp = self.tp_of(a, "trade_policy", tp)?;
        let sku = &mut self.accounts[a as usize].skus[s as usize];
        let Some(pos) = sku.tp_prices.iter().position(|(t, _)| *t == tp) else {
            return Err(DomainError::not_found(format!("a fixed price of `{sku_id}` for that trade policy")));
        };
        sku.tp_prices.remove(pos);
        work.dirty.push((a, s));
        Ok(())
    }

    /// PUT (`body`, not `patch`), PATCH (`body`, `patch`) or DELETE (no `body`) of a seller's half.
    fn write_affiliation(
        &mut self,
        seller: &str,
        marketplace: &str,
        body: Option<&AffiliationBody>,
        patch: bool,
        work: &mut Work,
    ) -> Result<()> {
        // Rule 39: the body whole first, then what depends on state.
        if let Some(b) = body {
            match &b.trade_policy {
                None if !patch => return Err(DomainError::invalid("trade_policy", "required")),
                None => {}
                Some(t) => v::item_id("trade_policy", t)?,
            }
            parse_resale(&b.resale)?;
        }
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let current = self.accounts[s as usize].affiliations.get(&m).cloned();
        let next = match body {
            None => {
                if current.is_none() {
                    return Err(DomainError::not_found(format!("the affiliation of `{seller}` with `{marketplace}`")));
                }
                None
            }
            Some(b) => {
                let base = if patch {
                    match &current {
                        Some(c) => c.clone(),
                        None => {
                            return Err(DomainError::not_found(format!(
                                "the affiliation of `{seller}` with `{marketplace}`"
                            )))
                        }
                    }
                } else {
                    match &b.trade_policy {
                        None => return Err(DomainError::invalid("trade_policy", "required")),
                        Some(_) => Affiliation {
                            trade_policy: DEFAULT_TRADE_POLICY,
                            active: true,
                            resale: Resale::None,
                            require_own_stock: true,
                        },
                    }
                };
                let mut next = base;
                if let Some(t) = &b.trade_policy {
                    next.trade_policy = self.tp_of(s, "trade_policy", t)?;
                }
                if let Some(x) = b.active {
                    next.active = x;
                }
                if b.resale.is_some() {
                    next.resale = parse_resale(&b.resale)?;
                }
                if let Some(x) = b.require_own_stock {
                    next.require_own_stock = x;
                }
                Some(next)
            }
        };
        if next == current {
            return Ok(());
        }
        let len = |x: &Option<Affiliation>| x.as_ref().map_or(0, |x| x.resale.id_count());
        self.check_list_ids(s, len(&current), len(&next))?;
        let acct = &mut self.accounts[s as usize];
        match next {
            Some(n) => acct.affiliations.insert(m, n),
            None => acct.affiliations.remove(&m),
        };
        work.all_skus(self, s);
        Ok(())
    }

    /// PUT, PATCH or DELETE of a marketplace's half (its registration of a seller).
    fn write_registration(
        &mut self,
        marketplace: &str,
        seller: &str,
        body: Option<&SellerBody>,
        patch: bool,
        work: &mut Work,
    ) -> Result<()> {
        // Rule 39: the body whole first, then what depends on state.
        if let Some(b) = body {
            if let Some(l) = &b.trade_policies {
                v::list_len("trade_policies", l.len(), v::MAX_LIST_LEN)?;
                for (i, t) in l.iter().enumerate() {
                    v::item_id(&format!("trade_policies[{i}]"), t)?;
                }
            }
            if let Some(mm) = &b.match_mode {
                parse_match_mode(mm)?;
            }
            if let Some(c) = b.commission_bp {
                parse_commission(c)?;
            }
        }
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let current = self.accounts[m as usize].sellers.get(&s).cloned();
        let next = match body {
            None => {
                if current.is_none() {
                    return Err(DomainError::not_found(format!("the registration of `{seller}` at `{marketplace}`")));
                }
                None
            }
            Some(b) => {
                let mut next = if patch {
                    match &current {
                        Some(c) => c.clone(),
                        None => {
                            return Err(DomainError::not_found(format!(
                                "the registration of `{seller}` at `{marketplace}`"
                            )))
                        }
                    }
                } else {
                    Registration {
                        trade_policies: vec![DEFAULT_TRADE_POLICY],
                        active: true,
                        match_mode: MatchMode::Auto,
                        commission_bp: 0,
                    }
                };
                if let Some(l) = &b.trade_policies {
                    v::list_len("trade_policies", l.len(), v::MAX_LIST_LEN)?;
                    let mut tps = Vec::with_capacity(l.len());
                    for (i, t) in l.iter().enumerate() {
                        let tp = self.tp_of(m, &format!("trade_policies[{i}]"), t)?;
                        if !tps.contains(&tp) {
                            tps.push(tp);
                        }
                    }
                    next.trade_policies = tps;
                }
                if let Some(x) = b.active {
                    next.active = x;
                }
                if let Some(mm) = &b.match_mode {
                    next.match_mode = parse_match_mode(mm)?;
                }
                if let Some(c) = b.commission_bp {
                    next.commission_bp = parse_commission(c)?;
                }
                Some(next)
            }
        };
        if next == current {
            return Ok(());
        }
        match next {
            Some(n) => {
                self.accounts[m as usize].sellers.insert(s, n);
                self.registered_at[s as usize].insert(m);
            }
            None => {
                self.accounts[m as usize].sellers.remove(&s);
                self.registered_at[s as usize].remove(&m);
            }
        }
        work.all_skus(self, s);
        work.match_dirty.insert(m);
        Ok(())
    }

    fn approve_command(
        &mut self,
        marketplace: &str,
        seller: &str,
        seller_sku: &str,
        sku: Option<&str>,
        work: &mut Work,
    ) -> Result<()> {
        if let Some(id) = sku {
            v::item_id("sku", id)?;
        }
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let sugg = self.accounts[m as usize]
            .suggestions
            .get(&(s, ss))
            .ok_or_else(|| DomainError::not_found(format!("the suggestion of `{seller}`/`{seller_sku}`")))?;
        let (status, bound) = (sugg.status, sugg.sku);
        let target = match sku {
            Some(id) => self.accounts[m as usize].sku_idx(id).ok_or_else(|| id.to_string()),
            None => {
                if status == SuggestionStatus::Approved {
                    return Ok(()); // rule 32: approving an approved one without `sku` changes nothing
                }
                match self.free_candidates(m, s, ss).first() {
                    Some(&c) => Ok(c),
                    None => match self.new_sku_id(m, s, ss) {
                        NewSkuId::Reuse(i) => Ok(i),
                        NewSkuId::Create(id) => Err(id),
                        NewSkuId::Unavailable => {
                            return Err(DomainError::conflict(
                                "no free SKU id for this suggestion: approve it with an explicit `sku`",
                            ))
                        }
                    },
                }
            }
        };
        if let Ok(t) = &target {
            if status == SuggestionStatus::Approved && bound == Some(*t) {
                return Ok(()); // approving again onto the same SKU is a no-op
            }
        }
        if status == SuggestionStatus::Approved {
            return Err(DomainError::conflict("the suggestion is already approved onto another SKU"));
        }
        if let Ok(t) = &target {
            if self.bound_to_other(m, *t, s, ss) {
                return Err(DomainError::conflict(format!(
                    "SKU `{}` is already bound to another SKU of `{seller}`",
                    self.accounts[m as usize].skus[*t as usize].id
                )));
            }
        }
        let t = match target {
            Ok(t) => t,
            Err(new_id) => {
                let id: Arc<str> = Arc::from(new_id);
                self.create_sku_from(m, s, ss, id, work)
            }
        };
        self.bind(m, s, ss, t, work);
        Ok(())
    }

    fn deny_command(&mut self, marketplace: &str, seller: &str, seller_sku: &str, work: &mut Work) -> Result<()> {
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let status = self.accounts[m as usize]
            .suggestions
            .get(&(s, ss))
            .ok_or_else(|| DomainError::not_found(format!("the suggestion of `{seller}`/`{seller_sku}`")))?
            .status;
        match status {
            SuggestionStatus::Denied => {}
            SuggestionStatus::Pending => self.set_denied(m, s, ss, work),
            SuggestionStatus::Approved => {
                self.unbind(m, s, ss, work);
                self.set_denied(m, s, ss, work);
            }
        }
        Ok(())
    }
}

/// Adds a SKU to an account's catalog (ids are never reused).
pub(crate) fn insert_sku(acct: &mut Account, sku: Sku) -> SkuIdx {
    let idx = acct.skus.len() as SkuIdx;
    acct.sku_index.insert(sku.id.clone(), idx);
    acct.skus.push(sku);
    idx
}

pub(crate) fn ref_key(sku: &Sku) -> Option<(Arc<str>, String)> {
    match (&sku.ref_id, &sku.brand) {
        (Some(r), Some(b)) => Some((r.clone(), b.to_lowercase())),
        _ => None,
    }
}

pub(crate) fn index_sku(acct: &mut Account, idx: SkuIdx) {
    let sku = &acct.skus[idx as usize];
    if let Some((_, g)) = &sku.ean {
        let v = acct.gtin_index.entry(*g).or_default();
        v.push(idx);
    }
    if let Some(k) = ref_key(sku) {
        acct.ref_index.entry(k).or_default().push(idx);
    }
}

fn unindex_sku(acct: &mut Account, idx: SkuIdx) {
    let sku = &acct.skus[idx as usize];
    if let Some((_, g)) = &sku.ean {
        if let Some(v) = acct.gtin_index.get_mut(g) {
            v.retain(|&i| i != idx);
            if v.is_empty() {
                acct.gtin_index.remove(g);
            }
        }
    }
    if let Some(k) = ref_key(sku) {
        if let Some(v) = acct.ref_index.get_mut(&k) {
            v.retain(|&i| i != idx);
            if v.is_empty() {
                acct.ref_index.remove(&k);
            }
        }
    }
}
