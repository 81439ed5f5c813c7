//! Product feeds: what a marketplace's trade policy sells, one item per SKU, as a sales channel
//! such as Google Merchant Center reads it. A read: computed from the engine's state on every
//! fetch, never stored, so a feed is exactly as fresh as the offers.
//!
//! A SKU of marketplace M is in the feed of M's trade policy `tp` when it is in `tp`'s
//! assortment and a seller whose registration at M shows its offers in `tp` has either a
//! sellable offer for it (`in_stock`, at the offer simulation chooses for one unit:
//! `Engine::sellable_offers` and `choose_offer` of `orders/read.rs`) or an offer held back only
//! by stock (`out_of_stock`: `out_of_stock` or `forwarder_has_no_own_stock` are its only
//! reasons, so the stock gate of rule 6 shows as out of stock, never as stock). Such a SKU is
//! an *entry*: an item, or left out with the issues that keep it out (`google.rs`: Google's
//! product data specification).
//!
//! Large catalogs are read in chunks (`feed_chunk`), each under one read of the state, so a
//! server can stream a million items without holding the document or the write lock.

use std::sync::Arc;

use serde::Serialize;

use crate::error::{DomainError, Missing, Result};
use crate::model::*;
use crate::orders::read::{choose_offer, OfferCandidate};
use crate::state::Engine;

mod google;

pub use google::{currency_exponent, FeedIssue, Money, LIMITS};

/// Most SKUs one `feed_chunk` call examines: a chunk is computed under one read of the state,
/// so this bounds how long a feed holds it (about a millisecond per thousand SKUs).
pub const MAX_FEED_CHUNK_SKUS: usize = 10_000;

/// The feed's header: whose feed it is and what its items are priced in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedChannel {
    pub account: Arc<str>,
    pub account_name: Arc<str>,
    pub trade_policy: Arc<str>,
    pub trade_policy_name: Option<Arc<str>>,
    pub currency: Arc<str>,
    /// The shop's address: the product URL template up to its path (`https://shop.example`).
    pub link: String,
    /// The product URL template, `{sku}` where the SKU id goes.
    pub product_url: Arc<str>,
}

/// `in_stock` or `out_of_stock`, Google's words.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    OutOfStock,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
        }
    }
}

/// One item, its attributes named and formatted as Google's product data specification has
/// them (the XML writer puts `g:` before each name). Optional attributes are `None` when left
/// out. Text is within the specification's limits, but not escaped: writers escape.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedItem {
    pub id: Arc<str>,
    pub title: String,
    pub description: String,
    pub link: String,
    pub image_link: Arc<str>,
    pub additional_image_link: Vec<Arc<str>>,
    pub availability: Availability,
    /// The regular price: the list price when the offer has one above its price.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "123.45 BRL"))]
    pub price: Money,
    /// The offer's price when it is below the list price.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "99.90 BRL"))]
    pub sale_price: Option<Money>,
    pub brand: Option<Arc<str>>,
    pub gtin: Option<Arc<str>>,
    pub mpn: Option<Arc<str>>,
    /// `no` when the item has neither a GTIN nor brand and MPN; left out otherwise.
    pub identifier_exists: Option<&'static str>,
    pub condition: &'static str,
    pub product_type: Option<String>,
    pub item_group_id: Option<Arc<str>>,
    /// The offer the item shows (not a Google attribute: the JSON forms only).
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
}

/// A SKU the feed speaks of: the offer it shows (also when an issue keeps it out), its item,
/// or `None` when an issue keeps it out; `issues` lists every issue found (those that keep it
/// out, and what was shortened or left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEntry {
    pub sku: Arc<str>,
    pub availability: Availability,
    /// The chosen offer's seller and its price and list price, in minor units.
    pub seller: Arc<str>,
    pub price: Price,
    pub item: Option<FeedItem>,
    pub issues: Vec<FeedIssue>,
}

/// One read of a feed: the entries of the SKUs examined, in SKU creation order, and where the
/// next read starts (`None` after the last SKU).
#[derive(Clone, Debug, Default)]
pub struct FeedChunk {
    pub entries: Vec<FeedEntry>,
    pub next: Option<usize>,
}

/// The offer an entry shows and whether it is in stock.
struct Choice {
    offer: OfferCandidate,
    availability: Availability,
}

impl Engine {
    /// The header of `m`'s feed for trade policy `tp`. 404 for an unknown account or trade
    /// policy; 409 when the trade policy has no `product_url` (every item needs a link).
    pub fn feed_channel(&self, m: &str, tp: &str) -> Result<FeedChannel> {
        let (mi, ti) = self.feed_of(m, tp)?;
        let (a, t) = (&self.accounts[mi], &self.accounts[mi].trade_policies[ti]);
        let product_url = t.product_url.clone().ok_or_else(|| {
            DomainError::conflict(format!(
                "trade policy `{tp}` has no product_url: every feed item links to its page; set it with PUT /v1/accounts/{m}/trade-policies/{tp}"
            ))
        })?;
        // `validate::url_template`: `https://`, a host, then `{sku}` somewhere after it.
        let rest = &product_url["https://".len()..];
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Ok(FeedChannel {
            account: a.id.clone(),
            account_name: a.name.clone(),
            trade_policy: t.id.clone(),
            trade_policy_name: t.name.clone(),
            currency: a.currency.clone(),
            link: format!("https://{}", &rest[..host_end]),
            product_url,
        })
    }

    /// The entries of SKUs `from..` of `m`'s feed for `tp`, examining at most `max_skus`
    /// SKUs (and at most `MAX_FEED_CHUNK_SKUS`).
    pub fn feed_chunk(&self, m: &str, tp: &str, from: usize, max_skus: usize) -> Result<FeedChunk> {
        let channel = self.feed_channel(m, tp)?;
        let (mi, ti) = self.feed_of(m, tp)?;
        let n = self.accounts[mi].skus.len();
        let end = from.saturating_add(max_skus.clamp(1, MAX_FEED_CHUNK_SKUS)).min(n);
        let entries = (from.min(end)..end).filter_map(|k| self.feed_entry(&channel, mi, ti, SkuIdx::new(k))).collect();
        Ok(FeedChunk { entries, next: (end < n).then_some(end) })
    }

    /// The entries of the named SKUs (for the incremental feed): `None` for a SKU that is not
    /// in the feed now (or does not exist).
    pub fn feed_entries(&self, m: &str, tp: &str, skus: &[Arc<str>]) -> Result<Vec<(Arc<str>, Option<FeedEntry>)>> {
        let channel = self.feed_channel(m, tp)?;
        let (mi, ti) = self.feed_of(m, tp)?;
        let a = &self.accounts[mi];
        Ok(skus
            .iter()
            .map(|id| (id.clone(), a.sku_idx(id).and_then(|k| self.feed_entry(&channel, mi, ti, k))))
            .collect())
    }

    fn feed_of(&self, m: &str, tp: &str) -> Result<(AccountIdx, TpIdx)> {
        let mi = self.account_idx(m)?;
        let ti = self.accounts[mi]
            .tp_idx(tp)
            .ok_or_else(|| DomainError::not_found(Missing::TradePolicy, tp, format!("trade policy `{tp}`")))?;
        Ok((mi, ti))
    }

    fn feed_entry(&self, channel: &FeedChannel, mi: AccountIdx, ti: TpIdx, k: SkuIdx) -> Option<FeedEntry> {
        let a = &self.accounts[mi];
        if a.skus[k].sources.is_empty() || !a.in_assortment(ti, k) {
            return None;
        }
        let choice = self.feed_choice(mi, ti, k)?;
        let seller = &self.accounts[choice.offer.seller];
        let offer = (seller.id.clone(), seller.skus[choice.offer.seller_sku].id.clone());
        Some(google::entry(channel, &a.skus[k], choice.availability, choice.offer.state.price?, offer))
    }

    /// The offer SKU `k` of `mi` shows in trade policy `ti`: among the offers of the sellers
    /// registered with `ti`, the one simulation chooses for one unit; else, among those held
    /// back only by stock, the lowest price (then seller id); else none.
    fn feed_choice(&self, mi: AccountIdx, ti: TpIdx, k: SkuIdx) -> Option<Choice> {
        let a = &self.accounts[mi];
        let shown = |s: AccountIdx| a.sellers.get(&s).is_some_and(|r| r.trade_policies.contains(&ti));
        let sellable = self.sellable_offers(mi, k, shown);
        if let Some(i) = choose_offer(&sellable, 1) {
            return Some(Choice { offer: sellable[i], availability: Availability::InStock });
        }
        let mut stock = Reasons::EMPTY;
        stock.add(Reason::OutOfStock);
        stock.add(Reason::ForwarderHasNoOwnStock);
        a.skus[k]
            .sources
            .iter()
            .filter(|&&(s, _)| shown(s))
            .filter_map(|&(s, ss)| {
                let st = a.suggestions.get(&(s, ss)).and_then(|x| x.offer())?;
                let only_stock = !st.reasons.is_empty() && st.reasons.0 & !stock.0 == 0;
                (only_stock && st.price.is_some()).then_some(OfferCandidate { seller: s, seller_sku: ss, state: st })
            })
            .min_by(|x, y| {
                let price = |c: &OfferCandidate| c.state.price.map(|p| p.price);
                price(x).cmp(&price(y)).then_with(|| self.accounts[x.seller].id.cmp(&self.accounts[y.seller].id))
            })
            .map(|offer| Choice { offer, availability: Availability::OutOfStock })
    }
}
