//! The catalog commands: SKUs (with their matching indexes), trade policies, warehouses,
//! stock and prices. Each validates the whole body before it looks at state (rule 39).

use std::sync::Arc;

use crate::command::*;
use crate::error::{DomainError, Missing, Result};
use crate::fx::FxHashSet;
use crate::gtin::parse_gtin;
use crate::model::*;
use crate::resolve::Named;
use crate::state::{Engine, Work};
use crate::validate as v;

pub(crate) fn opt_text(field: &str, s: &Option<String>) -> Result<Option<Arc<str>>> {
    match s {
        None => Ok(None),
        Some(t) => {
            v::text(field, t)?;
            Ok(Some(Arc::from(t.as_str())))
        }
    }
}

/// Adds a SKU to an account's catalog (ids are never reused).
pub(crate) fn insert_sku(acct: &mut Account, sku: Sku) -> SkuIdx {
    let idx = SkuIdx::new(acct.skus.len());
    acct.skus.push(sku);
    acct.sku_index.insert(&acct.skus, idx);
    idx
}

pub(crate) fn ref_key(sku: &Sku) -> Option<(Arc<str>, String)> {
    match (&sku.info.ref_id, &sku.info.brand) {
        (Some(r), Some(b)) => Some((r.clone(), b.to_lowercase())),
        _ => None,
    }
}

pub(crate) fn index_sku(acct: &mut Account, idx: SkuIdx) {
    let sku = &acct.skus[idx];
    if let Some((_, g)) = &sku.info.ean {
        let v = acct.gtin_index.entry(*g).or_default();
        v.push(idx);
    }
    if let Some(k) = ref_key(sku) {
        acct.ref_index.entry(k).or_default().push(idx);
    }
}

pub(crate) fn unindex_sku(acct: &mut Account, idx: SkuIdx) {
    let sku = &acct.skus[idx];
    if let Some((_, g)) = &sku.info.ean {
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

/// The content of a SKU body (description, images, dimensions), checked whole; `None` when
/// there is none (no description, no images, no measure).
pub(crate) fn sku_content(body: &SkuBody) -> Result<Option<Arc<SkuContent>>> {
    let description = match &body.description {
        None => None,
        Some(d) => {
            v::description("description", d)?;
            Some(Arc::<str>::from(d.as_str()))
        }
    };
    let images = body.images.as_deref().unwrap_or_default();
    v::list_len("images", images.len(), v::MAX_IMAGES)?;
    for (i, url) in images.iter().enumerate() {
        v::https_url(&format!("images[{i}]"), url)?;
    }
    let dimensions = match &body.dimensions {
        None => None,
        Some(d) => {
            let m = |field: &str, n: &Option<serde_json::Number>, max: u64| {
                n.as_ref().map(|n| v::measure(&format!("dimensions.{field}"), n, max)).transpose()
            };
            let dims = Dimensions {
                height_cm: m("height_cm", &d.height_cm, v::MAX_SIZE_CM)?,
                width_cm: m("width_cm", &d.width_cm, v::MAX_SIZE_CM)?,
                length_cm: m("length_cm", &d.length_cm, v::MAX_SIZE_CM)?,
                weight_g: m("weight_g", &d.weight_g, v::MAX_WEIGHT_G)?,
            };
            (!dims.is_empty()).then_some(dims)
        }
    };
    if description.is_none() && images.is_empty() && dimensions.is_none() {
        return Ok(None);
    }
    let images = images.iter().map(|u| Arc::<str>::from(u.as_str())).collect();
    Ok(Some(Arc::new(SkuContent { description, images, dimensions })))
}

/// A price body's fields checked (everything that does not depend on state): the price, and
/// the list price never below it. The server checks a body with it before its own state-
/// dependent refusals (rule 39), the engine before applying it.
pub fn price_body(body: &PriceBody) -> Result<Price> {
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
    Ok(Price { price, list_price })
}

/// A stock body's quantity: a number or unlimited, not both (as [`price_body`], state aside).
pub fn stock_body(body: &StockBody) -> Result<Qty> {
    match (body.quantity, body.unlimited) {
        (Some(_), Some(true)) => {
            Err(DomainError::invalid("unlimited", "give either a quantity or unlimited: true, not both"))
        }
        (Some(q), _) => Ok(Qty(v::quantity("quantity", q)?)),
        (None, Some(true)) => Ok(Qty::UNLIMITED),
        (None, _) => Err(DomainError::invalid("quantity", "required (or unlimited: true)")),
    }
}

/// A warehouse's id and body checked (as [`price_body`], state aside).
pub fn warehouse_body(wh_id: &str, body: &WarehouseBody) -> Result<()> {
    v::item_id("warehouse", wh_id)?;
    if let Some(l) = &body.trade_policies {
        v::list_len("trade_policies", l.len(), v::MAX_LIST_LEN)?;
        for (i, t) in l.iter().enumerate() {
            v::item_id(&format!("trade_policies[{i}]"), t)?;
        }
    }
    Ok(())
}

impl Engine {
    pub(crate) fn put_sku(&mut self, account: &str, sku_id: &str, body: &SkuBody, work: &mut Work) -> Result<()> {
        v::item_id("sku", sku_id)?;
        let name = match &body.name {
            None => return Err(DomainError::invalid("name", "required")),
            Some(n) => {
                v::text("name", n)?;
                Arc::<str>::from(n.as_str())
            }
        };
        let product_id = opt_text("product_id", &body.product_id)?;
        if let Some(b) = &body.brand {
            v::text("brand", b)?;
        }
        if let Some(c) = &body.category {
            v::category("category", c)?;
        }
        // Brands and categories repeat across a catalog: held once (`intern.rs`).
        let brand = body.brand.as_deref().map(|b| self.strings.get(b));
        let category = body.category.as_deref().map(|c| self.strings.get(c));
        let ean = match &body.ean {
            None => None,
            Some(e) => {
                let g = parse_gtin(e).map_err(|r| DomainError::invalid("ean", r))?;
                Some((Arc::<str>::from(e.as_str()), g))
            }
        };
        let ref_id = opt_text("ref_id", &body.ref_id)?;
        let active = body.active.unwrap_or(true);
        let content = sku_content(body)?;
        let info = Arc::new(SkuInfo { name, brand, category, ean, ref_id, content });
        let a = self.account_idx(account)?;

        let acct = &mut self.accounts[a];
        let idx = match acct.sku_idx(sku_id) {
            Some(i) => {
                unindex_sku(acct, i);
                let s = &mut acct.skus[i];
                s.info = info;
                s.product_id = product_id;
                s.active = active;
                i
            }
            None => {
                let sku = Sku { product_id, active, ..Sku::new(Arc::from(sku_id), info) };
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
        work.dirty.extend(self.accounts[a].skus[idx].sources.iter().copied());
        work.match_dirty.insert(a);
        for &m in &self.registered_at[a.ix()] {
            if self.pending[m.ix()].contains(&(a, idx)) {
                work.rematch.insert((m, a, idx));
            }
        }
    }

    pub(crate) fn put_trade_policy(
        &mut self,
        account: &str,
        tp_id: &str,
        body: &TradePolicyBody,
        work: &mut Work,
    ) -> Result<()> {
        v::item_id("trade_policy", tp_id)?;
        let name = opt_text("name", &body.name)?;
        if let Some(u) = &body.product_url {
            v::url_template("product_url", u)?;
        }
        let product_url = body.product_url.as_deref().map(Arc::from);
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
        let old =
            self.accounts[a].tp_idx(tp_id).map_or(0, |t| self.accounts[a].trade_policies[t].assortment.id_count());
        self.check_list_ids(a, old, assortment.id_count())?;
        let acct = &mut self.accounts[a];
        let tp = match acct.tp_idx(tp_id) {
            Some(tp) => {
                let t = &mut acct.trade_policies[tp];
                t.name = name;
                t.assortment = assortment;
                t.product_url = product_url;
                tp
            }
            None => {
                if acct.trade_policies.len() >= v::MAX_TRADE_POLICIES {
                    return Err(DomainError::conflict(format!(
                        "an account has at most {} trade policies",
                        v::MAX_TRADE_POLICIES
                    )));
                }
                let tp = TpIdx::new(acct.trade_policies.len());
                let id: Arc<str> = Arc::from(tp_id);
                acct.trade_policies.push(TradePolicy { id: id.clone(), name, assortment, product_url });
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

    pub(crate) fn put_warehouse(
        &mut self,
        account: &str,
        wh_id: &str,
        body: &WarehouseBody,
        work: &mut Work,
    ) -> Result<()> {
        warehouse_body(wh_id, body)?;
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
        let acct = &mut self.accounts[a];
        let wh = match acct.wh_index.get(wh_id) {
            Some(&w) => {
                acct.warehouses[w].trade_policies = tps;
                w
            }
            None => {
                if acct.warehouses.len() >= v::MAX_WAREHOUSES {
                    return Err(DomainError::conflict(format!(
                        "an account has at most {} warehouses",
                        v::MAX_WAREHOUSES
                    )));
                }
                let w = WhIdx::new(acct.warehouses.len());
                let id: Arc<str> = Arc::from(wh_id);
                acct.warehouses.push(Warehouse { id: id.clone(), trade_policies: tps });
                acct.wh_index.insert(id, w);
                w
            }
        };
        for (i, s) in acct.skus.iter().enumerate() {
            if s.stock.iter().any(|e| e.warehouse == wh) {
                work.dirty.push((a, SkuIdx::new(i)));
            }
        }
        Ok(())
    }

    pub(crate) fn put_stock(&mut self, named: Named, wh_id: &str, body: &StockBody, work: &mut Work) -> Result<()> {
        let quantity = stock_body(body)?;
        let a = self.named_account(named)?;
        let wh = *self.accounts[a].wh_index.get(wh_id).ok_or_else(|| {
            let account = named.account;
            DomainError::not_found(Missing::Warehouse, wh_id, format!("warehouse `{wh_id}` of account `{account}`"))
        })?;
        let s = self.named_sku(a, named)?;
        let sku = &mut self.accounts[a].skus[s];
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
            None => sku.stock.push(StockEntry { warehouse: wh, quantity, reserved: 0 }),
        }
        work.dirty.push((a, s));
        Ok(())
    }

    pub(crate) fn put_price(&mut self, named: Named, body: &PriceBody, work: &mut Work) -> Result<()> {
        let Price { price, list_price } = price_body(body)?;
        let a = self.named_account(named)?;
        let s = self.named_sku(a, named)?;
        let tp = match &body.trade_policy {
            None => None,
            Some(t) => Some(self.tp_of(a, "trade_policy", t)?),
        };
        let p = Price { price, list_price };
        let sku = &mut self.accounts[a].skus[s];
        match tp {
            None => sku.price = PriceSlot::new(Some(p)),
            Some(tp) => match sku.tp_prices.iter_mut().find(|(t, _)| *t == tp) {
                Some(e) => e.1 = p,
                None => {
                    let mut all = std::mem::take(&mut sku.tp_prices).into_vec();
                    all.push((tp, p));
                    sku.tp_prices = all.into_boxed_slice();
                }
            },
        }
        work.dirty.push((a, s));
        Ok(())
    }

    pub(crate) fn delete_price(&mut self, named: Named, tp: Option<&str>, work: &mut Work) -> Result<()> {
        let Some(tp_id) = tp else {
            return Err(DomainError::invalid(
                "trade_policy",
                "required: only a trade policy's fixed price can be deleted",
            ));
        };
        let a = self.named_account(named)?;
        let s = self.named_sku(a, named)?;
        let tp = self.tp_of(a, "trade_policy", tp_id)?;
        let sku = &mut self.accounts[a].skus[s];
        let Some(pos) = sku.tp_prices.iter().position(|(t, _)| *t == tp) else {
            return Err(DomainError::not_found(
                Missing::Price,
                tp_id,
                format!("a fixed price of `{}` for that trade policy", named.sku),
            ));
        };
        let mut all = std::mem::take(&mut sku.tp_prices).into_vec();
        all.remove(pos);
        sku.tp_prices = all.into_boxed_slice();
        work.dirty.push((a, s));
        Ok(())
    }
}
