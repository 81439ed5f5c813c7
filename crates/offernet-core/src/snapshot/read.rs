//! Decoding: bytes back into an engine, part by part (mirroring `write.rs`), then every
//! derived value rebuilt.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::codec::{DResult, R};
use super::*;
use crate::accounts::{initial_token, INITIAL_TOKEN_ID};
use crate::catalog::{index_sku, insert_sku};
use crate::fx::{FxHashMap, FxHashSet};
use crate::orders::{Order, OrderItem, SubItem, SubOrder};
use crate::state::{Engine, EngineConfig, Scratch, MAX_CHAIN_LIMIT};

impl Engine {
    /// Rebuilds an engine from `snapshot_bytes`, recomputing every offer. The `max_chain` of
    /// `config` must match the snapshot's (offers depend on it).
    pub fn from_snapshot_bytes(config: EngineConfig, bytes: &[u8]) -> Result<Engine, String> {
        let mut r = R { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not an offernet snapshot".into());
        }
        let format = r.u32()?;
        if !FORMATS_READ.contains(&format) {
            return Err(format!("snapshot format {format}, this build reads {FORMATS_READ:?}"));
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
            let (a, pending) = account(&mut r, format)?;
            e.account_index.insert(a.id.clone(), AccountIdx(ai));
            e.accounts.push(a);
            e.registered_at.push(BTreeSet::new());
            e.pending.push(pending);
        }
        e.decode_orders(&mut r)?;
        if format >= 3 {
            e.decode_webhooks(&mut r)?;
        }
        if format >= 4 {
            e.decode_integrations(&mut r)?;
            e.decode_vtex(&mut r)?;
        }
        if format >= 5 {
            e.decode_external(&mut r)?;
            e.decode_outbound(&mut r)?;
        }
        if format >= 6 {
            e.decode_conflicts(&mut r)?;
            e.decode_emails(&mut r)?;
        }
        if r.at != bytes.len() {
            return Err(format!("{} bytes after the end of the snapshot", bytes.len() - r.at));
        }
        e.share_text();
        e.rebuild_derived()?;
        Ok(e)
    }

    /// Shares text as building the state did (memory only: sharing is invisible otherwise):
    /// brands and categories through the engine's `strings`, and each SKU made from another
    /// (`created_from`) holds its source's `SkuInfo` when the two are still equal, following
    /// the chain of copies to its first SKU.
    fn share_text(&mut self) {
        let Engine { accounts, strings, .. } = self;
        for a in accounts.iter_mut() {
            for k in a.skus.iter_mut() {
                if let Some(i) = Arc::get_mut(&mut k.info) {
                    i.brand = i.brand.take().map(|b| strings.get(&b));
                    i.category = i.category.take().map(|c| strings.get(&c));
                }
            }
        }
        for a in 0..accounts.len() {
            for k in 0..accounts[a].skus.len() {
                let mut info = accounts[a].skus[k].info.clone();
                let mut from = accounts[a].skus[k].created_from;
                // A chain of copies is never longer than the longest chain of accounts.
                for _ in 0..MAX_CHAIN_LIMIT {
                    let Some(src) = from.and_then(|(s, ss)| accounts.get(s.ix())?.skus.get(ss.ix())) else { break };
                    if src.info != info {
                        break;
                    }
                    info = src.info.clone();
                    from = src.created_from;
                }
                accounts[a].skus[k].info = info;
            }
        }
    }

    /// What is derived: registrations by seller, then every offer.
    fn rebuild_derived(&mut self) -> DResult<()> {
        for mi in 0..self.accounts.len() {
            let sellers: Vec<AccountIdx> = self.accounts[mi].sellers.keys().copied().collect();
            for s in sellers {
                if s.ix() >= self.accounts.len() {
                    return Err("snapshot names an account that does not exist".into());
                }
                self.registered_at[s.ix()].insert(AccountIdx::new(mi));
            }
        }
        let mut offers = Vec::new();
        for (mi, market) in self.accounts.iter().enumerate() {
            for (&(s, ss), sg) in &market.suggestions {
                if let Some(mk) = sg.sku() {
                    offers.push((AccountIdx::new(mi), s, ss, mk));
                }
            }
        }
        for (m, s, ss, mk) in offers {
            let st = self.eval_offer(m, s, ss, Some(mk), None).offer_state();
            self.accounts[m].suggestions.get_mut(&(s, ss)).unwrap().set_offer(Some(st));
        }
        self.scratch = Scratch::default();
        Ok(())
    }

    fn decode_orders(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.account()?;
            let ms = r.u64()?;
            self.orders.reservation_ms.insert(a, ms);
        }
        for oi in 0..r.u32()? as usize {
            let id = r.str()?;
            let marketplace = r.account()?;
            let status = r.code("order status", order_status_of)?;
            let created_ms = r.u64()?;
            let expires_ms = r.u64()?;
            let mut request = Vec::new();
            for _ in 0..r.u32()? {
                request.push((r.str()?.to_string(), r.u64()?, r.str()?.to_string()));
            }
            let mut items = Vec::new();
            for _ in 0..r.u32()? {
                items.push(OrderItem { sku: r.sku()?, quantity: r.u64()?, seller: r.account()?, price: r.i64()? });
            }
            let mut subs = Vec::new();
            for _ in 0..r.u32()? {
                subs.push(sub_order(r)?);
            }
            self.orders.index.insert((marketplace, id.clone()), (oi, None));
            for (si, s) in subs.iter().enumerate() {
                self.orders.index.insert((s.seller, s.id.clone()), (oi, Some(si)));
            }
            if status == OrderStatus::Reserved {
                self.orders.expiry.insert((expires_ms, oi));
            }
            self.orders.list.push(Order {
                id,
                marketplace,
                status,
                items,
                request,
                created_ms,
                expires_ms,
                subs,
                authorized_ms: None,
                closed_ms: None,
                external_ref: None,
                document_sha256: None,
            });
        }
        Ok(())
    }
}

fn sub_order(r: &mut R) -> DResult<SubOrder> {
    let id = r.str()?;
    let seller = r.account()?;
    let buyer = r.account()?;
    let status = r.code("order status", order_status_of)?;
    let parent = r.opt(|r| Ok(r.u32()? as usize))?;
    let mut items = Vec::new();
    for _ in 0..r.u32()? {
        let sku = r.sku()?;
        let quantity = r.u64()?;
        let price = r.i64()?;
        let mut reservations = Vec::new();
        for _ in 0..r.u32()? {
            reservations.push((r.wh()?, r.u64()?));
        }
        items.push(SubItem { sku, quantity, price, reservations });
    }
    Ok(SubOrder { id, seller, buyer, status, items, parent, external: None })
}

/// One account, and its pending suggestions (derived, rebuilt here).
fn account(r: &mut R, format: u32) -> DResult<(Account, BTreeSet<(AccountIdx, SkuIdx)>)> {
    let id = r.str()?;
    let mut a = Account::new(id, r.str()?, r.str()?);
    if format == 1 {
        // Format 1 held one optional token hash: the token `CreateAccount` makes, so it becomes
        // token `initial` as replaying that command does, but its time was never written.
        if let Some(hash) = r.opt_str()? {
            a.tokens.insert(Arc::from(INITIAL_TOKEN_ID), initial_token(&hash, FORMAT_1_TOKEN_CREATED_MS));
        }
    } else {
        for _ in 0..r.u32()? {
            let id = r.str()?;
            a.tokens.insert(id, Token { name: r.str()?, hash: r.str()?, created_ms: r.u64()? });
        }
    }
    a.trade_policies.clear();
    a.tp_index = FxHashMap::default();
    for i in 0..r.u32()? {
        let tp = trade_policy(r, format)?;
        a.tp_index.insert(tp.id.clone(), TpIdx::new(i as usize));
        a.trade_policies.push(tp);
    }
    for i in 0..r.u32()? {
        let wh_id = r.str()?;
        let tps = trade_policies(r)?;
        a.wh_index.insert(wh_id.clone(), WhIdx::new(i as usize));
        a.warehouses.push(Warehouse { id: wh_id, trade_policies: tps });
    }
    let n_skus = r.u32()?;
    a.skus.reserve_exact(n_skus as usize);
    for si in 0..n_skus {
        let idx = insert_sku(&mut a, sku(r, format)?);
        debug_assert_eq!(idx, SkuIdx(si));
        index_sku(&mut a, idx);
    }
    for _ in 0..r.u32()? {
        let m = r.account()?;
        let trade_policy = r.tp()?;
        let active = r.bool()?;
        let resale = match r.code("resale", |c| (c <= RESALE_LIST).then_some(c))? {
            RESALE_NONE => Resale::None,
            RESALE_ALL => Resale::All,
            _ => Resale::List(strs(r)?),
        };
        let require_own_stock = r.bool()?;
        // Format 4's VTEX section (`vtex.rs`) sets the first, format 6's `emails.rs` the second.
        let (remote_seller_id, follow_up_email) = (None, None);
        let aff = Affiliation { trade_policy, active, resale, require_own_stock, remote_seller_id, follow_up_email };
        a.affiliations.insert(m, aff);
    }
    for _ in 0..r.u32()? {
        let s = r.account()?;
        let trade_policies = trade_policies(r)?;
        let active = r.bool()?;
        let match_mode = r.code("match mode", match_mode_of)?;
        let commission_bp = r.u32()? as u16;
        a.sellers.insert(s, Registration { trade_policies, active, match_mode, commission_bp });
    }
    let mut pending = BTreeSet::new();
    for _ in 0..r.u32()? {
        let k = (r.account()?, r.sku()?);
        let status = r.code("suggestion status", suggestion_status_of)?;
        let sku = r.opt(|r| r.sku())?;
        if status == SuggestionStatus::Pending {
            pending.insert(k);
        }
        a.suggestions.insert(k, Suggestion::new(status, sku));
    }
    Ok((a, pending))
}

/// Format 1 has no `product_url`.
fn trade_policy(r: &mut R, format: u32) -> DResult<TradePolicy> {
    let id = r.str()?;
    let name = r.opt_str()?;
    let assortment = match r.code("assortment", |c| (c <= ASSORTMENT_LIST).then_some(c))? {
        ASSORTMENT_ALL => Assortment::All,
        _ => {
            let ids = strs(r)?;
            let set: FxHashSet<Arc<str>> = ids.iter().cloned().collect();
            Assortment::List(ids, set)
        }
    };
    let product_url = if format == 1 { None } else { r.opt_str()? };
    Ok(TradePolicy { id, name, assortment, product_url })
}

/// Format 1 has no content.
fn sku(r: &mut R, format: u32) -> DResult<Sku> {
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
    let price = PriceSlot::new(r.opt(|r| r.price())?);
    let mut tp_prices = Vec::new();
    for _ in 0..r.u32()? {
        tp_prices.push((r.tp()?, r.price()?));
    }
    let mut stock = Vec::new();
    for _ in 0..r.u32()? {
        stock.push(StockEntry { warehouse: r.wh()?, quantity: Qty(r.u64()?), reserved: r.u64()? });
    }
    let stock = Few::from(stock);
    let bound_at = Few::from(r.pairs()?);
    let sources = Few::from(r.pairs()?);
    let created_from = r.opt(|r| Ok((r.account()?, r.sku()?)))?;
    let content = if format == 1 { None } else { r.opt(content)?.map(Arc::new) };
    Ok(Sku {
        id,
        info: Arc::new(SkuInfo { name, brand, category, ean, ref_id, content }),
        product_id,
        active,
        price,
        tp_prices: tp_prices.into_boxed_slice(),
        stock,
        bound_at,
        sources,
        created_from,
    })
}

fn content(r: &mut R) -> DResult<SkuContent> {
    let description = r.opt_str()?;
    let images = strs(r)?.into_boxed_slice();
    let dimensions = r.opt(|r| {
        let mut m = || r.opt(|r| Ok(Centi(r.u64()?)));
        Ok(Dimensions { height_cm: m()?, width_cm: m()?, length_cm: m()?, weight_g: m()? })
    })?;
    Ok(SkuContent { description, images, dimensions })
}

fn strs(r: &mut R) -> DResult<Vec<Arc<str>>> {
    let n = r.u32()?;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(r.str()?);
    }
    Ok(ids)
}

fn trade_policies(r: &mut R) -> DResult<Vec<TpIdx>> {
    let n = r.u32()?;
    let mut tps = Vec::new();
    for _ in 0..n {
        tps.push(r.tp()?);
    }
    Ok(tps)
}
