//! Snapshots: the engine's ground state as compact, deterministic bytes, and back.
//!
//! Only ground state is written (accounts, catalogs, stock, prices, trade policies,
//! warehouses, connection halves, suggestions and bindings in their creation order, sequence
//! counters). Derived state (offers, indexes, the pending set) is rebuilt on load, so a
//! snapshot cannot carry a stale offer. The same state always encodes to the same bytes, which
//! is what `journal verify` compares. No IO here: the store decides where bytes go.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::engine::{index_sku, insert_sku, Engine, EngineConfig, Scratch};
use crate::fx::{FxHashMap, FxHashSet};
use crate::model::*;
use crate::orders::{Order, OrderItem, OrderStatus, SubItem, SubOrder};

/// Bumped whenever the encoding changes; a snapshot of another version is not loaded (the
/// journal is replayed instead).
pub const SNAPSHOT_FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"OFFRNET\x01";

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: &Option<Arc<str>>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.i64(v);
            }
        }
    }
    fn price(&mut self, p: &Price) {
        self.i64(p.price);
        self.opt_i64(p.list_price);
    }
    fn pairs(&mut self, v: &[(u32, u32)]) {
        self.u32(v.len() as u32);
        for &(a, b) in v {
            self.u32(a);
            self.u32(b);
        }
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

type DResult<T> = Result<T, String>;

impl R<'_> {
    fn take(&mut self, n: usize) -> DResult<&[u8]> {
        if self.at + n > self.b.len() {
            return Err(format!("snapshot truncated at byte {}", self.at));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> DResult<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> DResult<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> DResult<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> DResult<i64> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn bool(&mut self) -> DResult<bool> {
        Ok(self.u8()? != 0)
    }
    fn str(&mut self) -> DResult<Arc<str>> {
        let n = self.u32()? as usize;
        let at = self.at;
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| format!("invalid UTF-8 at byte {at}"))?;
        Ok(Arc::from(s))
    }
    fn opt_str(&mut self) -> DResult<Option<Arc<str>>> {
        Ok(if self.u8()? == 0 { None } else { Some(self.str()?) })
    }
    fn opt_i64(&mut self) -> DResult<Option<i64>> {
        Ok(if self.u8()? == 0 { None } else { Some(self.i64()?) })
    }
    fn price(&mut self) -> DResult<Price> {
        Ok(Price { price: self.i64()?, list_price: self.opt_i64()? })
    }
    fn pairs(&mut self) -> DResult<Vec<(u32, u32)>> {
        let n = self.u32()? as usize;
        let mut v = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            v.push((self.u32()?, self.u32()?));
        }
        Ok(v)
    }
}

fn status_byte(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::Reserved => 0,
        OrderStatus::Authorized => 1,
        OrderStatus::Invoiced => 2,
        OrderStatus::Cancelled => 3,
        OrderStatus::Expired => 4,
    }
}

fn status_of(b: u8) -> DResult<OrderStatus> {
    Ok(match b {
        0 => OrderStatus::Reserved,
        1 => OrderStatus::Authorized,
        2 => OrderStatus::Invoiced,
        3 => OrderStatus::Cancelled,
        4 => OrderStatus::Expired,
        x => return Err(format!("unknown order status {x}")),
    })
}

fn status_code(s: SuggestionStatus) -> u8 {
    match s {
        SuggestionStatus::Pending => 0,
        SuggestionStatus::Approved => 1,
        SuggestionStatus::Denied => 2,
    }
}

impl Engine {
    /// The engine's ground state as bytes (deterministic: equal states, equal bytes).
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(1 << 16));
        w.0.extend_from_slice(MAGIC);
        w.u32(SNAPSHOT_FORMAT);
        w.u8(self.config.max_chain);
        w.u64(self.seq);
        w.u64(self.applied);
        w.u32(self.accounts.len() as u32);
        for a in &self.accounts {
            w.str(&a.id);
            w.str(&a.name);
            w.str(&a.currency);
            w.opt_str(&a.token_hash);
            w.u32(a.trade_policies.len() as u32);
            for tp in &a.trade_policies {
                w.str(&tp.id);
                w.opt_str(&tp.name);
                match &tp.assortment {
                    Assortment::All => w.u8(0),
                    Assortment::List(ids, _) => {
                        w.u8(1);
                        w.u32(ids.len() as u32);
                        for id in ids {
                            w.str(id);
                        }
                    }
                }
            }
            w.u32(a.warehouses.len() as u32);
            for wh in &a.warehouses {
                w.str(&wh.id);
                w.u32(wh.trade_policies.len() as u32);
                for &tp in &wh.trade_policies {
                    w.u32(tp as u32);
                }
            }
            w.u32(a.skus.len() as u32);
            for s in &a.skus {
                w.str(&s.id);
                w.str(&s.name);
                w.opt_str(&s.product_id);
                w.opt_str(&s.brand);
                w.opt_str(&s.category);
                w.opt_str(&s.ean.as_ref().map(|e| e.0.clone()));
                w.opt_str(&s.ref_id);
                w.bool(s.active);
                match &s.price {
                    None => w.u8(0),
                    Some(p) => {
                        w.u8(1);
                        w.price(p);
                    }
                }
                w.u32(s.tp_prices.len() as u32);
                for (tp, p) in &s.tp_prices {
                    w.u32(*tp as u32);
                    w.price(p);
                }
                w.u32(s.stock.len() as u32);
                for e in &s.stock {
                    w.u32(e.warehouse as u32);
                    w.u64(e.quantity.0);
                    w.u64(e.reserved);
                }
                w.pairs(&s.bound_at);
                w.pairs(&s.sources);
                match s.created_from {
                    None => w.u8(0),
                    Some((x, y)) => {
                        w.u8(1);
                        w.u32(x);
                        w.u32(y);
                    }
                }
            }
            w.u32(a.affiliations.len() as u32);
            for (&m, x) in &a.affiliations {
                w.u32(m);
                w.u32(x.trade_policy as u32);
                w.bool(x.active);
                match &x.resale {
                    Resale::None => w.u8(0),
                    Resale::All => w.u8(1),
                    Resale::List(l) => {
                        w.u8(2);
                        w.u32(l.len() as u32);
                        for id in l {
                            w.str(id);
                        }
                    }
                }
                w.bool(x.require_own_stock);
            }
            w.u32(a.sellers.len() as u32);
            for (&s, r) in &a.sellers {
                w.u32(s);
                w.u32(r.trade_policies.len() as u32);
                for &tp in &r.trade_policies {
                    w.u32(tp as u32);
                }
                w.bool(r.active);
                w.u8(match r.match_mode {
                    MatchMode::Auto => 0,
                    MatchMode::Score => 1,
                    MatchMode::Manual => 2,
                });
                w.u32(r.commission_bp as u32);
            }
            let mut keys: Vec<&(AccountIdx, SkuIdx)> = a.suggestions.keys().collect();
            keys.sort_unstable();
            w.u32(keys.len() as u32);
            for k in keys {
                let sg = &a.suggestions[k];
                w.u32(k.0);
                w.u32(k.1);
                w.u8(status_code(sg.status));
                match sg.sku {
                    None => w.u8(0),
                    Some(x) => {
                        w.u8(1);
                        w.u32(x);
                    }
                }
            }
        }
        self.encode_orders(&mut w);
        w.0
    }

    fn encode_orders(&self, w: &mut W) {
        let o = &self.orders;
        let mut settings: Vec<(&AccountIdx, &u64)> = o.reservation_ms.iter().collect();
        settings.sort();
        w.u32(settings.len() as u32);
        for (a, ms) in settings {
            w.u32(*a);
            w.u64(*ms);
        }
        w.u32(o.list.len() as u32);
        for order in &o.list {
            w.str(&order.id);
            w.u32(order.marketplace);
            w.u8(status_byte(order.status));
            w.u64(order.created_ms);
            w.u64(order.expires_ms);
            w.u32(order.request.len() as u32);
            for (sku, q, seller) in &order.request {
                w.str(sku);
                w.u64(*q);
                w.str(seller);
            }
            w.u32(order.items.len() as u32);
            for it in &order.items {
                w.u32(it.sku);
                w.u64(it.quantity);
                w.u32(it.seller);
                w.i64(it.price);
            }
            w.u32(order.subs.len() as u32);
            for s in &order.subs {
                w.str(&s.id);
                w.u32(s.seller);
                w.u32(s.buyer);
                w.u8(status_byte(s.status));
                match s.parent {
                    None => w.u8(0),
                    Some(p) => {
                        w.u8(1);
                        w.u32(p as u32);
                    }
                }
                w.u32(s.items.len() as u32);
                for it in &s.items {
                    w.u32(it.sku);
                    w.u64(it.quantity);
                    w.i64(it.price);
                    w.u32(it.reservations.len() as u32);
                    for &(wh, n) in &it.reservations {
                        w.u32(wh as u32);
                        w.u64(n);
                    }
                }
            }
        }
    }

    fn decode_orders(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.u32()?;
            let ms = r.u64()?;
            self.orders.reservation_ms.insert(a, ms);
        }
        for oi in 0..r.u32()? as usize {
            let id = r.str()?;
            let marketplace = r.u32()?;
            let status = status_of(r.u8()?)?;
            let created_ms = r.u64()?;
            let expires_ms = r.u64()?;
            let mut request = Vec::new();
            for _ in 0..r.u32()? {
                request.push((r.str()?.to_string(), r.u64()?, r.str()?.to_string()));
            }
            let mut items = Vec::new();
            for _ in 0..r.u32()? {
                items.push(OrderItem { sku: r.u32()?, quantity: r.u64()?, seller: r.u32()?, price: r.i64()? });
            }
            let mut subs = Vec::new();
            for _ in 0..r.u32()? {
                let sid = r.str()?;
                let seller = r.u32()?;
                let buyer = r.u32()?;
                let st = status_of(r.u8()?)?;
                let parent = if r.u8()? == 0 { None } else { Some(r.u32()? as usize) };
                let mut sitems = Vec::new();
                for _ in 0..r.u32()? {
                    let sku = r.u32()?;
                    let quantity = r.u64()?;
                    let price = r.i64()?;
                    let mut reservations = Vec::new();
                    for _ in 0..r.u32()? {
                        reservations.push((r.u32()? as WhIdx, r.u64()?));
                    }
                    sitems.push(SubItem { sku, quantity, price, reservations });
                }
                subs.push(SubOrder { id: sid, seller, buyer, status: st, items: sitems, parent });
            }
            self.orders.index.insert((marketplace, id.clone()), (oi, None));
            for (si, s) in subs.iter().enumerate() {
                self.orders.index.insert((s.seller, s.id.clone()), (oi, Some(si)));
            }
            if status == OrderStatus::Reserved {
                self.orders.expiry.insert((expires_ms, oi));
            }
            self.orders.list.push(Order { id, marketplace, status, items, request, created_ms, expires_ms, subs });
        }
        Ok(())
    }

    /// Rebuilds an engine from `snapshot_bytes`, recomputing every offer. The `max_chain` of
    /// `config` must match the snapshot's (offers depend on it).
    pub fn from_snapshot_bytes(config: EngineConfig, bytes: &[u8]) -> Result<Engine, String> {
        let mut r = R { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not an offernet snapshot".into());
        }
        let format = r.u32()?;
        if format != SNAPSHOT_FORMAT {
            return Err(format!("snapshot format {format}, this build reads {SNAPSHOT_FORMAT}"));
        }
        let max_chain = r.u8()?;
        if max_chain != config.max_chain {
            return Err(format!("snapshot taken with max_chain {max_chain}, configured {}", config.max_chain));
        }
        let mut e = Engine::new(config);
        e.seq = r.u64()?;
        e.applied = r.u64()?;
        let n_accounts = r.u32()?;
        for ai in 0..n_accounts {
            let id = r.str()?;
            let mut a = Account::new(id.clone(), r.str()?, r.str()?, r.opt_str()?);
            a.trade_policies.clear();
            a.tp_index = FxHashMap::default();
            for i in 0..r.u32()? {
                let tp_id = r.str()?;
                let name = r.opt_str()?;
                let assortment = if r.u8()? == 0 {
                    Assortment::All
                } else {
                    let n = r.u32()?;
                    let mut ids = Vec::new();
                    let mut set = FxHashSet::default();
                    for _ in 0..n {
                        let s = r.str()?;
                        set.insert(s.clone());
                        ids.push(s);
                    }
                    Assortment::List(ids, set)
                };
                a.tp_index.insert(tp_id.clone(), i as TpIdx);
                a.trade_policies.push(TradePolicy { id: tp_id, name, assortment });
            }
            for i in 0..r.u32()? {
                let wh_id = r.str()?;
                let n = r.u32()?;
                let mut tps = Vec::new();
                for _ in 0..n {
                    tps.push(r.u32()? as TpIdx);
                }
                a.wh_index.insert(wh_id.clone(), i as WhIdx);
                a.warehouses.push(Warehouse { id: wh_id, trade_policies: tps });
            }
            let n_skus = r.u32()?;
            a.skus.reserve_exact(n_skus as usize);
            for si in 0..n_skus {
                let id = r.str()?;
                let name = r.str()?;
                let product_id = r.opt_str()?;
                let brand = r.opt_str()?;
                let category = r.opt_str()?;
                let ean = match r.opt_str()? {
                    None => None,
                    Some(s) => {
                        let g = crate::gtin::parse_gtin(&s).map_err(|e| format!("snapshot GTIN {s}: {e}"))?;
                        Some((s, g))
                    }
                };
                let ref_id = r.opt_str()?;
                let active = r.bool()?;
                let price = if r.u8()? == 0 { None } else { Some(r.price()?) };
                let mut tp_prices = Vec::new();
                for _ in 0..r.u32()? {
                    tp_prices.push((r.u32()? as TpIdx, r.price()?));
                }
                let mut stock = Vec::new();
                for _ in 0..r.u32()? {
                    stock.push(StockEntry {
                        warehouse: r.u32()? as WhIdx,
                        quantity: Qty(r.u64()?),
                        reserved: r.u64()?,
                    });
                }
                let bound_at = r.pairs()?;
                let sources = r.pairs()?;
                let created_from = if r.u8()? == 0 { None } else { Some((r.u32()?, r.u32()?)) };
                let idx = insert_sku(
                    &mut a,
                    Sku {
                        id,
                        name,
                        product_id,
                        brand,
                        category,
                        ean,
                        ref_id,
                        active,
                        price,
                        tp_prices,
                        stock,
                        bound_at,
                        sources,
                        created_from,
                    },
                );
                debug_assert_eq!(idx, si);
                index_sku(&mut a, idx);
            }
            for _ in 0..r.u32()? {
                let m = r.u32()?;
                let trade_policy = r.u32()? as TpIdx;
                let active = r.bool()?;
                let resale = match r.u8()? {
                    0 => Resale::None,
                    1 => Resale::All,
                    _ => {
                        let n = r.u32()?;
                        let mut l = Vec::new();
                        for _ in 0..n {
                            l.push(r.str()?);
                        }
                        Resale::List(l)
                    }
                };
                let require_own_stock = r.bool()?;
                a.affiliations.insert(m, Affiliation { trade_policy, active, resale, require_own_stock });
            }
            for _ in 0..r.u32()? {
                let s = r.u32()?;
                let n = r.u32()?;
                let mut tps = Vec::new();
                for _ in 0..n {
                    tps.push(r.u32()? as TpIdx);
                }
                let active = r.bool()?;
                let match_mode = match r.u8()? {
                    0 => MatchMode::Auto,
                    1 => MatchMode::Score,
                    _ => MatchMode::Manual,
                };
                let commission_bp = r.u32()? as u16;
                a.sellers.insert(s, Registration { trade_policies: tps, active, match_mode, commission_bp });
            }
            let n_sugg = r.u32()?;
            let mut pending = BTreeSet::new();
            for _ in 0..n_sugg {
                let k = (r.u32()?, r.u32()?);
                let status = match r.u8()? {
                    0 => SuggestionStatus::Pending,
                    1 => SuggestionStatus::Approved,
                    _ => SuggestionStatus::Denied,
                };
                let sku = if r.u8()? == 0 { None } else { Some(r.u32()?) };
                if status == SuggestionStatus::Pending {
                    pending.insert(k);
                }
                a.suggestions.insert(k, Suggestion { status, sku, offer: None });
            }
            e.account_index.insert(id, ai);
            e.accounts.push(a);
            e.registered_at.push(BTreeSet::new());
            e.pending.push(pending);
        }
        e.decode_orders(&mut r)?;
        if r.at != bytes.len() {
            return Err(format!("{} bytes after the end of the snapshot", bytes.len() - r.at));
        }
        // Rebuild what is derived: registrations by seller, then every offer.
        for mi in 0..e.accounts.len() {
            let sellers: Vec<AccountIdx> = e.accounts[mi].sellers.keys().copied().collect();
            for s in sellers {
                let s = s as usize;
                if s >= e.accounts.len() {
                    return Err("snapshot names an account that does not exist".into());
                }
                e.registered_at[s].insert(mi as AccountIdx);
            }
        }
        let mut offers = Vec::new();
        for (mi, market) in e.accounts.iter().enumerate() {
            for (&(s, ss), sg) in &market.suggestions {
                if let Some(mk) = sg.sku {
                    offers.push((mi as AccountIdx, s, ss, mk));
                }
            }
        }
        for (m, s, ss, mk) in offers {
            let st = e.eval_offer(m, s, ss, Some(mk), None).offer_state();
            e.accounts[m as usize].suggestions.get_mut(&(s, ss)).unwrap().offer = Some(st);
        }
        e.scratch = Scratch::default();
        Ok(e)
    }
}
