//! Role (b) outbound: what offernet tells an external VTEX marketplace V for its sellers S
//! (vtex-compat.md §1.1 B5-B9, §2.2): the catalog (B5 then B6 on `suggestion.created`), price
//! and stock changes (B7 on `offer.changed`, coalesced), and the calls owed per seller order
//! (B8 invoice, B9 seller cancel, level-triggered from `Engine::pending_outbound`).
//!
//! - `suggestion.rs`, `orders.rs`: pure mappings from committed state to VTEX bodies and URLs.
//! - `catalog.rs`, `prices.rs`, `owed.rs`: the three workers; [`start`] feeds them from the
//!   committed events. A lagging feed only costs catalog and price notifications (B7 is never
//!   retried, and V's indexing reads B1 anyway); the owed calls are read from the state.

pub mod catalog;
pub mod orders;
pub mod owed;
pub mod prices;
pub mod suggestion;

use std::sync::Arc;

use offernet_core::EventBody;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch, Notify};

use crate::VtexState;

/// Suggestions and offer changes waiting for their worker; past it they are dropped (logged).
pub const QUEUE: usize = 100_000;

/// Starts the role (b) workers and the loop that feeds them.
pub fn start(st: Arc<VtexState>, stopping: watch::Receiver<bool>) {
    let wake = Arc::new(Notify::new());
    let (sugg_tx, sugg_rx) = mpsc::channel(QUEUE);
    let (offer_tx, offer_rx) = mpsc::channel(QUEUE);
    tokio::spawn(owed::run(st.clone(), wake.clone(), stopping.clone()));
    tokio::spawn(catalog::run(st.clone(), sugg_rx, stopping.clone()));
    tokio::spawn(prices::run(st.clone(), offer_rx, stopping.clone()));
    tokio::spawn(feed(st, wake, sugg_tx, offer_tx, stopping));
}

/// Hands each committed batch's events at VTEX mirrors to their worker, and wakes the owed
/// calls' worker after every batch.
async fn feed(
    st: Arc<VtexState>,
    wake: Arc<Notify>,
    sugg: mpsc::Sender<catalog::Key>,
    offers: mpsc::Sender<(prices::Key, Option<offernet_core::OfferView>)>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut rx = st.events.subscribe();
    loop {
        let batch = tokio::select! {
            b = rx.recv() => b,
            _ = stopping.changed() => return,
        };
        let batch = match batch {
            Ok(b) => b,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "the VTEX notifications fell behind the committed events");
                wake.notify_one();
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        wake.notify_one();
        let mirrors = mirrors(&st, &batch);
        for ev in batch.iter() {
            let (v, sent) = match &ev.body {
                EventBody::SuggestionCreated { marketplace, seller, seller_sku } if mirrors.contains(marketplace) => (
                    marketplace,
                    sugg.try_send((marketplace.to_string(), seller.to_string(), seller_sku.to_string())).is_ok(),
                ),
                EventBody::OfferChanged { marketplace, seller, seller_sku, offer, .. }
                    if mirrors.contains(marketplace) =>
                {
                    let k = (marketplace.clone(), seller.clone(), seller_sku.clone());
                    (marketplace, offers.try_send((k, offer.clone())).is_ok())
                }
                _ => continue,
            };
            if !sent {
                tracing::warn!(marketplace = %v, "a VTEX notification queue is full; the change is not notified");
            }
        }
    }
}

/// The marketplaces of `batch`'s suggestions and offer changes that mirror an external VTEX
/// marketplace: one read of the engine per batch, not one per event.
fn mirrors(st: &VtexState, batch: &[offernet_core::Event]) -> std::collections::BTreeSet<Arc<str>> {
    let named = batch.iter().filter_map(|ev| match &ev.body {
        EventBody::SuggestionCreated { marketplace, .. } | EventBody::OfferChanged { marketplace, .. } => {
            Some(marketplace)
        }
        _ => None,
    });
    let named: std::collections::BTreeSet<&Arc<str>> = named.collect();
    if named.is_empty() {
        return Default::default();
    }
    st.writer.read(|e| named.into_iter().filter(|m| e.integration_role(m) == Some("marketplace")).cloned().collect())
}
