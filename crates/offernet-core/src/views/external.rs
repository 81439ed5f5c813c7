//! Reads for an external marketplace's view of one of its sellers (the VTEX protocol's
//! fulfillment simulation, vtex-compat.md §2.2 B1): the seller names its own SKU, and the
//! answer is that seller's offer at the marketplace for the marketplace SKU bound to it.

use crate::engine::Engine;

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
        let (mk, st) = (sugg.sku?, sugg.offer?);
        Some(self.offer_view(mi, si, ss, mk, &st))
    }
}
