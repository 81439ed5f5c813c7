//! An integration as `GET …/integration` shows it (never a secret: there is none here), an
//! external seller's quotes, and what the server's ticker and route checks read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{DefaultDimensionsBody, PROTOCOL_VTEX, VTEX_WAREHOUSE};
use crate::error::{DomainError, Missing, Result};
use crate::model::{Integration, SkuIdx};
use crate::state::Engine;

/// An account's integration: the body of its PUT with every default filled in. The fields of
/// the other role are absent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Integration))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationView {
    pub protocol: Arc<str>,
    /// `seller` or `marketplace`.
    pub role: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_endpoint: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<Arc<str>>,
    /// Role seller: `null` when none is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_id: Option<Option<Arc<str>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_ttl_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_minutes: Option<u32>,
    /// Role seller: `null` when none is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_email: Option<Option<Arc<str>>>,
    /// Role seller: the warehouse its quotes write (`vtex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions_base: Option<Arc<str>>,
    /// Role marketplace: `null` when none are configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dimensions: Option<Option<DefaultDimensionsBody>>,
}

/// One quote of an external seller: when it was fetched, E's `priceValidUntil`, and whether it
/// is past its TTL.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Quote))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteView {
    pub sku: Arc<str>,
    pub fetched_ms: u64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub valid_until_ms: Option<u64>,
    pub stale: bool,
}

fn missing(account: &str) -> DomainError {
    DomainError::not_found(Missing::Integration, account, format!("the integration of account `{account}`"))
}

fn view(i: &Integration) -> IntegrationView {
    let mut v = IntegrationView {
        protocol: Arc::from(PROTOCOL_VTEX),
        role: Arc::from(i.role()),
        fulfillment_endpoint: None,
        sales_channel: None,
        affiliate_id: None,
        quote_ttl_minutes: None,
        refresh_minutes: None,
        follow_up_email: None,
        warehouse: None,
        api_base: None,
        suggestions_base: None,
        default_dimensions: None,
    };
    match i {
        Integration::Seller(s) => {
            v.fulfillment_endpoint = Some(s.fulfillment_endpoint.clone());
            v.sales_channel = Some(s.sales_channel.clone());
            v.affiliate_id = Some(s.affiliate_id.clone());
            v.quote_ttl_minutes = Some(s.quote_ttl_minutes);
            v.refresh_minutes = Some(s.refresh_minutes);
            v.follow_up_email = Some(s.follow_up_email.clone());
            v.warehouse = Some(Arc::from(VTEX_WAREHOUSE));
        }
        Integration::Marketplace(m) => {
            v.api_base = Some(m.api_base.clone());
            v.suggestions_base = Some(m.suggestions_base.clone());
            v.default_dimensions = Some(m.default_dimensions.map(|[h, w, l, g]| DefaultDimensionsBody {
                height: Some(h.number()),
                width: Some(w.number()),
                length: Some(l.number()),
                weight_g: Some(g.number()),
            }));
        }
    }
    v
}

impl Engine {
    /// The role of an account's integration (`seller`, `marketplace`), without building its
    /// view: `None` for an account without one or unknown. For checks made per event.
    pub fn integration_role(&self, account: &str) -> Option<&'static str> {
        let a = &self.accounts[self.account_idx(account).ok()?];
        a.integration.as_deref().map(|i| i.role())
    }

    /// An account's integration (404 when it has none).
    pub fn integration(&self, account: &str) -> Result<IntegrationView> {
        let a = &self.accounts[self.account_idx(account)?];
        a.integration.as_deref().map(view).ok_or_else(|| missing(account))
    }

    /// An external seller's quotes, by SKU id (404 for an account that is not one).
    pub fn seller_quotes(&self, account: &str) -> Result<Vec<QuoteView>> {
        let a = &self.accounts[self.account_idx(account)?];
        let link = a.seller_link().ok_or_else(|| missing(account))?;
        let mut out: Vec<QuoteView> = link
            .quotes
            .iter()
            .map(|(&s, q)| QuoteView {
                sku: a.skus[s].id.clone(),
                fetched_ms: q.fetched_ms,
                valid_until_ms: q.valid_until_ms,
                stale: q.stale,
            })
            .collect();
        out.sort_by(|x, y| x.sku.cmp(&y.sku));
        Ok(out)
    }

    /// The accounts that mirror an external seller (role `seller`), sorted: the quote worker's
    /// sweep asks each of them for its quotes.
    pub fn external_sellers(&self) -> Vec<Arc<str>> {
        let mut out: Vec<Arc<str>> =
            self.accounts.iter().filter(|a| a.seller_link().is_some()).map(|a| a.id.clone()).collect();
        out.sort();
        out
    }

    /// When the next fresh quote goes stale: the server submits `ExpireQuotes` once it is due.
    pub fn next_quote_expiry_ms(&self) -> Option<u64> {
        self.quote_expiry.first().map(|&(due, _, _)| due)
    }

    /// Whether a `/v1` write of `account`'s prices (`warehouse` `None`) or of its stock at
    /// `warehouse` is the external seller's own to make: its prices, its stock at `vtex`, and
    /// warehouse `vtex` itself change only through quotes (409 `managed_externally`, except for
    /// the operator). False for an unknown account (the write answers 404 itself).
    pub fn managed_externally(&self, account: &str, warehouse: Option<&str>) -> bool {
        let Some(&a) = self.account_index.get(account) else { return false };
        self.accounts[a].seller_link().is_some() && warehouse.is_none_or(|w| w == VTEX_WAREHOUSE)
    }

    /// Checks the quote-expiry index against the quotes it is made from.
    pub(crate) fn check_quote_expiry(&self) -> std::result::Result<(), String> {
        let mut want = std::collections::BTreeSet::new();
        for (ai, acct) in self.accounts.iter().enumerate() {
            if let Some(l) = acct.seller_link() {
                if acct.warehouses.get(l.warehouse.ix()).is_none_or(|w| &*w.id != VTEX_WAREHOUSE) {
                    return Err(format!("account `{}`: its seller link's warehouse is not `vtex`", acct.id));
                }
                for (&s, q) in l.quotes.iter().filter(|(_, q)| !q.stale) {
                    want.insert((l.due_ms(q.fetched_ms), crate::model::AccountIdx::new(ai), s));
                }
                if l.quotes.keys().any(|s: &SkuIdx| s.ix() >= acct.skus.len()) {
                    return Err(format!("account `{}`: a quote names no SKU", acct.id));
                }
            }
        }
        if want != self.quote_expiry {
            return Err("the quote-expiry index differs from the fresh quotes".into());
        }
        Ok(())
    }
}
