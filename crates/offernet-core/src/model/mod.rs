//! Ground state of the offer network and the small value types the engine computes with.
//!
//! Indices (`AccountIdx`, `SkuIdx`, `TpIdx`, `WhIdx`) are positions in vectors, assigned in
//! creation order and never reused (nothing is ever deleted), so the same command sequence
//! always yields the same indices. Ids (strings) are what users see; indices are what the
//! hot path compares.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fx::{FxHashMap, FxHashSet};

mod content;
mod few;
mod index;
mod integration;
mod shipping;
mod sku_index;
mod values;
mod webhook;

pub use content::{Centi, Dimensions, SkuContent};
pub use few::Few;
pub use index::{AccountIdx, SkuIdx, TpIdx, WhIdx};
pub use integration::{Integration, MarketplaceLink, Quote, SellerLink};
pub use shipping::{ShippingProfile, Sla};
pub use sku_index::SkuIndex;
pub use values::*;
pub use webhook::{pattern_matches, Webhook};

index::indexes!(AccountIdx => Account, SkuIdx => Sku, TpIdx => TradePolicy, WhIdx => Warehouse);

/// Trade policy `1` exists in every account from the start, at index 0.
pub const DEFAULT_TRADE_POLICY: TpIdx = TpIdx(0);

/// Stock of one SKU in one warehouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockEntry {
    pub warehouse: WhIdx,
    /// Units on hand, or unlimited.
    pub quantity: Qty,
    /// Units promised to open orders (always ≤ quantity unless unlimited).
    pub reserved: u64,
}

impl StockEntry {
    pub fn available(&self) -> Qty {
        if self.quantity.is_unlimited() {
            Qty::UNLIMITED
        } else {
            Qty(self.quantity.0.saturating_sub(self.reserved))
        }
    }
}

/// What a SKU says about its product, as rule 9 copies it from a seller's SKU to the
/// marketplace SKU made from it: held once (`Sku::info`, an `Arc`) by both, until either is
/// put again. Never read by derivation; matching reads `ean`, `ref_id` and `brand`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkuInfo {
    pub name: Arc<str>,
    pub brand: Option<Arc<str>>,
    pub category: Option<Arc<str>>,
    /// The GTIN as the user wrote it, and its GTIN-14 value for comparisons.
    pub ean: Option<(Arc<str>, u64)>,
    pub ref_id: Option<Arc<str>>,
    /// Description, images and dimensions for channels; `None` when there are none.
    pub content: Option<Arc<SkuContent>>,
}

impl SkuInfo {
    /// A name and nothing else.
    pub fn named(name: Arc<str>) -> SkuInfo {
        SkuInfo { name, brand: None, category: None, ean: None, ref_id: None, content: None }
    }
}

#[derive(Clone, Debug)]
pub struct Sku {
    pub id: Arc<str>,
    /// Name, brand, category, GTIN, ref_id and content: shared with the SKUs made from this
    /// one (rule 9), so a chain of copies holds them once.
    pub info: Arc<SkuInfo>,
    /// Not shared: a SKU made from a suggestion has `{seller}-{product_id}` (rule 9).
    pub product_id: Option<Arc<str>>,
    pub active: bool,
    /// The base price, if any (`PriceSlot`: an `Option<Price>` in half the bytes).
    pub price: PriceSlot,
    /// Fixed prices per trade policy; they replace price and list price together. A boxed
    /// slice, not a `Vec` (8 bytes less per SKU, no spare capacity): they change rarely.
    pub tp_prices: Box<[(TpIdx, Price)]>,
    /// Stock per warehouse, most often one entry (`Few`: held in place, no heap block).
    pub stock: Few<StockEntry>,
    /// Downstream: the marketplace SKUs this SKU is bound to, as (marketplace, its SKU).
    pub bound_at: Few<(AccountIdx, SkuIdx)>,
    /// Upstream: seller SKUs bound to this SKU, as (seller, seller SKU).
    pub sources: Few<(AccountIdx, SkuIdx)>,
    /// The suggestion that created this SKU, if one did (domain rule 29 reuses its id).
    pub created_from: Option<(AccountIdx, SkuIdx)>,
}

impl Sku {
    /// An active SKU with nothing but its id and name: no price, stock or bindings yet.
    pub fn new(id: Arc<str>, info: Arc<SkuInfo>) -> Sku {
        Sku {
            id,
            info,
            product_id: None,
            active: true,
            price: PriceSlot::NONE,
            tp_prices: Box::new([]),
            stock: Few::default(),
            bound_at: Few::default(),
            sources: Few::default(),
            created_from: None,
        }
    }

    /// Price for a trade policy: its fixed price if any, else the base price (rule 3).
    #[inline]
    pub fn price_for(&self, tp: TpIdx) -> Option<Price> {
        self.tp_prices.iter().find(|(t, _)| *t == tp).map(|(_, p)| *p).or(self.price.get())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assortment {
    All,
    /// The ids as given (in order, deduplicated) and a set for lookups. Ids of SKUs that
    /// do not exist (yet) are allowed (rule 3).
    List(Vec<Arc<str>>, FxHashSet<Arc<str>>),
}

impl Assortment {
    #[inline]
    pub fn contains(&self, sku_id: &str) -> bool {
        match self {
            Assortment::All => true,
            Assortment::List(_, set) => set.contains(sku_id),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TradePolicy {
    pub id: Arc<str>,
    pub name: Option<Arc<str>>,
    pub assortment: Assortment,
    /// The link to a SKU's page on this trade policy's channel, with `{sku}` where the SKU id
    /// goes (`https://shop.example/p/{sku}`); shown, never read by derivation.
    pub product_url: Option<Arc<str>>,
}

#[derive(Clone, Debug)]
pub struct Warehouse {
    pub id: Arc<str>,
    /// The trade policies this warehouse serves (its docks).
    pub trade_policies: Vec<TpIdx>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resale {
    None,
    All,
    /// Account ids (sorted, deduplicated); they may not exist yet.
    List(Vec<Arc<str>>),
}

impl Assortment {
    /// Ids listed (0 for `all`).
    pub fn id_count(&self) -> usize {
        match self {
            Assortment::All => 0,
            Assortment::List(ids, _) => ids.len(),
        }
    }
}

impl Resale {
    /// Accounts listed (0 for `none` and `all`).
    pub fn id_count(&self) -> usize {
        match self {
            Resale::List(ids) => ids.len(),
            _ => 0,
        }
    }

    #[inline]
    pub fn authorises(&self, account_id: &str) -> bool {
        match self {
            Resale::None => false,
            Resale::All => true,
            Resale::List(l) => l.binary_search_by(|a| (**a).cmp(account_id)).is_ok(),
        }
    }
}

/// The seller's half of a connection (its affiliation with a marketplace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affiliation {
    pub trade_policy: TpIdx,
    pub active: bool,
    pub resale: Resale,
    pub require_own_stock: bool,
    /// The seller's id at an external marketplace (VTEX `seller`), when not its account id.
    pub remote_seller_id: Option<Arc<str>>,
    /// The e-mail address an external marketplace's placement answer gives its customers (VTEX
    /// `followUpEmail`), when set.
    pub follow_up_email: Option<Arc<str>>,
}

/// The stock gate (rules 6 and 13): a forwarder (a SKU with upstream sources) whose
/// affiliation requires own stock offers nothing while its own stock is zero. The one
/// definition, used by offers, explain, sending and orders alike; a missing half (`None`)
/// does not gate.
#[inline]
pub fn stock_gated(item: &Sku, aff: Option<&Affiliation>, own: Qty) -> bool {
    !item.sources.is_empty() && aff.is_some_and(|x| x.require_own_stock) && own.is_zero()
}

/// An origin of stock (rule 27): a SKU that has own stock, or that forwards nothing.
#[inline]
pub fn is_origin(item: &Sku, own: Qty) -> bool {
    !own.is_zero() || item.sources.is_empty()
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    Auto,
    Score,
    Manual,
}

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Auto => "auto",
            MatchMode::Score => "score",
            MatchMode::Manual => "manual",
        }
    }
}

/// The marketplace's half of a connection (its registration of a seller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub trade_policies: Vec<TpIdx>,
    pub active: bool,
    pub match_mode: MatchMode,
    pub commission_bp: u16,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStatus {
    Pending,
    Approved,
    Denied,
}

impl SuggestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::Pending => "pending",
            SuggestionStatus::Approved => "approved",
            SuggestionStatus::Denied => "denied",
        }
    }
}

/// What a marketplace sees of a bound seller SKU. Derived: only the engine's propagation
/// writes it, always to the value `eval_offer` computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OfferState {
    pub price: Option<Price>,
    pub quantity: Qty,
    pub reasons: Reasons,
}

impl OfferState {
    pub fn sellable(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// A seller SKU sent to a marketplace. Approved means bound to a marketplace SKU (`sku()`),
/// and then `offer()` holds the derived offer. Packed in 32 bytes, since a marketplace's
/// suggestion map holds one per offer (the plain form, an `Option` of each part, took 64):
/// read and written through its methods.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Suggestion {
    price: PriceSlot,
    quantity: Qty,
    /// The bound SKU's position, `NO_SKU` when unbound.
    sku: u32,
    reasons: Reasons,
    status: SuggestionStatus,
    has_offer: bool,
}

impl Suggestion {
    const NO_SKU: u32 = u32::MAX;

    /// A suggestion with no offer yet.
    pub fn new(status: SuggestionStatus, sku: Option<SkuIdx>) -> Suggestion {
        let mut s = Suggestion {
            price: PriceSlot::NONE,
            quantity: Qty::ZERO,
            sku: Self::NO_SKU,
            reasons: Reasons::EMPTY,
            status,
            has_offer: false,
        };
        s.set_sku(sku);
        s
    }
    #[inline]
    pub fn status(&self) -> SuggestionStatus {
        self.status
    }
    #[inline]
    pub fn set_status(&mut self, status: SuggestionStatus) {
        self.status = status;
    }
    #[inline]
    pub fn sku(&self) -> Option<SkuIdx> {
        (self.sku != Self::NO_SKU).then_some(SkuIdx(self.sku))
    }
    #[inline]
    pub fn set_sku(&mut self, sku: Option<SkuIdx>) {
        debug_assert!(sku != Some(SkuIdx(Self::NO_SKU)), "a SKU position out of range");
        self.sku = sku.map_or(Self::NO_SKU, |k| k.0);
    }
    #[inline]
    pub fn offer(&self) -> Option<OfferState> {
        self.has_offer.then(|| OfferState { price: self.price.get(), quantity: self.quantity, reasons: self.reasons })
    }
    #[inline]
    pub fn set_offer(&mut self, offer: Option<OfferState>) {
        let st = offer.unwrap_or(OfferState { price: None, quantity: Qty::ZERO, reasons: Reasons::EMPTY });
        (self.price, self.quantity, self.reasons, self.has_offer) =
            (PriceSlot::new(st.price), st.quantity, st.reasons, offer.is_some());
    }
}

impl std::fmt::Debug for Suggestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suggestion")
            .field("status", &self.status)
            .field("sku", &self.sku())
            .field("offer", &self.offer())
            .finish()
    }
}

/// One of an account's API tokens. The server chooses its id and secret; the engine keeps
/// only the hash (a secret never enters the journal or a snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub name: Arc<str>,
    /// Lowercase hex SHA-256 of the whole token as the client sends it.
    pub hash: Arc<str>,
    /// The creating command's time (ms since the Unix epoch).
    pub created_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: Arc<str>,
    /// Changed by `PatchAccount`; the id never changes.
    pub name: Arc<str>,
    pub currency: Arc<str>,
    /// API tokens by id (`accounts.rs`): the one made with the account is `initial`; at most
    /// `MAX_TOKENS_PER_ACCOUNT`.
    pub tokens: BTreeMap<Arc<str>, Token>,
    /// Webhook subscriptions by id (`webhooks/`); at most `MAX_WEBHOOKS_PER_ACCOUNT`.
    pub webhooks: BTreeMap<Arc<str>, Webhook>,
    pub skus: Vec<Sku>,
    /// SKUs by id (positions only; the ids are read from `skus`).
    pub sku_index: SkuIndex,
    /// Matching indexes of this account's catalog (as a marketplace): GTIN-14 → SKUs, and
    /// (ref_id, lowercased brand) → SKUs.
    pub gtin_index: FxHashMap<u64, Vec<SkuIdx>>,
    pub ref_index: FxHashMap<(Arc<str>, String), Vec<SkuIdx>>,
    pub trade_policies: Vec<TradePolicy>,
    pub tp_index: FxHashMap<Arc<str>, TpIdx>,
    pub warehouses: Vec<Warehouse>,
    pub wh_index: FxHashMap<Arc<str>, WhIdx>,
    /// Seller halves, by marketplace.
    pub affiliations: BTreeMap<AccountIdx, Affiliation>,
    /// Marketplace halves, by seller.
    pub sellers: BTreeMap<AccountIdx, Registration>,
    /// Suggestions received, by (seller, seller SKU).
    pub suggestions: FxHashMap<(AccountIdx, SkuIdx), Suggestion>,
    /// The outside system this account mirrors, if any (`integration/`); boxed, since few
    /// accounts have one.
    pub integration: Option<Box<Integration>>,
    /// The seller's shipping profile (`shipping.rs`), when set.
    pub shipping: Option<Arc<ShippingProfile>>,
}

impl Account {
    /// Ids held in this account's assortment and resale lists (`MAX_ACCOUNT_LIST_IDS`).
    pub fn list_ids(&self) -> usize {
        let assortments: usize = self.trade_policies.iter().map(|t| t.assortment.id_count()).sum();
        let resale: usize = self.affiliations.values().map(|a| a.resale.id_count()).sum();
        assortments + resale
    }

    /// An account with trade policy `1` and nothing else (no token yet).
    pub fn new(id: Arc<str>, name: Arc<str>, currency: Arc<str>) -> Self {
        let one: Arc<str> = Arc::from("1");
        let mut tp_index = FxHashMap::default();
        tp_index.insert(one.clone(), DEFAULT_TRADE_POLICY);
        Account {
            id,
            name,
            currency,
            tokens: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            skus: Vec::new(),
            sku_index: SkuIndex::default(),
            gtin_index: FxHashMap::default(),
            ref_index: FxHashMap::default(),
            trade_policies: vec![TradePolicy { id: one, name: None, assortment: Assortment::All, product_url: None }],
            tp_index,
            warehouses: Vec::new(),
            wh_index: FxHashMap::default(),
            affiliations: BTreeMap::new(),
            sellers: BTreeMap::new(),
            suggestions: FxHashMap::default(),
            integration: None,
            shipping: None,
        }
    }

    pub fn sku_idx(&self, id: &str) -> Option<SkuIdx> {
        self.sku_index.get(&self.skus, id)
    }
    pub fn tp_idx(&self, id: &str) -> Option<TpIdx> {
        self.tp_index.get(id).copied()
    }
    /// The stock entries of SKU `sku` in the warehouses serving trade policy `tp` (rule 13).
    /// The one definition of "warehouses serving a trade policy": offers, explain, sending
    /// and orders all read own stock through it.
    #[inline]
    pub fn serving_stock(&self, sku: SkuIdx, tp: TpIdx) -> impl Iterator<Item = &StockEntry> + '_ {
        self.skus[sku].stock.iter().filter(move |e| self.warehouses[e.warehouse].trade_policies.contains(&tp))
    }
    /// Own stock of SKU `sku` for trade policy `tp`: `available` of each serving warehouse,
    /// summed (orders pass what their plan leaves; offers pass `StockEntry::available`).
    #[inline]
    pub fn own_stock(&self, sku: SkuIdx, tp: TpIdx, available: impl Fn(&StockEntry) -> Qty) -> Qty {
        self.serving_stock(sku, tp).fold(Qty::ZERO, |q, e| q.plus(available(e)))
    }
    /// Available own stock of SKU `sku` for trade policy `tp` (rule 13).
    #[inline]
    pub fn own_available(&self, sku: SkuIdx, tp: TpIdx) -> Qty {
        self.own_stock(sku, tp, StockEntry::available)
    }
    /// The external seller link, when this account mirrors one.
    #[inline]
    pub fn seller_link(&self) -> Option<&SellerLink> {
        self.integration.as_deref().and_then(Integration::seller)
    }
    /// Whether SKU `sku`'s price and stock come from an external seller's quote that is older
    /// than its TTL (`quote_stale`).
    #[inline]
    pub fn quote_stale(&self, sku: SkuIdx) -> bool {
        self.seller_link().is_some_and(|l| l.stale(sku))
    }
    #[inline]
    pub fn in_assortment(&self, tp: TpIdx, sku: SkuIdx) -> bool {
        self.trade_policies[tp].assortment.contains(&self.skus[sku].id)
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use std::mem::size_of;

    /// The records a network holds millions of keep their measured sizes (BENCHMARKS.md,
    /// "memory"): a larger one shows here before it shows in the figures.
    #[test]
    fn the_records_held_per_offer_keep_their_sizes() {
        assert_eq!(size_of::<Suggestion>(), 32);
        assert_eq!(size_of::<((AccountIdx, SkuIdx), Suggestion)>(), 40);
        assert_eq!(size_of::<PriceSlot>(), 16);
        assert!(size_of::<Sku>() <= 152, "Sku is {} bytes", size_of::<Sku>());
    }
}
