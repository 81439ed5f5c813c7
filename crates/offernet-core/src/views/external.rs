//! Reads for an external marketplace's view of one of its sellers (the VTEX protocol's
//! fulfillment simulation, vtex-compat.md §2.2 B1): the seller names its own SKU, and the
//! answer is that seller's offer at the marketplace for the marketplace SKU bound to it.

use crate::state::Engine;

use super::OfferView;

impl Engine {
    /// Seller `s`'s offer at marketplace `m` for the seller's own SKU `seller_sku`, when that
    /// SKU is bound at `m` and has an offer there; `None` otherwise (an unknown account or SKU
    /// included: the protocol reads absence as "not sold here").
    pub fn offer_of_seller_sku(&self, m: &str, s: &str, seller_sku: &str) -> Option<OfferView> {
        let mi = self.account_idx(m).ok()?;
        let si = self.account_idx(s).ok()?;
        let ss = self.accounts[si].sku_idx(seller_sku)?;
        let sugg = self.accounts[mi].suggestions.get(&(si, ss))?;
        let (mk, st) = (sugg.sku()?, sugg.offer()?);
        Some(self.offer_view(mi, si, ss, mk, &st))
    }
}

impl Engine {
    /// Whether seller `s`'s own SKU `seller_sku` is bound to a SKU of marketplace `m` (what the
    /// SKU Bindings API calls a known seller SKU); false for an unknown account or SKU.
    pub fn seller_sku_bound(&self, m: &str, s: &str, seller_sku: &str) -> bool {
        let (Ok(mi), Ok(si)) = (self.account_idx(m), self.account_idx(s)) else { return false };
        let Some(ss) = self.accounts[si].sku_idx(seller_sku) else { return false };
        self.accounts[mi].suggestions.get(&(si, ss)).is_some_and(|sugg| sugg.sku().is_some())
    }
}
