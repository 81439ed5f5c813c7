//! Simulation and orders (domain.md "Simulation and orders"): a cart priced against the live
//! offers, and orders that reserve stock atomically along the whole chain, fill from the
//! seller's own warehouses first and then from authorised upstream sources (chain orders),
//! and release or consume exactly what they reserved.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fx::FxHashMap;
use crate::model::*;

mod check;
mod conflict;
mod delivery;
mod external;
mod lifecycle;
mod outbound;
mod place;
pub(crate) mod read;
mod record_external;

pub use conflict::{ConflictKind, ConflictRecord, Conflicts};
pub use delivery::{check_delivery, AddressBody, CustomerBody, DeliveryBody, OrderRequest, MAX_DELIVERY_TEXT};
pub use external::{
    Effect, ExternalEffect, ExternalEffectKind, ExternalLine, ExternalOutcome, ExternalState, ExternalView, Placement,
    MAX_REFUSAL_CODE_CHARS, REASON_EXTERNAL_SELLER_REFUSED,
};
pub use outbound::{
    Invoice, InvoiceBody, OutboundCall, OutboundOutcome, PendingOutbound, MAX_INVOICE_NUMBER_LEN, MAX_INVOICE_TEXT_LEN,
};

/// Items per order or simulation: a cart, not a catalog export.
pub const MAX_ORDER_ITEMS: usize = 100;
/// Units of one item.
pub const MAX_ORDER_QUANTITY: i64 = 1_000_000;
/// Default reservation time before an unauthorised order expires: 30 minutes.
pub const DEFAULT_RESERVATION_MS: u64 = 30 * 60 * 1000;
/// Longest reservation a marketplace may configure or an order may ask for: 14 days. VTEX
/// marketplaces reserve for up to 8 days (`lockTTL "8d"`: boleto payments take days), so 7
/// days was too short for them (vtex-compat.md §6 Q7).
pub const MAX_RESERVATION_MINUTES: i64 = 14 * 24 * 60;
/// Longest `external_ref.marketplace_order_id`: VTEX order ids are about 16 characters;
/// room for other marketplaces' ids without letting a field grow the journal unbounded.
pub const MAX_EXTERNAL_ORDER_ID_CHARS: usize = 256;
/// Longest `external_ref.services_endpoint` (a URL, as webhook URLs).
pub const MAX_SERVICES_ENDPOINT_CHARS: usize = 2048;

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
    pub(crate) fn open(self) -> bool {
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
    /// What offernet did at the external seller of this sub order (vtex-compat.md §3.4), when
    /// its seller is an external seller (an integration with role `seller`) at placement.
    pub external: Option<Box<ExternalState>>,
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
    /// When the marketplace authorised it (VTEX answers carry this date, and a retried
    /// fulfil must get the same one).
    pub authorized_ms: Option<u64>,
    /// When it reached a final status (cancelled, invoiced, expired): the same for retries of
    /// a cancel, and where the retention of its order document starts.
    pub closed_ms: Option<u64>,
    /// The order at the external marketplace this order stands for (`PlaceOrder`'s
    /// `external_ref`), boxed: most orders have none.
    pub external_ref: Option<Box<ExternalRef>>,
    /// SHA-256 (hex) of the order document kept outside the engine (customer, address): the
    /// engine never holds the document itself, so no personal data enters the journal.
    pub document_sha256: Option<Arc<str>>,
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
    /// External sub orders still open or with an effect left to perform: (seller, order, sub
    /// order). Derived from the sub orders' `external` (rebuilt on a snapshot's load).
    pub external: std::collections::BTreeSet<(AccountIdx, usize, usize)>,
    /// Invoices kept, by (order, sub order): those given with `InvoiceOrder`, and a bare one
    /// (its time) for each seller order that owes an external marketplace its invoice.
    pub invoices: std::collections::BTreeMap<(usize, usize), Box<Invoice>>,
    /// Seller orders that owe their external marketplace a call (`outbound.rs`): the invoice
    /// when invoiced, the seller cancel when cancelled.
    pub outbound: std::collections::BTreeSet<(usize, usize)>,
    /// When sub orders of external sellers (mirror accounts with role `seller`) were
    /// cancelled: their cancel answer (VTEX C6) carries that date, the same on a retry, and
    /// such a sub order may be cancelled while its marketplace order stays open.
    pub cancelled_ms: std::collections::BTreeMap<(usize, usize), u64>,
    /// Conflicts recorded with external sellers over their sub orders (`conflict.rs`).
    pub conflicts: Conflicts,
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
    /// Minutes this order stays reserved unless authorised, instead of the marketplace's
    /// setting (a VTEX marketplace's `lockTTL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20160))]
    pub reservation_minutes: Option<i64>,
    /// Per item (same length as `items`), the most the marketplace charges per unit: the order
    /// is refused (409 `price_changed`) when a seller's price for it is now above that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100, value_type = Option<Vec<PriceValue>>))]
    pub max_prices: Option<Vec<i64>>,
    /// The external marketplace's order this order stands for (boxed: most orders have none,
    /// and every command is as large as the largest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Box<ExternalRef>>,
    /// SHA-256 (64 lower-case hex digits) of the order document the server stored before
    /// placing the order (customer and address stay outside the journal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub document_sha256: Option<String>,
}

/// The order at an external marketplace (VTEX) that an order stands for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRef {
    /// The marketplace's order id (VTEX `marketplaceOrderId`), printable ASCII.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, max_length = 256, pattern = "^[!-~]{1,256}$")
    )]
    pub marketplace_order_id: Option<String>,
    /// Where the marketplace takes invoices and cancels for this order (VTEX
    /// `marketplaceServicesEndpoint`): an http(s) URL.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048, pattern = "^https?://[!-~]{1,2040}$"))]
    pub services_endpoint: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettingsBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, minimum = 1, maximum = 20160))]
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
    /// Only for a sub order at an external seller: where its order there stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalView>,
    /// The order document, as far as this seller may see it (the seller of record: all of it;
    /// a chain seller: the address); filled by the server, which keeps documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub document: Option<serde_json::Value>,
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
    /// When the marketplace authorised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_ms: Option<u64>,
    /// When it was cancelled, invoiced or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<ExternalRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<Arc<str>>,
    /// The order document (customer, address, delivery; an external marketplace's order),
    /// filled by the server, which keeps documents outside the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub document: Option<serde_json::Value>,
    pub items: Vec<OrderItemView>,
    pub seller_orders: Vec<SubOrderView>,
}

/// How much of an order's document an account may see (vtex-compat.md §2.1 item 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentAccess {
    /// The marketplace and the seller of record.
    Whole,
    /// A chain seller: the delivery address and its receiver only.
    AddressOnly,
}

/// Where an order's document is kept, and how much of it an account may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRef {
    pub marketplace: Arc<str>,
    pub order: Arc<str>,
    pub sha256: Arc<str>,
    pub access: DocumentAccess,
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

/// A price in minor units, as `PriceBody::price` bounds it (`validate::MAX_PRICE`).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(minimum = 0, maximum = 1000000000000000i64)]
pub struct PriceValue(pub i64);
