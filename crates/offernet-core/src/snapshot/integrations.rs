//! The integration section of a snapshot (format 4 on): after the webhooks, every account's
//! integration under its account's index, an external seller's quotes with it. Written and
//! read here, side by side. The quote-expiry index is derived and rebuilt on load.

use std::collections::BTreeMap;

use super::codec::{DResult, R, W};
use crate::model::*;
use crate::state::Engine;

/// Codes of an integration's role.
const ROLE_SELLER: u8 = 0;
const ROLE_MARKETPLACE: u8 = 1;

impl Engine {
    pub(super) fn encode_integrations(&self, w: &mut W) {
        let with: Vec<(usize, &Integration)> =
            self.accounts.iter().enumerate().filter_map(|(i, a)| Some((i, a.integration.as_deref()?))).collect();
        w.u32(with.len() as u32);
        for (ai, i) in with {
            w.account(AccountIdx::new(ai));
            match i {
                Integration::Seller(s) => {
                    w.u8(ROLE_SELLER);
                    w.str(&s.fulfillment_endpoint);
                    w.str(&s.sales_channel);
                    w.opt_str(&s.affiliate_id);
                    w.u32(s.quote_ttl_minutes);
                    w.u32(s.refresh_minutes);
                    w.opt_str(&s.follow_up_email);
                    w.wh(s.warehouse);
                    w.u32(s.quotes.len() as u32);
                    for (&sku, q) in &s.quotes {
                        w.sku(sku);
                        w.u64(q.fetched_ms);
                        w.opt(q.valid_until_ms, |w, v| w.u64(v));
                        w.bool(q.stale);
                    }
                }
                Integration::Marketplace(m) => {
                    w.u8(ROLE_MARKETPLACE);
                    w.str(&m.api_base);
                    w.str(&m.suggestions_base);
                    w.opt(m.default_dimensions, |w, d| {
                        for c in d {
                            w.u64(c.0);
                        }
                    });
                }
            }
        }
    }

    pub(super) fn decode_integrations(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.account()?;
            let i = match r.code("integration role", |c| (c <= ROLE_MARKETPLACE).then_some(c))? {
                ROLE_SELLER => {
                    let fulfillment_endpoint = r.str()?;
                    let sales_channel = r.str()?;
                    let affiliate_id = r.opt_str()?;
                    let quote_ttl_minutes = r.u32()?;
                    let refresh_minutes = r.u32()?;
                    let follow_up_email = r.opt_str()?;
                    let warehouse = r.wh()?;
                    let mut quotes = BTreeMap::new();
                    for _ in 0..r.u32()? {
                        let sku = r.sku()?;
                        let quote =
                            Quote { fetched_ms: r.u64()?, valid_until_ms: r.opt(|r| r.u64())?, stale: r.bool()? };
                        quotes.insert(sku, quote);
                    }
                    Integration::Seller(SellerLink {
                        fulfillment_endpoint,
                        sales_channel,
                        affiliate_id,
                        quote_ttl_minutes,
                        refresh_minutes,
                        follow_up_email,
                        warehouse,
                        quotes,
                    })
                }
                _ => Integration::Marketplace(MarketplaceLink {
                    api_base: r.str()?,
                    suggestions_base: r.str()?,
                    default_dimensions: r
                        .opt(|r| Ok([Centi(r.u64()?), Centi(r.u64()?), Centi(r.u64()?), Centi(r.u64()?)]))?,
                }),
            };
            let account = self.accounts.get_mut(a.ix()).ok_or("snapshot names an account that does not exist")?;
            account.integration = Some(Box::new(i));
            self.add_quote_expiries(a);
        }
        Ok(())
    }
}
