//! The fake VTEX marketplace's own state: the binding table B5 answers from, the suggestions,
//! notifications, invoices, tracking and seller cancels it received, and the indexing
//! simulations it ran after price and inventory notifications.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc::SyncSender;

use serde_json::{json, Value};

use crate::driver::VtexDriver;
use crate::record::{Log, MAX_RECORDED};
use crate::serve::{now_iso, Credentials};

/// A price or inventory notification (B7) the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The seller id in the path (S's seller id at V).
    pub seller: String,
    pub sku: String,
    /// `"price"` or `"inventory"`.
    pub kind: String,
}

/// An order message offernet sent to the services endpoint (B8 invoice, B10 tracking, B9 cancel).
#[derive(Debug, Clone)]
pub struct OrderMessage {
    /// The `marketplaceOrderId` in the path.
    pub order_id: String,
    pub body: Value,
}

/// An indexing simulation the fake ran at offernet after a B7 notification.
#[derive(Debug, Clone)]
pub struct IndexingRun {
    pub seller: String,
    pub sku: String,
    pub status: u16,
    /// The answer when it conformed to ESF plus the overlay.
    pub answer: Option<Value>,
    /// Why it did not (transport error, status, schema violations).
    pub violations: Vec<String>,
}

pub(crate) struct MarketplaceState<R> {
    pub(crate) bindings: BTreeSet<(String, String)>,
    /// A valid suggestion binds its SKU (the next B5 answers 200), as an approving marketplace.
    pub(crate) auto_bind: bool,
    pub(crate) suggestions: BTreeMap<(String, String), Value>,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) invoices: Vec<OrderMessage>,
    pub(crate) tracking: Vec<OrderMessage>,
    pub(crate) cancels: Vec<OrderMessage>,
    receipts: HashMap<String, Value>,
    pub(crate) log: Log<R>,
    pub(crate) credentials: Vec<Credentials>,
    /// Per seller id at V: how to reach its fulfillment endpoint after a notification.
    pub(crate) followers: HashMap<String, VtexDriver>,
    pub(crate) indexing: Vec<IndexingRun>,
    /// To the thread that runs indexing simulations; `None` once the fake stops.
    pub(crate) follow: Option<SyncSender<(String, String)>>,
}

impl<R: Copy + Eq + std::hash::Hash> MarketplaceState<R> {
    pub(crate) fn new(follow: SyncSender<(String, String)>) -> MarketplaceState<R> {
        MarketplaceState {
            bindings: BTreeSet::new(),
            auto_bind: true,
            suggestions: BTreeMap::new(),
            notifications: Vec::new(),
            invoices: Vec::new(),
            tracking: Vec::new(),
            cancels: Vec::new(),
            receipts: HashMap::new(),
            log: Log::new(),
            credentials: Vec::new(),
            followers: HashMap::new(),
            indexing: Vec::new(),
            follow: Some(follow),
        }
    }

    /// VTEX's `responseFulfill` for an order message, the same for the same key (idempotent).
    pub(crate) fn receipt(&mut self, key: String, order_id: &str) -> Value {
        if self.receipts.len() >= MAX_RECORDED {
            self.receipts.clear();
        }
        let n = self.receipts.len();
        self.receipts
            .entry(key)
            .or_insert_with(|| json!({"date": now_iso(), "orderId": order_id, "receipt": format!("receipt-{n:08}")}))
            .clone()
    }

    pub(crate) fn notify(&mut self, seller: &str, sku: &str, kind: &str) {
        push_bounded(
            &mut self.notifications,
            Notification { seller: seller.into(), sku: sku.into(), kind: kind.into() },
        );
        if self.followers.contains_key(seller) {
            if let Some(follow) = &self.follow {
                // A full queue drops the run: VTEX coalesces indexing too.
                let _ = follow.try_send((seller.to_string(), sku.to_string()));
            }
        }
    }
}

pub(crate) fn push_bounded<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= MAX_RECORDED {
        list.remove(0);
    }
    list.push(item);
}
