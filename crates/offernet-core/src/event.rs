//! Events: what changed, in order, each with a global sequence number.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::views::OfferView;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Global, gap-free, strictly increasing over the engine's life.
    pub seq: u64,
    /// The account this event is for (only it sees the event).
    pub account: Arc<str>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventBody {
    /// An offer appeared (`offer` set), changed, or disappeared (`offer: null`).
    #[serde(rename = "offer.changed")]
    OfferChanged {
        marketplace: Arc<str>,
        sku: Arc<str>,
        seller: Arc<str>,
        seller_sku: Arc<str>,
        #[cfg_attr(feature = "openapi", schema(required = true))]
        offer: Option<OfferView>,
    },
    #[serde(rename = "suggestion.created")]
    SuggestionCreated { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str> },
    #[serde(rename = "suggestion.approved")]
    SuggestionApproved { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str>, sku: Arc<str> },
    #[serde(rename = "suggestion.denied")]
    SuggestionDenied { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str> },
    #[serde(rename = "order.created")]
    OrderCreated(OrderEvent),
    #[serde(rename = "order.authorized")]
    OrderAuthorized(OrderEvent),
    #[serde(rename = "order.invoiced")]
    OrderInvoiced(OrderEvent),
    #[serde(rename = "order.cancelled")]
    OrderCancelled(OrderEvent),
    #[serde(rename = "order.expired")]
    OrderExpired(OrderEvent),
    /// An external seller took its part of the order (vtex-compat.md §3.4).
    #[serde(rename = "order.external_placed")]
    OrderExternalPlaced(ExternalOrderEvent),
    /// An external seller refused its part: the whole order is cancelled.
    #[serde(rename = "order.external_refused")]
    OrderExternalRefused(ExternalOrderEvent),
    /// An external seller asked for what the order's state refuses (an invoice for a sub order
    /// cancelled here, vtex-compat.md §6 Q2): for the operator to settle with the seller.
    #[serde(rename = "order.external_conflict")]
    OrderExternalConflict(ExternalConflictEvent),
}

/// A conflict with an external seller over its sub order (`order.external_conflict`), for the
/// marketplace (and the buyer of a chain order). No personal data: ids and the invoice number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalConflictEvent {
    pub marketplace: Arc<str>,
    /// The marketplace's order id.
    pub order: Arc<str>,
    /// The sub order at the external seller.
    pub id: Arc<str>,
    /// The external seller.
    pub seller: Arc<str>,
    /// What the seller asked for: `invoice_after_cancel` (it invoiced, and may have shipped, a
    /// sub order cancelled here).
    pub what: crate::orders::ConflictKind,
    /// The invoice number the seller sent (`invoice_after_cancel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<Arc<str>>,
    /// When the conflict was recorded, in ms since the Unix epoch.
    pub at_ms: u64,
}

/// What an external seller answered for its sub order, for the marketplace (and the buyer of a
/// chain order).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalOrderEvent {
    pub marketplace: Arc<str>,
    /// The marketplace's order id.
    pub order: Arc<str>,
    /// The sub order at the external seller.
    pub id: Arc<str>,
    /// The external seller.
    pub seller: Arc<str>,
    /// The seller's own order id (`order.external_placed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_order_id: Option<Arc<str>>,
    /// Why it refused (`order.external_refused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Arc<str>>,
}

/// An order event for one account: `id` is that account's own id of (its part of) the order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub marketplace: Arc<str>,
    /// The marketplace's order id.
    pub order: Arc<str>,
    pub id: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::orders::OrderStatus))]
    pub status: String,
    /// The account that cancelled (`order.cancelled` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Arc<str>>,
    /// Why the engine cancelled (`order.cancelled` only): `external_seller_refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Arc<str>>,
    /// In the marketplace's event: the sellers whose seller orders this change concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sellers: Vec<Arc<str>>,
}

/// What happened to an order: the kind of its `order.*` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderEventKind {
    Created,
    Authorized,
    Invoiced,
    Cancelled,
    Expired,
}

impl EventBody {
    pub(crate) fn order(kind: OrderEventKind, e: OrderEvent) -> EventBody {
        match kind {
            OrderEventKind::Created => EventBody::OrderCreated(e),
            OrderEventKind::Authorized => EventBody::OrderAuthorized(e),
            OrderEventKind::Invoiced => EventBody::OrderInvoiced(e),
            OrderEventKind::Cancelled => EventBody::OrderCancelled(e),
            OrderEventKind::Expired => EventBody::OrderExpired(e),
        }
    }
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::OfferChanged { .. } => "offer.changed",
            EventBody::SuggestionCreated { .. } => "suggestion.created",
            EventBody::SuggestionApproved { .. } => "suggestion.approved",
            EventBody::SuggestionDenied { .. } => "suggestion.denied",
            EventBody::OrderCreated(_) => "order.created",
            EventBody::OrderAuthorized(_) => "order.authorized",
            EventBody::OrderInvoiced(_) => "order.invoiced",
            EventBody::OrderCancelled(_) => "order.cancelled",
            EventBody::OrderExpired(_) => "order.expired",
            EventBody::OrderExternalPlaced(_) => "order.external_placed",
            EventBody::OrderExternalRefused(_) => "order.external_refused",
            EventBody::OrderExternalConflict(_) => "order.external_conflict",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_order_event_kind_has_its_own_type() {
        use OrderEventKind::*;
        let e = OrderEvent {
            marketplace: "m".into(),
            order: "o".into(),
            id: "o".into(),
            status: "reserved".into(),
            by: None,
            reason: None,
            sellers: Vec::new(),
        };
        let kinds: Vec<&str> =
            [Created, Authorized, Invoiced, Cancelled, Expired].map(|k| EventBody::order(k, e.clone()).kind()).to_vec();
        assert_eq!(kinds, ["order.created", "order.authorized", "order.invoiced", "order.cancelled", "order.expired"]);
    }
}
