//! The engine's list reads: accounts, an account's SKUs (and a SKU's stock across warehouses),
//! prices, warehouses (and a warehouse's stock) and trade policies, its
//! connections in both directions, and its orders. Each is sorted by id and answers one page
//! (`Window`) with the count of all matching items, building views only for the page; the
//! items are the shapes of the single reads (`sku`, `warehouse`, …), built by them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::read::{stock_view, tp_price_views};
use super::{
    AccountView, AffiliationView, PriceView, RegistrationView, SkuView, StockView, TradePolicyView, WarehouseView,
};
use crate::error::{DomainError, Result};
use crate::orders::{OrderAnswer, OrderStatus};
use crate::state::Engine;

/// Longest `q` (search text of the SKU list), in characters (the OpenAPI `maxLength`).
pub const MAX_SEARCH_CHARS: usize = 200;

/// A page of a list: at most `limit` items from `offset` (the server's `limit`/`offset`).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub limit: usize,
    pub offset: usize,
}

/// One page of a sorted list and the count of all matching items.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
}

/// Which SKUs a SKU list keeps.
#[derive(Clone, Debug, Default)]
pub struct SkuFilter<'a> {
    pub active: Option<bool>,
    /// Case-insensitive substring of the name, brand or EAN (at most `MAX_SEARCH_CHARS`).
    pub q: Option<&'a str>,
}

/// As which side an account lists its orders.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRole {
    /// The marketplace's own orders.
    Marketplace,
    /// The account's seller orders and chain orders.
    Seller,
}

/// Which orders an order list keeps.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub role: Option<OrderRole>,
    pub status: Option<OrderStatus>,
    /// Only orders created after this time (ms since the epoch, exclusive).
    pub created_after: Option<u64>,
    /// Only orders created before this time (ms since the epoch, exclusive).
    pub created_before: Option<u64>,
}

/// A marketplace a seller sells to: the seller's half and, when the marketplace has
/// registered the seller, the marketplace's half.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketplaceConnection {
    pub marketplace: Arc<str>,
    pub affiliation: AffiliationView,
    /// The marketplace's half; `null` until it registers the seller.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub registration: Option<RegistrationView>,
}

/// A seller a marketplace hosts: the marketplace's half and, when the seller has affiliated,
/// the seller's half.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerConnection {
    pub seller: Arc<str>,
    pub registration: RegistrationView,
    /// The seller's half; `null` until the seller affiliates.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub affiliation: Option<AffiliationView>,
}

/// Sorts `keys` by their id, keeps the window, and builds the view of each kept key.
fn page<K, T>(
    mut keys: Vec<(Arc<str>, K)>,
    w: Window,
    mut view: impl FnMut(&Arc<str>, K) -> Result<T>,
) -> Result<Page<T>> {
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let total = keys.len();
    let items = keys.into_iter().skip(w.offset).take(w.limit).map(|(id, k)| view(&id, k)).collect::<Result<_>>()?;
    Ok(Page { items, total })
}

fn price_view(acct: &crate::model::Account, k: &crate::model::Sku) -> PriceView {
    PriceView {
        sku: k.id.clone(),
        price: k.price.get().map(|p| p.price),
        list_price: k.price.get().and_then(|p| p.list_price),
        trade_policy_prices: tp_price_views(acct, k),
    }
}

/// Whether `hay` contains `needle_lower` (already lowercased), ignoring case.
fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

impl Engine {
    /// Every account, sorted by id.
    pub fn list_accounts(&self, w: Window) -> Result<Page<AccountView>> {
        let keys = self.accounts.iter().map(|a| (a.id.clone(), ())).collect();
        page(keys, w, |id, ()| self.account(id))
    }

    /// An account's SKUs, filtered, sorted by id; each as `Engine::sku` shows it.
    pub fn list_skus(&self, account: &str, f: &SkuFilter, w: Window) -> Result<Page<SkuView>> {
        if f.q.is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS) {
            return Err(DomainError::invalid("q", format!("`q` is at most {MAX_SEARCH_CHARS} characters")));
        }
        let q = f.q.map(str::to_lowercase);
        let a = &self.accounts[self.account_idx(account)?];
        let keys = a
            .skus
            .iter()
            .filter(|k| f.active.is_none_or(|x| x == k.active))
            .filter(|k| {
                q.as_deref().is_none_or(|q| {
                    contains_ci(&k.info.name, q)
                        || k.info.brand.as_deref().is_some_and(|b| contains_ci(b, q))
                        || k.info.ean.as_ref().is_some_and(|e| contains_ci(&e.0, q))
                })
            })
            .map(|k| (k.id.clone(), ()))
            .collect();
        page(keys, w, |id, ()| self.sku(account, id))
    }

    /// An account's warehouses, sorted by id.
    pub fn list_warehouses(&self, account: &str, w: Window) -> Result<Page<WarehouseView>> {
        let a = &self.accounts[self.account_idx(account)?];
        let keys = a.warehouses.iter().map(|x| (x.id.clone(), ())).collect();
        page(keys, w, |id, ()| self.warehouse(account, id))
    }

    /// The stock of warehouse `wh`: every SKU with a stock entry there, as (SKU id, stock),
    /// sorted by SKU id. 404 as `Engine::warehouse` when the warehouse does not exist.
    pub fn list_warehouse_stock(&self, account: &str, wh: &str, w: Window) -> Result<Page<(Arc<str>, StockView)>> {
        let (a, wi) = self.warehouse_of(account, wh)?;
        let keys = a
            .skus
            .iter()
            .filter_map(|k| k.stock.iter().find(|e| e.warehouse == wi).map(|e| (k.id.clone(), e)))
            .collect();
        page(keys, w, |id, e| Ok((id.clone(), stock_view(a, e))))
    }

    /// The stock of SKU `sku` in every warehouse where it is set, as (warehouse, quantity,
    /// reserved), sorted by warehouse id. 404 as `Engine::sku` when the SKU does not exist.
    pub fn list_sku_stock(&self, account: &str, sku: &str, w: Window) -> Result<Page<StockView>> {
        let a = self.account_idx(account)?;
        let acct = &self.accounts[a];
        let k = &acct.skus[self.sku_of(a, sku)?];
        let keys = k.stock.iter().map(|e| (acct.warehouses[e.warehouse].id.clone(), e)).collect();
        page(keys, w, |_, e| Ok(stock_view(acct, e)))
    }

    /// Every SKU's price, list price and trade-policy prices (`null` prices for a SKU without
    /// one), sorted by SKU id.
    pub fn list_prices(&self, account: &str, w: Window) -> Result<Page<PriceView>> {
        let acct = &self.accounts[self.account_idx(account)?];
        let keys = acct.skus.iter().map(|k| (k.id.clone(), k)).collect();
        page(keys, w, |_, k| Ok(price_view(acct, k)))
    }

    /// The prices of one SKU, as the price list shows them.
    pub fn price(&self, account: &str, sku: &str) -> Result<PriceView> {
        let a = self.account_idx(account)?;
        let acct = &self.accounts[a];
        Ok(price_view(acct, &acct.skus[self.sku_of(a, sku)?]))
    }

    /// An account's trade policies (`1` always among them), sorted by id.
    pub fn list_trade_policies(&self, account: &str, w: Window) -> Result<Page<TradePolicyView>> {
        let a = &self.accounts[self.account_idx(account)?];
        let keys = a.trade_policies.iter().map(|x| (x.id.clone(), ())).collect();
        page(keys, w, |id, ()| self.trade_policy(account, id))
    }

    /// The marketplaces seller `s` sells to (its own halves), with both halves, sorted by
    /// marketplace id.
    pub fn list_affiliations(&self, s: &str, w: Window) -> Result<Page<MarketplaceConnection>> {
        let si = self.account_idx(s)?;
        let keys = self.accounts[si].affiliations.keys().map(|&m| (self.accounts[m].id.clone(), m)).collect();
        page(keys, w, |id, m| {
            Ok(MarketplaceConnection {
                marketplace: id.clone(),
                affiliation: self.affiliation(s, id)?,
                registration: match self.accounts[m].sellers.contains_key(&si) {
                    true => Some(self.registration(id, s)?),
                    false => None,
                },
            })
        })
    }

    /// The sellers marketplace `m` hosts (its own halves), with both halves, sorted by seller id.
    pub fn list_sellers(&self, m: &str, w: Window) -> Result<Page<SellerConnection>> {
        let mi = self.account_idx(m)?;
        let keys = self.accounts[mi].sellers.keys().map(|&s| (self.accounts[s].id.clone(), s)).collect();
        page(keys, w, |id, s| {
            Ok(SellerConnection {
                seller: id.clone(),
                registration: self.registration(m, id)?,
                affiliation: match self.accounts[s].affiliations.contains_key(&mi) {
                    true => Some(self.affiliation(id, m)?),
                    false => None,
                },
            })
        })
    }

    /// The orders of `account`, filtered, sorted by the account's order id, each as
    /// `Engine::order_view` shows it: as marketplace its whole orders, as seller its seller
    /// and chain orders (their status; the time is the marketplace order's creation).
    pub fn list_orders(&self, account: &str, f: &OrderFilter, w: Window) -> Result<Page<OrderAnswer>> {
        let a = self.account_idx(account)?;
        let keys = self
            .orders
            .index
            .iter()
            .filter(|((who, _), _)| *who == a)
            .filter(|(_, &(oi, si))| {
                let o = &self.orders.list[oi];
                let role = if si.is_some() { OrderRole::Seller } else { OrderRole::Marketplace };
                let status = si.map_or(o.status, |si| o.subs[si].status);
                f.role.is_none_or(|r| r == role)
                    && f.status.is_none_or(|s| s == status)
                    && f.created_after.is_none_or(|t| o.created_ms > t)
                    && f.created_before.is_none_or(|t| o.created_ms < t)
            })
            .map(|((_, id), &at)| (id.clone(), at))
            .collect();
        page(keys, w, |_, (oi, si)| Ok(self.order_answer(oi, si)))
    }
}
