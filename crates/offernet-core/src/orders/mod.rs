//! Simulation and orders (domain.md "Simulation and orders"): a cart priced against the live
//! offers, and orders that reserve stock atomically along the whole chain, fill from the
//! seller's own warehouses first and then from authorised upstream sources (chain orders),
//! and release or consume exactly what they reserved.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fx::FxHashMap;
use crate::model::*;

mod check;
mod lifecycle;
mod place;
pub(crate) mod read;

/// Items per order or simulation: a cart, not a catalog export.
pub const MAX_ORDER_ITEMS: usize = 100;
/// Units of one item.
pub const MAX_ORDER_QUANTITY: i64 = 1_000_000;
/// Default reservation time before an unauthorised order expires: 30 minutes.
pub const DEFAULT_RESERVATION_MS: u64 = 30 * 60 * 1000;
/// Longest reservation a marketplace may configure: 7 days.
pub const MAX_RESERVATION_MINUTES: i64 = 7 * 24 * 60;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Reserved,
    Authorized,
    Invoiced,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Reserved => "reserved",
            OrderStatus::Authorized => "authorized",
            OrderStatus::Invoiced => "invoiced",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }
    fn open(self) -> bool {
        matches!(self, OrderStatus::Reserved | OrderStatus::Authorized)
    }
}

/// One line of a seller order or chain order: units of the seller's SKU sold to its buyer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubItem {
    pub sku: SkuIdx,
    pub quantity: u64,
    /// Unit price the seller charges its buyer.
    pub price: i64,
    /// Units reserved in the seller's own warehouses (the rest comes from chain orders).
    pub reservations: Vec<(WhIdx, u64)>,
}

/// A seller order (buyer: the marketplace) or a chain order (buyer: the seller below).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubOrder {
    pub id: Arc<str>,
    pub seller: AccountIdx,
    pub buyer: AccountIdx,
    pub status: OrderStatus,
    pub items: Vec<SubItem>,
    pub parent: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItem {
    pub sku: SkuIdx,
    pub quantity: u64,
    pub seller: AccountIdx,
    pub price: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: Arc<str>,
    pub marketplace: AccountIdx,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    /// The request as given, for idempotency: (sku, quantity, seller).
    pub request: Vec<(String, u64, String)>,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub subs: Vec<SubOrder>,
}

/// Order state kept by the engine.
#[derive(Clone, Debug, Default)]
pub struct Orders {
    pub list: Vec<Order>,
    /// (account, order id) → (order, sub order or `None` for the marketplace's own order).
    pub index: FxHashMap<(AccountIdx, Arc<str>), (usize, Option<usize>)>,
    /// Reserved orders by expiry.
    pub expiry: std::collections::BTreeSet<(u64, usize)>,
    /// Reservation time per marketplace, when not the default.
    pub reservation_ms: FxHashMap<AccountIdx, u64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItemBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub sku: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, minimum = 1, maximum = 1000000))]
    pub quantity: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9-]{1,50}$"))]
    pub seller: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_items = 100))]
    pub items: Option<Vec<OrderItemBody>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettingsBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, minimum = 1, maximum = 10080))]
    pub reservation_minutes: Option<i64>,
}

// ------------------------------------------------------------------ views

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OrderItem))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItemView {
    pub sku: Arc<str>,
    pub quantity: u64,
    pub seller: Arc<str>,
    pub price: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SellerOrder))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubOrderView {
    pub id: Arc<str>,
    pub seller: Arc<str>,
    pub buyer: Arc<str>,
    pub status: OrderStatus,
    pub items: Vec<SubItemView>,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub chain_orders: Vec<SubOrderView>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SellerOrderItem))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubItemView {
    pub sku: Arc<str>,
    pub quantity: u64,
    pub price: i64,
    /// Units from the seller's own warehouses (the rest from its chain orders).
    pub reserved_own: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = MarketplaceOrder))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: Arc<str>,
    pub marketplace: Arc<str>,
    pub status: OrderStatus,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub items: Vec<OrderItemView>,
    pub seller_orders: Vec<SubOrderView>,
}

/// An order as one account sees it: the marketplace's whole order, or a seller's seller
/// order or chain order (with the chain orders below it).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OrderAnswer {
    Marketplace(OrderView),
    Seller(SubOrderView),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationOffer {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub available_quantity: Option<u64>,
    pub unlimited: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationItem {
    pub sku: Arc<str>,
    pub quantity: u64,
    /// The chosen offer's seller: the lowest price that covers the quantity (ties: more
    /// quantity, then seller id); `None` when no offer covers it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub seller: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub available_quantity: Option<u64>,
    pub offers: Vec<SimulationOffer>,
}
