//! Reads: an order as an account may see it, and simulation (a cart priced against the live
//! offers; never changes state).

use crate::error::Result;
use crate::state::Engine;

use super::place::{order_lines, SellerField};
use super::*;

impl Engine {
    pub(super) fn sub_view(&self, o: &Order, si: usize) -> SubOrderView {
        let s = &o.subs[si];
        let seller = &self.accounts[s.seller];
        SubOrderView {
            id: s.id.clone(),
            seller: seller.id.clone(),
            buyer: self.accounts[s.buyer].id.clone(),
            status: s.status,
            items: s
                .items
                .iter()
                .map(|it| SubItemView {
                    sku: seller.skus[it.sku].id.clone(),
                    quantity: it.quantity,
                    price: it.price,
                    reserved_own: it.reservations.iter().map(|r| r.1).sum(),
                })
                .collect(),
            chain_orders: o
                .subs
                .iter()
                .enumerate()
                .filter(|(_, c)| c.parent == Some(si))
                .map(|(c, _)| self.sub_view(o, c))
                .collect(),
            external: s.external.as_deref().map(ExternalView::from),
            document: None,
        }
    }

    /// The document of order `id` as `account` sees it: where it is kept and how much it may
    /// see; `None` when the order has no document (or does not exist).
    pub fn order_document_ref(&self, account: &str, id: &str) -> Option<DocumentRef> {
        let (_, oi, si) = self.order_of(account, id).ok()?;
        let o = &self.orders.list[oi];
        let access = match si.map(|si| o.subs[si].parent) {
            None | Some(None) => DocumentAccess::Whole,
            Some(Some(_)) => DocumentAccess::AddressOnly,
        };
        Some(DocumentRef {
            marketplace: self.accounts[o.marketplace].id.clone(),
            order: o.id.clone(),
            sha256: o.document_sha256.clone()?,
            access,
        })
    }

    /// An order as `account` may see it: the marketplace sees the whole order; a seller its
    /// seller order or chain order (with the chain orders below it).
    pub fn order_view(&self, account: &str, id: &str) -> Result<OrderAnswer> {
        let (_, oi, si) = self.order_of(account, id)?;
        Ok(self.order_answer(oi, si))
    }

    /// Order `oi` as the marketplace sees it (`si` none) or as the seller of its sub order `si`.
    pub(crate) fn order_answer(&self, oi: usize, si: Option<usize>) -> OrderAnswer {
        let o = &self.orders.list[oi];
        match si {
            Some(si) => OrderAnswer::Seller(self.sub_view(o, si)),
            None => {
                let m = &self.accounts[o.marketplace];
                OrderAnswer::Marketplace(OrderView {
                    id: o.id.clone(),
                    marketplace: m.id.clone(),
                    status: o.status,
                    created_ms: o.created_ms,
                    expires_ms: o.expires_ms,
                    authorized_ms: o.authorized_ms,
                    closed_ms: o.closed_ms,
                    external_ref: o.external_ref.as_deref().cloned(),
                    document_sha256: o.document_sha256.clone(),
                    document: None,
                    items: o
                        .items
                        .iter()
                        .map(|it| OrderItemView {
                            sku: m.skus[it.sku].id.clone(),
                            quantity: it.quantity,
                            seller: self.accounts[it.seller].id.clone(),
                            price: it.price,
                        })
                        .collect(),
                    seller_orders: (0..o.subs.len())
                        .filter(|&c| o.subs[c].parent.is_none())
                        .map(|c| self.sub_view(o, c))
                        .collect(),
                })
            }
        }
    }

    /// [`Engine::order_view`] as a JSON value (what the tests and tools index into).
    pub fn order(&self, account: &str, id: &str) -> Result<serde_json::Value> {
        Ok(serde_json::to_value(self.order_view(account, id)?).expect("an order view serialises"))
    }

    /// Prices a cart at marketplace `m` against the live offers. Never changes state.
    pub fn simulate(&self, m: &str, items: &[OrderItemBody]) -> Result<Vec<SimulationItem>> {
        let lines = order_lines(items, SellerField::Optional)?;
        let mi = self.account_idx(m)?;
        let mut out = Vec::with_capacity(items.len());
        for line in &lines {
            let (sku, q) = (line.sku, line.quantity);
            let mk = self.sku_of(mi, sku)?;
            let market = &self.accounts[mi];
            let offers = self.sellable_offers(mi, mk, |s| line.seller.is_none_or(|x| x == &*self.accounts[s].id));
            let chosen = choose_offer(&offers, q).map(|i| &offers[i]);
            let view = |c: &OfferCandidate| {
                let seller = &self.accounts[c.seller];
                SimulationOffer {
                    seller: seller.id.clone(),
                    seller_sku: seller.skus[c.seller_sku].id.clone(),
                    price: c.state.price.map(|p| p.price),
                    available_quantity: c.state.quantity.finite(),
                    unlimited: c.state.quantity.is_unlimited(),
                }
            };
            out.push(SimulationItem {
                sku: market.skus[mk].id.clone(),
                quantity: q,
                seller: chosen.map(|c| self.accounts[c.seller].id.clone()),
                price: chosen.and_then(|c| c.state.price.map(|p| p.price)),
                available_quantity: chosen.and_then(|c| c.state.quantity.finite()),
                offers: offers.iter().map(view).collect(),
            });
        }
        Ok(out)
    }
}

/// A sellable offer as simulation weighs it: who sells which of its SKUs, and the offer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OfferCandidate {
    pub seller: AccountIdx,
    pub seller_sku: SkuIdx,
    pub state: OfferState,
}

impl Engine {
    /// The sellable offers for SKU `mk` of marketplace `mi` from the sellers `keep` accepts,
    /// sorted by seller id: what simulation prices a line against, and what a product feed
    /// chooses from (`feed.rs`).
    pub(crate) fn sellable_offers(
        &self,
        mi: AccountIdx,
        mk: SkuIdx,
        keep: impl Fn(AccountIdx) -> bool,
    ) -> Vec<OfferCandidate> {
        let market = &self.accounts[mi];
        let mut offers: Vec<OfferCandidate> = market.skus[mk]
            .sources
            .iter()
            .filter(|&&(s, _)| keep(s))
            .filter_map(|&(s, ss)| {
                let st = market.suggestions.get(&(s, ss)).and_then(|x| x.offer())?;
                st.sellable().then_some(OfferCandidate { seller: s, seller_sku: ss, state: st })
            })
            .collect();
        offers.sort_by(|a, b| self.accounts[a.seller].id.cmp(&self.accounts[b.seller].id));
        offers
    }
}

/// The chosen offer for `q` units (its position in `offers`): the lowest price that covers
/// the quantity; ties: more quantity, then seller id (`offers` comes sorted by seller id, and
/// `min_by` keeps the first of equals).
pub(crate) fn choose_offer(offers: &[OfferCandidate], q: u64) -> Option<usize> {
    offers
        .iter()
        .enumerate()
        .filter(|(_, c)| c.state.quantity.0 >= q)
        .min_by(|(_, a), (_, b)| {
            let price = |c: &OfferCandidate| c.state.price.map(|p| p.price);
            price(a).cmp(&price(b)).then(b.state.quantity.cmp(&a.state.quantity))
        })
        .map(|(i, _)| i)
}
