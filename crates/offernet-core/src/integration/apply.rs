//! Applying the integration commands: every field checked before any state is read (rule 39),
//! then the change, whose effects on offers the command settles like any other (`offer.changed`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::error::{DomainError, Missing, Result};
use crate::model::*;
use crate::state::{Engine, Work};

impl Engine {
    /// `PutIntegration`. Role `seller` makes sure warehouse `vtex` exists and serves trade
    /// policy `1`; its quotes are kept across a PUT of the same role, each stale exactly when
    /// its fetch plus the (new) TTL is at or before `now_ms`. Another role drops them.
    pub(crate) fn put_integration(
        &mut self,
        account: &str,
        body: &IntegrationBody,
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        let checked = check_body(body)?;
        let a = self.account_idx(account)?;
        let acct = &self.accounts[a];
        if crate::feed::currency_exponent(&acct.currency) != 2 {
            return Err(DomainError::invalid(
                "currency",
                format!(
                    "the account's currency {} does not have two decimal places: VTEX's integers are cents, so they \
                     would not be its minor units",
                    acct.currency
                ),
            ));
        }
        let warehouse = match &checked {
            Checked::Seller(_) => Some(self.vtex_warehouse(a)?),
            Checked::Marketplace(_) => None,
        };
        self.drop_quote_expiries(a);
        let old = self.accounts[a].integration.take();
        let integration = match (checked, warehouse) {
            (Checked::Seller(s), Some(wh)) => {
                let mut quotes = match old.map(|b| *b) {
                    Some(Integration::Seller(prev)) => prev.quotes,
                    _ => BTreeMap::new(),
                };
                let due = |fetched: u64| fetched.saturating_add(s.quote_ttl_minutes as u64 * 60_000);
                for (&sku, q) in quotes.iter_mut() {
                    let stale = due(q.fetched_ms) <= now_ms;
                    if stale != q.stale {
                        q.stale = stale;
                        work.dirty.push((a, sku));
                    }
                }
                Integration::Seller(SellerLink {
                    fulfillment_endpoint: s.fulfillment_endpoint,
                    sales_channel: s.sales_channel,
                    affiliate_id: s.affiliate_id,
                    quote_ttl_minutes: s.quote_ttl_minutes,
                    refresh_minutes: s.refresh_minutes,
                    follow_up_email: s.follow_up_email,
                    warehouse: wh,
                    quotes,
                })
            }
            (Checked::Marketplace(m), _) => {
                Self::forget_quotes(a, old.as_deref(), work);
                Integration::Marketplace(m)
            }
            (Checked::Seller(_), None) => unreachable!("a seller integration always has its warehouse"),
        };
        self.accounts[a].integration = Some(Box::new(integration));
        self.add_quote_expiries(a);
        Ok(())
    }

    /// `DeleteIntegration`: the account is an ordinary account again (its warehouse `vtex`, its
    /// prices and stock stay; nothing is deleted but the link and its quotes).
    pub(crate) fn delete_integration(&mut self, account: &str, work: &mut Work) -> Result<()> {
        let a = self.account_idx(account)?;
        let old = self.accounts[a].integration.take().ok_or_else(|| {
            DomainError::not_found(Missing::Integration, account, format!("the integration of account `{account}`"))
        })?;
        self.drop_quote_expiries_of(a, Some(&old));
        Self::forget_quotes(a, Some(&old), work);
        Ok(())
    }

    /// Warehouse `vtex` of account `a`, created (or made to serve trade policy `1`) when it does
    /// not (yet); the SKUs stocked there are settled again when what it serves changes.
    fn vtex_warehouse(&mut self, a: AccountIdx) -> Result<WhIdx> {
        let acct = &self.accounts[a];
        if let Some(&w) = acct.wh_index.get(VTEX_WAREHOUSE) {
            if !acct.warehouses[w].trade_policies.contains(&DEFAULT_TRADE_POLICY) {
                return Err(DomainError::conflict(format!(
                    "warehouse `{VTEX_WAREHOUSE}` of account `{}` does not serve trade policy `1`: make it serve `1` \
                     (PUT …/warehouses/{VTEX_WAREHOUSE}) or it cannot hold the external seller's stock",
                    acct.id
                )));
            }
            return Ok(w);
        }
        if acct.warehouses.len() >= crate::validate::MAX_WAREHOUSES {
            return Err(DomainError::conflict(format!(
                "account `{}` has {} warehouses, the most it may hold: warehouse `{VTEX_WAREHOUSE}` cannot be made",
                acct.id,
                crate::validate::MAX_WAREHOUSES
            )));
        }
        let acct = &mut self.accounts[a];
        let w = WhIdx::new(acct.warehouses.len());
        let id: Arc<str> = Arc::from(VTEX_WAREHOUSE);
        acct.warehouses.push(Warehouse { id: id.clone(), trade_policies: vec![DEFAULT_TRADE_POLICY] });
        acct.wh_index.insert(id, w);
        Ok(w)
    }

    /// The quoted SKUs of a seller link being removed: those that were stale are not any more.
    fn forget_quotes(a: AccountIdx, old: Option<&Integration>, work: &mut Work) {
        if let Some(Integration::Seller(s)) = old {
            work.dirty.extend(s.quotes.iter().filter(|(_, q)| q.stale).map(|(&sku, _)| (a, sku)));
        }
    }

    /// Removes account `a`'s pending quote expiries from the index.
    fn drop_quote_expiries(&mut self, a: AccountIdx) {
        let old = self.accounts[a].integration.take();
        self.drop_quote_expiries_of(a, old.as_deref());
        self.accounts[a].integration = old;
    }

    fn drop_quote_expiries_of(&mut self, a: AccountIdx, i: Option<&Integration>) {
        if let Some(Integration::Seller(s)) = i {
            for (&sku, q) in s.quotes.iter().filter(|(_, q)| !q.stale) {
                self.quote_expiry.remove(&(s.due_ms(q.fetched_ms), a, sku));
            }
        }
    }

    /// Adds account `a`'s fresh quotes to the expiry index.
    pub(crate) fn add_quote_expiries(&mut self, a: AccountIdx) {
        if let Some(s) = self.accounts[a].seller_link() {
            for (&sku, q) in s.quotes.iter().filter(|(_, q)| !q.stale) {
                self.quote_expiry.insert((s.due_ms(q.fetched_ms), a, sku));
            }
        }
    }

    /// `ApplySellerQuotes`: for each quoted SKU, the base price and list price (when given) and
    /// the quantity at warehouse `vtex` = `available` + R, the units reserved there by open
    /// sub orders already placed at the seller (its answer leaves those out; orders not placed
    /// yet still reduce what others see), and never below what is reserved. A quote older than the
    /// SKU's current one is skipped (answers may arrive out of order). Fresh quotes clear
    /// `quote_stale`; one already past its TTL is stale at once.
    pub(crate) fn apply_seller_quotes(
        &mut self,
        seller: &str,
        fetched_ms: u64,
        quotes: &[QuoteBody],
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        check_quotes(fetched_ms, now_ms, quotes)?;
        let a = self.account_idx(seller)?;
        let Some(link) = self.accounts[a].seller_link() else {
            return Err(DomainError::conflict(format!(
                "account `{seller}` is not an external seller: quotes apply only to an account whose integration has \
                 role `seller`"
            )));
        };
        let (wh, due) = (link.warehouse, link.due_ms(fetched_ms));
        let mut skus = Vec::with_capacity(quotes.len());
        for q in quotes {
            skus.push(self.sku_of(a, &q.sku)?);
        }
        let stale = due <= now_ms;
        for (q, &s) in quotes.iter().zip(&skus) {
            let link = self.accounts[a].seller_link().expect("checked above");
            let prev = link.quotes.get(&s).copied();
            if prev.is_some_and(|p| p.fetched_ms > fetched_ms) {
                continue;
            }
            if let Some(p) = prev.filter(|p| !p.stale) {
                self.quote_expiry.remove(&(link.due_ms(p.fetched_ms), a, s));
            }
            if !stale {
                self.quote_expiry.insert((due, a, s));
            }
            let acct = &mut self.accounts[a];
            let quote = Quote { fetched_ms, valid_until_ms: q.valid_until_ms, stale };
            if let Some(Integration::Seller(l)) = acct.integration.as_deref_mut() {
                l.quotes.insert(s, quote);
            }
            let placed = self.placed_reserved(a, s, wh);
            let acct = &mut self.accounts[a];
            let item = &mut acct.skus[s];
            if let Some(price) = q.price {
                item.price = PriceSlot::new(Some(Price { price, list_price: q.list_price }));
            }
            let available = q.available as u64;
            match item.stock.iter_mut().find(|e| e.warehouse == wh) {
                // Never below what is reserved: when the seller has fewer than offernet's
                // not-yet-placed orders hold, others see 0, and the placements find out.
                Some(e) => e.quantity = Qty(available.saturating_add(placed).max(e.reserved)),
                None => item.stock.push(StockEntry { warehouse: wh, quantity: Qty(available), reserved: 0 }),
            }
            work.dirty.push((a, s));
        }
        Ok(())
    }

    /// `ExpireQuotes`: every quote whose fetch plus its TTL is at or before `now_ms` is stale.
    pub(crate) fn expire_quotes(&mut self, now_ms: u64, work: &mut Work) {
        while let Some(&(due, a, s)) = self.quote_expiry.first() {
            if due > now_ms {
                break;
            }
            self.quote_expiry.pop_first();
            if let Some(Integration::Seller(l)) = self.accounts[a].integration.as_deref_mut() {
                if let Some(q) = l.quotes.get_mut(&s) {
                    q.stale = true;
                }
            }
            work.dirty.push((a, s));
        }
    }
}
