//! An account's integration with an outside system (`integration/` holds its commands and
//! checks; vtex-compat.md §3.1): the account is a *mirror* of an external VTEX seller (role
//! `seller`) or of an external VTEX marketplace (role `marketplace`). Secrets are never here:
//! the server keeps the app key and token outside the journal.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Centi, SkuIdx, WhIdx};

/// One account's integration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integration {
    /// The account mirrors an external seller E: its prices and its stock at warehouse `vtex`
    /// come only from quotes (`ApplySellerQuotes`).
    Seller(SellerLink),
    /// The account mirrors an external VTEX marketplace V.
    Marketplace(MarketplaceLink),
}

impl Integration {
    pub fn role(&self) -> &'static str {
        match self {
            Integration::Seller(_) => "seller",
            Integration::Marketplace(_) => "marketplace",
        }
    }
    pub fn seller(&self) -> Option<&SellerLink> {
        match self {
            Integration::Seller(s) => Some(s),
            Integration::Marketplace(_) => None,
        }
    }
}

/// Role `seller`: where offernet calls E, and how fresh E's quotes must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerLink {
    /// E's fulfillment endpoint (`https://…/api/fulfillment`); A1–A4 append VTEX's paths.
    pub fulfillment_endpoint: Arc<str>,
    /// E's trade policy (VTEX `sc`) that offernet buys under.
    pub sales_channel: Arc<str>,
    /// VTEX's affiliate id of offernet at E (`affiliateId`), when E expects one.
    pub affiliate_id: Option<Arc<str>>,
    /// A quote older than this is stale (`quote_stale`).
    pub quote_ttl_minutes: u32,
    /// The sweep asks E again for every quote older than this.
    pub refresh_minutes: u32,
    /// Answered as `followUpEmail` on placements, when set.
    pub follow_up_email: Option<Arc<str>>,
    /// The mirror warehouse `vtex`, which quotes write.
    pub warehouse: WhIdx,
    /// The newest quote of each SKU that has one.
    pub quotes: BTreeMap<SkuIdx, Quote>,
}

impl SellerLink {
    /// When a quote fetched at `fetched_ms` becomes stale.
    pub fn due_ms(&self, fetched_ms: u64) -> u64 {
        fetched_ms.saturating_add(self.quote_ttl_minutes as u64 * 60_000)
    }
    /// Whether SKU `sku`'s quote is stale (`quote_stale`).
    #[inline]
    pub fn stale(&self, sku: SkuIdx) -> bool {
        self.quotes.get(&sku).is_some_and(|q| q.stale)
    }
}

/// What the last answer of E said about one SKU, beyond the price and stock it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    /// When offernet asked E (the worker's clock, carried by the command).
    pub fetched_ms: u64,
    /// E's `priceValidUntil`, for the worker's sweep (not for staleness: VTEX's own examples
    /// carry dates long past).
    pub valid_until_ms: Option<u64>,
    /// `fetched_ms` + the TTL has passed (set by `ExpireQuotes`, cleared by the next quote).
    pub stale: bool,
}

/// Role `marketplace`: where offernet calls V.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketplaceLink {
    /// V's API base (`https://{account}.vtexcommercestable.com.br/api`).
    pub api_base: Arc<str>,
    /// V's suggestions base (`https://api.vtex.com/{account}`).
    pub suggestions_base: Arc<str>,
    /// Measures sent in a suggestion for a SKU that has none: height, width, length (cm) and
    /// weight (g).
    pub default_dimensions: Option<[Centi; 4]>,
}
