//! Orders at external sellers (vtex-compat.md §3.4): a seller order or chain order whose
//! seller is an external seller (an integration with role `seller`) is also an order at that
//! seller's own system. The engine keeps where that order stands (placement, dispatch,
//! cancel) as plain state; the server's effects worker reads what is left to do
//! ([`Engine::pending_external_effects`]), calls the seller, and journals what it learnt as
//! `RecordExternalOrder`, so replay calls no one.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::state::Engine;

use super::*;

/// `order.cancelled`'s `reason` when an external seller refused its part of the order.
pub const REASON_EXTERNAL_SELLER_REFUSED: &str = "external_seller_refused";
/// Longest refusal code (`insufficient_stock`, `timeout`, `http_422`…).
pub const MAX_REFUSAL_CODE_CHARS: usize = 64;

/// Where the order at the external seller stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Not known to be placed yet (the worker places it, or withdraws it once closed).
    Pending,
    /// The seller took it under its own order id.
    Placed(Arc<str>),
    /// The seller refused it (the code says why); nothing of it exists there.
    Refused(Arc<str>),
}

/// An effect owed to the external seller: none, still to perform, or confirmed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    Pending,
    Done,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::None => "none",
            Effect::Pending => "pending",
            Effect::Done => "done",
        }
    }
}

/// A sub order's state at its external seller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalState {
    pub placement: Placement,
    /// Fulfil (A3) after the marketplace authorised.
    pub dispatch: Effect,
    /// Cancel (A4) after a cancel or an expiry.
    pub cancel: Effect,
}

impl ExternalState {
    pub(crate) fn pending(&self) -> bool {
        self.placement == Placement::Pending || self.dispatch == Effect::Pending || self.cancel == Effect::Pending
    }
}

/// What the worker learnt from the external seller (`RecordExternalOrder`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExternalOutcome {
    /// The placement answered 2xx with the seller's `orderId`.
    Placed { order_id: String },
    /// The seller refused the placement (or it could not be placed in time): `code` says why.
    Refused { code: String },
    /// The fulfil (A3) was answered.
    Dispatched {},
    /// The cancel (A4) was answered with a receipt.
    CancelConfirmed {},
}

/// A sub order's external state as `GET …/orders/{id}` shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalView {
    /// `pending`, `placed` or `refused`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(pending|placed|refused)$"))]
    pub placement: String,
    /// The external seller's order id, once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Arc<str>>,
    /// Why it was refused, when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Arc<str>>,
    /// The fulfil owed after authorisation: `none`, `pending` or `done`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(none|pending|done)$"))]
    pub dispatch: String,
    /// The cancel owed after a cancel or an expiry: `none`, `pending` or `done`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(none|pending|done)$"))]
    pub cancel: String,
}

impl From<&ExternalState> for ExternalView {
    fn from(x: &ExternalState) -> Self {
        let (placement, order_id, error) = match &x.placement {
            Placement::Pending => ("pending", None, None),
            Placement::Placed(id) => ("placed", Some(id.clone()), None),
            Placement::Refused(code) => ("refused", None, Some(code.clone())),
        };
        ExternalView {
            placement: placement.into(),
            order_id,
            error,
            dispatch: x.dispatch.as_str().into(),
            cancel: x.cancel.as_str().into(),
        }
    }
}

/// The kind of effect owed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalEffectKind {
    /// A2: place the order (when the sub order is already closed, place it again so the
    /// seller's deduplication names its order, which the cancel then withdraws).
    Place,
    /// A3: fulfil (dispatch allowed).
    Fulfill,
    /// A4: cancel.
    Cancel,
}

/// One line of an external sub order: the seller's SKU, units, unit price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalLine {
    pub sku: Arc<str>,
    pub quantity: u64,
    pub price: i64,
}

/// One effect owed to an external seller, with what performing it needs from the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalEffect {
    pub kind: ExternalEffectKind,
    /// The external seller (its mirror account).
    pub seller: Arc<str>,
    /// The sub order's id: VTEX's `marketplaceOrderId` at the seller.
    pub id: Arc<str>,
    /// The buyer of the sub order (the marketplace, or the seller below a chain order).
    pub buyer: Arc<str>,
    pub marketplace: Arc<str>,
    /// The marketplace's order id: VTEX's `marketplaceOrderGroup`.
    pub order: Arc<str>,
    /// The seller's order id, once placed.
    pub external_order_id: Option<Arc<str>>,
    pub lines: Vec<ExternalLine>,
    /// Whether the sub order is still open (reserved or authorised).
    pub open: bool,
    /// Whether it ended by expiry (the cancel's reason says so).
    pub expired: bool,
    pub expires_ms: u64,
    pub closed_ms: Option<u64>,
    /// The order document's SHA-256 (customer and address, kept by the server).
    pub document_sha256: Option<Arc<str>>,
    /// The seller's integration now (`None` when it was deleted: the effect waits).
    pub fulfillment_endpoint: Option<Arc<str>>,
    pub sales_channel: Option<Arc<str>>,
    pub affiliate_id: Option<Arc<str>>,
}

impl Engine {
    /// At placement: the external state of each sub order whose seller is an external seller,
    /// and the index of them.
    pub(super) fn mark_external(&mut self, oi: usize) {
        for si in 0..self.orders.list[oi].subs.len() {
            let seller = self.orders.list[oi].subs[si].seller;
            if self.accounts[seller].seller_link().is_some() {
                self.orders.list[oi].subs[si].external = Some(Box::new(ExternalState {
                    placement: Placement::Pending,
                    dispatch: Effect::None,
                    cancel: Effect::None,
                }));
                self.orders.external.insert((seller, oi, si));
            }
        }
    }

    /// 409 `external_placement_pending` while any external sub order of order `oi` is not placed.
    pub(super) fn check_external_placed(&self, oi: usize) -> Result<()> {
        let o = &self.orders.list[oi];
        let pending = o.subs.iter().find(|s| s.external.as_deref().is_some_and(|x| x.placement == Placement::Pending));
        match pending {
            Some(s) => Err(DomainError::ExternalPlacementPending { id: s.id.to_string() }),
            None => Ok(()),
        }
    }

    /// After sub order `si` was authorised: a placed external one owes a fulfil.
    pub(super) fn external_authorized(&mut self, oi: usize, si: usize) {
        if let Some(x) = self.orders.list[oi].subs[si].external.as_deref_mut() {
            if matches!(x.placement, Placement::Placed(_)) && x.dispatch == Effect::None {
                x.dispatch = Effect::Pending;
            }
        }
    }

    /// After sub order `si` was cancelled or expired: unless the seller refused it, it owes a
    /// cancel (once placed; a pending placement is placed again first, so that nothing is left
    /// at the seller), and a fulfil not yet sent is owed no more.
    pub(super) fn external_closed(&mut self, oi: usize, si: usize) {
        if let Some(x) = self.orders.list[oi].subs[si].external.as_deref_mut() {
            if !matches!(x.placement, Placement::Refused(_)) && x.cancel == Effect::None {
                x.cancel = Effect::Pending;
            }
            if x.dispatch == Effect::Pending {
                x.dispatch = Effect::None;
            }
        }
        self.external_settle(oi, si);
    }

    /// Takes sub order `si` out of the index once it is closed with nothing left to do.
    pub(super) fn external_settle(&mut self, oi: usize, si: usize) {
        let s = &self.orders.list[oi].subs[si];
        if let Some(x) = s.external.as_deref() {
            if !s.status.open() && !x.pending() {
                self.orders.external.remove(&(s.seller, oi, si));
            }
        }
    }

    /// Who hears of what an external seller did with sub order `si`: the marketplace, and the
    /// buyer of a chain order (the seller below it).
    pub(super) fn told_of_sub(&self, oi: usize, si: usize) -> Vec<Arc<str>> {
        let o = &self.orders.list[oi];
        let mut to = vec![self.accounts[o.marketplace].id.clone()];
        if o.subs[si].buyer != o.marketplace {
            to.push(self.accounts[o.subs[si].buyer].id.clone());
        }
        to
    }

    /// Every effect owed to external sellers now, in a stable order (seller, order, sub order).
    /// The worker performs them and records each outcome; what is recorded is owed no more.
    pub fn pending_external_effects(&self) -> Vec<ExternalEffect> {
        let mut out = Vec::new();
        for &(_, oi, si) in &self.orders.external {
            let o = &self.orders.list[oi];
            let s = &o.subs[si];
            let Some(x) = s.external.as_deref() else { continue };
            let kind = match &x.placement {
                Placement::Pending => ExternalEffectKind::Place,
                Placement::Placed(_) if x.cancel == Effect::Pending => ExternalEffectKind::Cancel,
                Placement::Placed(_) if x.dispatch == Effect::Pending && x.cancel == Effect::None => {
                    ExternalEffectKind::Fulfill
                }
                _ => continue,
            };
            out.push(self.external_effect(kind, oi, si));
        }
        out
    }

    fn external_effect(&self, kind: ExternalEffectKind, oi: usize, si: usize) -> ExternalEffect {
        let o = &self.orders.list[oi];
        let s = &o.subs[si];
        let seller = &self.accounts[s.seller];
        let link = seller.seller_link();
        let x = s.external.as_deref().expect("an external sub order");
        ExternalEffect {
            kind,
            seller: seller.id.clone(),
            id: s.id.clone(),
            buyer: self.accounts[s.buyer].id.clone(),
            marketplace: self.accounts[o.marketplace].id.clone(),
            order: o.id.clone(),
            external_order_id: match &x.placement {
                Placement::Placed(id) => Some(id.clone()),
                _ => None,
            },
            lines: s
                .items
                .iter()
                .map(|it| ExternalLine { sku: seller.skus[it.sku].id.clone(), quantity: it.quantity, price: it.price })
                .collect(),
            open: s.status.open(),
            expired: s.status == OrderStatus::Expired,
            expires_ms: o.expires_ms,
            closed_ms: o.closed_ms,
            document_sha256: o.document_sha256.clone(),
            fulfillment_endpoint: link.map(|l| l.fulfillment_endpoint.clone()),
            sales_channel: link.map(|l| l.sales_channel.clone()),
            affiliate_id: link.and_then(|l| l.affiliate_id.clone()),
        }
    }

    /// Units of external seller `a`'s SKU `sku` reserved at warehouse `wh` by its sub orders
    /// that are placed there and still open: the seller's own answers leave them out (it has
    /// them), so its quotes add them back (vtex-compat.md §3.3, R).
    pub(crate) fn placed_reserved(&self, a: AccountIdx, sku: SkuIdx, wh: WhIdx) -> u64 {
        let mut r = 0;
        for &(_, oi, si) in self.orders.external.range((a, 0, 0)..=(a, usize::MAX, usize::MAX)) {
            let s = &self.orders.list[oi].subs[si];
            let placed = s.external.as_deref().is_some_and(|x| matches!(x.placement, Placement::Placed(_)));
            if !placed || !s.status.open() {
                continue;
            }
            for it in s.items.iter().filter(|it| it.sku == sku) {
                r += it.reservations.iter().filter(|&&(w, _)| w == wh).map(|&(_, n)| n).sum::<u64>();
            }
        }
        r
    }

    /// Whether order `id` of marketplace `marketplace` has a sub order at an external seller
    /// whose placement is pending and still open (what `POST …/orders` waits for).
    pub fn placements_pending(&self, marketplace: &str, id: &str) -> bool {
        let Ok((_, oi, None)) = self.order_of(marketplace, id) else { return false };
        let pending = |s: &SubOrder| s.external.as_deref().is_some_and(|x| x.placement == Placement::Pending);
        self.orders.list[oi].subs.iter().any(|s| s.status.open() && pending(s))
    }

    /// Rebuilds the index of external sub orders from the sub orders (a snapshot's load).
    pub(crate) fn rebuild_external_index(&mut self) {
        self.orders.external.clear();
        for (oi, o) in self.orders.list.iter().enumerate() {
            for (si, s) in o.subs.iter().enumerate() {
                if let Some(x) = s.external.as_deref() {
                    if s.status.open() || x.pending() {
                        self.orders.external.insert((s.seller, oi, si));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "external_tests.rs"]
mod tests;
