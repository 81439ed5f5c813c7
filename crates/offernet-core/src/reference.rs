//! The reference: every offer recomputed from scratch, and the invariants of the engine.
//! Tests hold the incrementally maintained state equal to this after every command.

use std::collections::BTreeMap;

use crate::model::*;
use crate::state::Engine;

/// An offer's identity: (marketplace id, seller id, seller SKU id, marketplace SKU id).
pub type OfferKey = (String, String, String, String);

impl Engine {
    fn offer_key(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, mk: SkuIdx) -> OfferKey {
        (
            self.accounts[m].id.to_string(),
            self.accounts[s].id.to_string(),
            self.accounts[s].skus[ss].id.to_string(),
            self.accounts[m].skus[mk].id.to_string(),
        )
    }

    /// Every offer as the engine currently holds it (maintained incrementally).
    pub fn stored_offers(&self) -> BTreeMap<OfferKey, OfferState> {
        let mut out = BTreeMap::new();
        for (mi, market) in self.accounts.iter().enumerate() {
            for (&(s, ss), sugg) in &market.suggestions {
                if let (Some(mk), Some(st)) = (sugg.sku(), sugg.offer()) {
                    out.insert(self.offer_key(AccountIdx::new(mi), s, ss, mk), st);
                }
            }
        }
        out
    }

    /// Every offer recomputed from the ground state alone: one per binding (rule 16).
    pub fn recompute_offers(&self) -> BTreeMap<OfferKey, OfferState> {
        let mut out = BTreeMap::new();
        for (mi, market) in self.accounts.iter().enumerate() {
            let mi = AccountIdx::new(mi);
            for (mk, sku) in market.skus.iter().enumerate() {
                for &(s, ss) in &sku.sources {
                    let st = self.eval_offer(mi, s, ss, Some(SkuIdx::new(mk)), None).offer_state();
                    out.insert(self.offer_key(mi, s, ss, SkuIdx::new(mk)), st);
                }
            }
        }
        out
    }

    /// Checks every invariant of the engine; `Err` describes the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_offers()?;
        for mi in 0..self.accounts.len() {
            self.check_market(AccountIdx::new(mi))?;
        }
        self.check_reservations()?;
        self.check_order_trees()?;
        self.check_orders_follow_offers()?;
        self.check_quote_expiry()?;
        self.check_external()?;
        self.check_sent()
    }

    /// Offers equal their recomputation from the ground state.
    fn check_offers(&self) -> Result<(), String> {
        let stored = self.stored_offers();
        let fresh = self.recompute_offers();
        if stored != fresh {
            for (k, v) in &fresh {
                if stored.get(k) != Some(v) {
                    return Err(format!("offer {k:?} is stale: stored {:?}, recomputed {v:?}", stored.get(k)));
                }
            }
            for k in stored.keys() {
                if !fresh.contains_key(k) {
                    return Err(format!("offer {k:?} is stored without a binding"));
                }
            }
        }
        Ok(())
    }

    /// Marketplace `mi`'s suggestions, bindings, pending index and stock agree.
    fn check_market(&self, mi: AccountIdx) -> Result<(), String> {
        let market = &self.accounts[mi];
        for (&(s, ss), sugg) in &market.suggestions {
            let key = (&market.id, &self.accounts[s].id, &self.accounts[s].skus[ss].id);
            // Bindings are symmetric and match the suggestion's status.
            match (sugg.status(), sugg.sku()) {
                (SuggestionStatus::Approved, Some(mk)) => {
                    if !market.skus[mk].sources.contains(&(s, ss))
                        || !self.accounts[s].skus[ss].bound_at.contains(&(mi, mk))
                    {
                        return Err(format!("binding of {key:?} is not symmetric"));
                    }
                    if market.skus[mk].sources.iter().filter(|&&(u, _)| u == s).count() != 1 {
                        return Err(format!("SKU bound by {key:?} has two bindings of one seller"));
                    }
                }
                (SuggestionStatus::Approved, None) => return Err(format!("{key:?} approved without a SKU")),
                (_, Some(_)) => return Err(format!("{key:?} is bound without approval")),
                (_, None) => {}
            }
            let pending = self.pending[mi.ix()].contains(&(s, ss));
            if pending != (sugg.status() == SuggestionStatus::Pending) {
                return Err(format!("pending index disagrees for {key:?}"));
            }
            // Rule 26: no pending suggestion would be approved by matching now.
            if pending && self.would_match(mi, s, ss) {
                return Err(format!("pending suggestion {key:?} would match now"));
            }
        }
        for (ski, sku) in market.skus.iter().enumerate() {
            for &(s, ss) in &sku.sources {
                let sugg = market.suggestions.get(&(s, ss));
                if sugg.and_then(|x| x.sku()) != Some(SkuIdx::new(ski)) {
                    return Err(format!("source of {}/{} has no approved suggestion", market.id, sku.id));
                }
            }
            for e in &sku.stock {
                if !e.quantity.is_unlimited() && e.reserved > e.quantity.0 {
                    return Err(format!("reserved above quantity at {}/{}", market.id, sku.id));
                }
            }
        }
        Ok(())
    }

    /// Whether matching would approve seller `s`'s SKU `ss` at `mi` now (rule 26).
    fn would_match(&self, mi: AccountIdx, s: AccountIdx, ss: SkuIdx) -> bool {
        let Some(reg) = self.accounts[mi].sellers.get(&s) else {
            return false;
        };
        let c = self.candidates(mi, s, ss);
        match reg.match_mode {
            MatchMode::Manual => false,
            MatchMode::Score => c.len() == 1 && !self.bound_to_other(mi, c[0], s, ss),
            MatchMode::Auto => {
                if c.is_empty() {
                    !matches!(self.new_sku_id(mi, s, ss), crate::settle::NewSkuId::Unavailable)
                } else {
                    c.iter().any(|&mk| !self.bound_to_other(mi, mk, s, ss))
                }
            }
        }
    }

    /// Rules 6 and 7: everything that is sendable now has been sent.
    fn check_sent(&self) -> Result<(), String> {
        for (si, seller) in self.accounts.iter().enumerate() {
            let si = AccountIdx::new(si);
            for &m in seller.affiliations.keys() {
                let market = &self.accounts[m];
                if !market.sellers.contains_key(&si) {
                    continue;
                }
                for ss in (0..seller.skus.len()).map(SkuIdx::new) {
                    if !market.suggestions.contains_key(&(si, ss)) && self.eval_offer(m, si, ss, None, None).sends {
                        return Err(format!(
                            "{}/{} is sendable to {} but was not sent",
                            seller.id, seller.skus[ss].id, market.id
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
