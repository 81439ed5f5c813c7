//! The engine's read functions: each answers one view of `views` from the current state.

use std::sync::Arc;

use super::*;
use crate::derive::{codes, SourceTree};
use crate::error::Result;
use crate::state::Engine;

/// A SKU's fixed prices of trade policies, in the order they were first set.
pub(super) fn tp_price_views(acct: &Account, k: &Sku) -> Vec<TradePolicyPriceView> {
    k.tp_prices
        .iter()
        .map(|(tp, p)| TradePolicyPriceView {
            trade_policy: acct.trade_policies[*tp].id.clone(),
            price: p.price,
            list_price: p.list_price,
        })
        .collect()
}

/// One stock entry of a SKU, named by its warehouse.
pub(super) fn stock_view(acct: &Account, e: &StockEntry) -> StockView {
    StockView {
        warehouse: acct.warehouses[e.warehouse].id.clone(),
        quantity: e.quantity.finite(),
        unlimited: e.quantity.is_unlimited(),
        reserved: e.reserved,
    }
}

impl Engine {
    /// Number of offers (bindings) in the whole network.
    pub fn offer_count(&self) -> usize {
        self.accounts.iter().map(|a| a.skus.iter().map(|s| s.sources.len()).sum::<usize>()).sum()
    }

    /// Number of accounts and of SKUs in the whole network.
    pub fn size(&self) -> (usize, usize) {
        (self.accounts.len(), self.accounts.iter().map(|a| a.skus.len()).sum())
    }

    /// The ids of an account's SKUs, sorted.
    pub fn sku_ids(&self, account: &str) -> Result<Vec<Arc<str>>> {
        let a = self.account_idx(account)?;
        let mut ids: Vec<Arc<str>> = self.accounts[a].skus.iter().map(|s| s.id.clone()).collect();
        ids.sort();
        Ok(ids)
    }

    /// Whether an account with this id exists.
    pub fn has_account(&self, id: &str) -> bool {
        self.account_index.contains_key(id)
    }

    pub fn account(&self, id: &str) -> Result<AccountView> {
        let a = &self.accounts[self.account_idx(id)?];
        Ok(AccountView { id: a.id.clone(), name: a.name.clone(), currency: a.currency.clone() })
    }

    pub fn sku(&self, account: &str, sku: &str) -> Result<SkuView> {
        let a = self.account_idx(account)?;
        let s = self.sku_of(a, sku)?;
        let acct = &self.accounts[a];
        let k = &acct.skus[s];
        let content = k.info.content.as_deref();
        Ok(SkuView {
            id: k.id.clone(),
            name: k.info.name.clone(),
            product_id: k.product_id.clone(),
            brand: k.info.brand.clone(),
            category: k.info.category.clone(),
            ean: k.info.ean.as_ref().map(|e| e.0.clone()),
            ref_id: k.info.ref_id.clone(),
            active: k.active,
            price: k.price.get().map(|p| p.price),
            list_price: k.price.get().and_then(|p| p.list_price),
            trade_policy_prices: tp_price_views(acct, k),
            stock: k.stock.iter().map(|e| stock_view(acct, e)).collect(),
            description: content.and_then(|c| c.description.clone()),
            images: content.map_or_else(Vec::new, |c| c.images.to_vec()),
            dimensions: content.and_then(|c| c.dimensions.as_ref()).map(DimensionsView::of),
        })
    }

    /// The offers of every seller bound to marketplace `m`'s SKU, sorted by (seller, seller SKU).
    pub fn offers_for_sku(&self, m: &str, sku: &str) -> Result<Vec<OfferView>> {
        let mi = self.account_idx(m)?;
        let mk = self.sku_of(mi, sku)?;
        let market = &self.accounts[mi];
        let mut out: Vec<OfferView> = market.skus[mk]
            .sources
            .iter()
            .filter_map(|&(s, ss)| {
                let st = market.suggestions.get(&(s, ss))?.offer()?;
                Some(self.offer_view(mi, s, ss, mk, &st))
            })
            .collect();
        out.sort_by(|a, b| (&a.seller, &a.seller_sku).cmp(&(&b.seller, &b.seller_sku)));
        Ok(out)
    }

    /// Every offer at marketplace `m`, filtered, sorted by (sku, seller, seller SKU).
    pub fn offers(&self, m: &str, filter: &OfferFilter) -> Result<Vec<OfferView>> {
        let mi = self.account_idx(m)?;
        let market = &self.accounts[mi];
        let mut out = Vec::new();
        for (&(s, ss), sugg) in &market.suggestions {
            let (Some(mk), Some(st)) = (sugg.sku(), sugg.offer()) else { continue };
            if filter.seller.is_some_and(|f| *self.accounts[s].id != *f) {
                continue;
            }
            if filter.sellable.is_some_and(|f| st.sellable() != f) {
                continue;
            }
            out.push(self.offer_view(mi, s, ss, mk, &st));
        }
        out.sort_by(|a, b| (&a.sku, &a.seller, &a.seller_sku).cmp(&(&b.sku, &b.seller, &b.seller_sku)));
        Ok(out)
    }

    /// Suggestions received by marketplace `m`, optionally of one status, sorted.
    pub fn suggestions(&self, m: &str, status: Option<SuggestionStatus>) -> Result<Vec<SuggestionView>> {
        let mi = self.account_idx(m)?;
        let market = &self.accounts[mi];
        let mut out = Vec::new();
        for (&(s, ss), sugg) in &market.suggestions {
            if status.is_some_and(|f| f != sugg.status()) {
                continue;
            }
            let seller = &self.accounts[s];
            let k = &seller.skus[ss];
            out.push(SuggestionView {
                seller: seller.id.clone(),
                seller_sku: k.id.clone(),
                status: sugg.status(),
                sku: sugg.sku().map(|mk| market.skus[mk].id.clone()),
                name: k.info.name.clone(),
                product_id: k.product_id.clone(),
                brand: k.info.brand.clone(),
                category: k.info.category.clone(),
                ean: k.info.ean.as_ref().map(|e| e.0.clone()),
                ref_id: k.info.ref_id.clone(),
                candidates: match sugg.status() {
                    SuggestionStatus::Pending => {
                        self.free_candidates(mi, s, ss).into_iter().map(|c| market.skus[c].id.clone()).collect()
                    }
                    _ => Vec::new(),
                },
            });
        }
        out.sort_by(|a, b| (&a.seller, &a.seller_sku).cmp(&(&b.seller, &b.seller_sku)));
        Ok(out)
    }

    /// What seller `s` sends, as each connected marketplace sees it (rules 16 and 30): every
    /// SKU of `s` for every marketplace where both halves exist.
    pub fn sent_offers(&self, s: &str, marketplace: Option<&str>) -> Result<Vec<SentOfferView>> {
        let si = self.account_idx(s)?;
        let only = match marketplace {
            Some(m) => Some(self.account_idx(m)?),
            None => None,
        };
        let seller = &self.accounts[si];
        let mut markets: Vec<AccountIdx> = seller
            .affiliations
            .keys()
            .copied()
            .filter(|m| self.accounts[*m].sellers.contains_key(&si))
            .filter(|m| only.is_none_or(|o| o == *m))
            .collect();
        markets.sort_by(|a, b| self.accounts[*a].id.cmp(&self.accounts[*b].id));
        let mut skus: Vec<SkuIdx> = (0..seller.skus.len()).map(SkuIdx::new).collect();
        skus.sort_by(|a, b| seller.skus[*a].id.cmp(&seller.skus[*b].id));
        let mut out = Vec::new();
        for &m in &markets {
            let market = &self.accounts[m];
            for &ss in &skus {
                let sugg = market.suggestions.get(&(si, ss));
                let bound = sugg.and_then(|x| x.sku());
                let e = self.eval_offer(m, si, ss, bound, None);
                let mut reasons = e.reasons;
                match sugg.map(|x| x.status()) {
                    Some(SuggestionStatus::Pending) => reasons.add(Reason::SuggestionPending),
                    Some(SuggestionStatus::Denied) => reasons.add(Reason::SuggestionDenied),
                    _ => {}
                }
                out.push(SentOfferView {
                    marketplace: market.id.clone(),
                    seller_sku: seller.skus[ss].id.clone(),
                    status: sugg.map(|x| x.status()),
                    sku: bound.map(|mk| market.skus[mk].id.clone()),
                    price: e.price.map(|p| p.price),
                    list_price: e.price.and_then(|p| p.list_price),
                    quantity: e.quantity.finite(),
                    unlimited: e.quantity.is_unlimited(),
                    sellable: reasons.is_empty(),
                    reasons: codes(reasons),
                });
            }
        }
        Ok(out)
    }

    fn explain_sources(&self, tree: Vec<SourceTree>) -> Vec<ExplainSource> {
        let mut out: Vec<ExplainSource> = tree
            .into_iter()
            .map(|n| ExplainSource {
                account: self.accounts[n.account].id.clone(),
                sku: self.accounts[n.account].skus[n.sku].id.clone(),
                own: n.own.finite(),
                third: n.third.finite(),
                quantity: n.quantity.finite(),
                unlimited: n.quantity.is_unlimited(),
                included: n.included,
                reasons: codes(n.reasons),
                sources: self.explain_sources(n.sources),
            })
            .collect();
        out.sort_by(|a, b| (&a.account, &a.sku).cmp(&(&b.account, &b.sku)));
        out
    }

    /// Why each offer of marketplace `m`'s SKU is (not) sellable: the tree of paths down to
    /// every origin, each level with its quantity, price and reasons (rule 21).
    pub fn explain(&self, m: &str, sku: &str) -> Result<Explain> {
        let mi = self.account_idx(m)?;
        let mk = self.sku_of(mi, sku)?;
        let market = &self.accounts[mi];
        let mut offers = Vec::new();
        for &(s, ss) in &market.skus[mk].sources {
            let mut tree = Vec::new();
            let e = self.eval_offer(mi, s, ss, Some(mk), Some(&mut tree));
            let seller = &self.accounts[s];
            // The path's own reasons: everything but the cuts its sources contributed.
            let own_reasons = Reasons(e.reasons.0 & !Reasons::CUTS.0);
            offers.push(ExplainOffer {
                seller: seller.id.clone(),
                seller_sku: seller.skus[ss].id.clone(),
                quantity: e.quantity.finite(),
                unlimited: e.quantity.is_unlimited(),
                sellable: e.reasons.is_empty(),
                reasons: codes(e.reasons),
                path: ExplainPath {
                    account: seller.id.clone(),
                    sku: seller.skus[ss].id.clone(),
                    own: e.own.finite(),
                    third: e.third.finite(),
                    gated: e.gated,
                    price: e.price.map(|p| p.price),
                    reasons: codes(own_reasons),
                    sources: self.explain_sources(tree),
                },
            });
        }
        offers.sort_by(|a, b| (&a.seller, &a.seller_sku).cmp(&(&b.seller, &b.seller_sku)));
        Ok(Explain { marketplace: market.id.clone(), sku: market.skus[mk].id.clone(), offers })
    }
}

impl Engine {
    pub fn affiliation(&self, seller: &str, marketplace: &str) -> Result<AffiliationView> {
        let (pair, x) = self.read_half::<Affiliation>(seller, marketplace)?;
        let acct = &self.accounts[pair.seller];
        Ok(AffiliationView {
            seller: acct.id.clone(),
            marketplace: self.accounts[pair.marketplace].id.clone(),
            trade_policy: acct.trade_policies[x.trade_policy].id.clone(),
            active: x.active,
            resale: match &x.resale {
                Resale::None => ResaleView::Word(ResaleWord::None),
                Resale::All => ResaleView::Word(ResaleWord::All),
                Resale::List(l) => ResaleView::Accounts(l.to_vec()),
            },
            require_own_stock: x.require_own_stock,
            remote_seller_id: x.remote_seller_id.clone(),
            follow_up_email: x.follow_up_email.clone(),
        })
    }

    pub fn registration(&self, marketplace: &str, seller: &str) -> Result<RegistrationView> {
        let (pair, r) = self.read_half::<Registration>(seller, marketplace)?;
        let acct = &self.accounts[pair.marketplace];
        Ok(RegistrationView {
            marketplace: acct.id.clone(),
            seller: self.accounts[pair.seller].id.clone(),
            trade_policies: r.trade_policies.iter().map(|&tp| acct.trade_policies[tp].id.clone()).collect(),
            active: r.active,
            match_mode: r.match_mode,
            commission_bp: r.commission_bp,
        })
    }

    pub fn trade_policy(&self, account: &str, tp: &str) -> Result<TradePolicyView> {
        let a = &self.accounts[self.account_idx(account)?];
        let i = a.tp_idx(tp).ok_or_else(|| {
            crate::DomainError::not_found(crate::Missing::TradePolicy, tp, format!("trade policy `{tp}`"))
        })?;
        let t = &a.trade_policies[i];
        Ok(TradePolicyView {
            id: t.id.clone(),
            name: t.name.clone(),
            assortment: match &t.assortment {
                Assortment::All => AssortmentView::Word(AllWord::All),
                Assortment::List(ids, _) => AssortmentView::Skus(ids.to_vec()),
            },
            product_url: t.product_url.clone(),
        })
    }

    pub fn warehouse(&self, account: &str, wh: &str) -> Result<WarehouseView> {
        let (a, i) = self.warehouse_of(account, wh)?;
        let w = &a.warehouses[i];
        Ok(WarehouseView {
            id: w.id.clone(),
            trade_policies: w.trade_policies.iter().map(|&tp| a.trade_policies[tp].id.clone()).collect(),
        })
    }

    /// Account `account` and the index of its warehouse `wh`; 404 for either.
    pub(crate) fn warehouse_of(&self, account: &str, wh: &str) -> Result<(&Account, WhIdx)> {
        let a = &self.accounts[self.account_idx(account)?];
        let i = *a
            .wh_index
            .get(wh)
            .ok_or_else(|| crate::DomainError::not_found(crate::Missing::Warehouse, wh, format!("warehouse `{wh}`")))?;
        Ok((a, i))
    }
}
