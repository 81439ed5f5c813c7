//! B7 (vtex-compat.md §2.2): on `offer.changed` at a VTEX mirror V for seller S, tell V that
//! the price (price or list price changed) or the inventory (quantity, unlimited or sellable
//! changed) of S's SKU changed; V then asks B1 for the new values. Changes of one (V, S, SKU)
//! are coalesced over [`WINDOW`] from the first; at most `--vtex-notify-rps` calls a second
//! ([`DEFAULT_NOTIFY_RPS`]) go to one V; a failed call is not retried (the next change notifies again, and V's own indexing
//! reads B1 anyway).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use offernet_core::OfferView;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::orders::segment;
use crate::outbound::{Call, Request};
use crate::VtexState;

/// Changes of one SKU within this time make one notification (of each kind).
pub const WINDOW: Duration = Duration::from_secs(1);
/// Notifications a second to one marketplace at most (design's `notify_rps`,
/// `--vtex-notify-rps`), by default.
pub const DEFAULT_NOTIFY_RPS: u32 = 20;
/// The most `--vtex-notify-rps` may be: a marketplace's notificator is one endpoint of a shop,
/// and VTEX answers 429 well before this.
pub const MAX_NOTIFY_RPS: u32 = 1_000;
/// Offers whose last values are remembered (to tell a price change from a stock change); past
/// it, the memory starts again and the next change of each notifies both kinds.
pub const MAX_REMEMBERED: usize = 200_000;

/// (V, S, S's SKU).
pub type Key = (Arc<str>, Arc<str>, Arc<str>);

/// What a notification compares.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Seen {
    price: Option<i64>,
    list_price: Option<i64>,
    quantity: Option<u64>,
    unlimited: bool,
    sellable: bool,
}

fn seen(o: &Option<OfferView>) -> Seen {
    o.as_ref().map_or(Seen::default(), |o| Seen {
        price: o.price,
        list_price: o.list_price,
        quantity: o.quantity,
        unlimited: o.unlimited,
        sellable: o.sellable,
    })
}

#[derive(Default)]
struct Due {
    first: Option<Instant>,
    price: bool,
    inventory: bool,
}

/// The worker: offer changes at mirrors arrive on `changes`.
pub async fn run(
    st: Arc<VtexState>,
    mut changes: mpsc::Receiver<(Key, Option<OfferView>)>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut last: HashMap<Key, Seen> = HashMap::new();
    let mut due: HashMap<Key, Due> = HashMap::new();
    let mut next_slot: HashMap<Arc<str>, Instant> = HashMap::new();
    loop {
        let next = due.values().filter_map(|d| d.first).min().map(|f| f + WINDOW);
        tokio::select! {
            c = changes.recv() => match c {
                Some((k, offer)) => note(&mut last, &mut due, k, &offer),
                None => return,
            },
            _ = sleep_until(next) => {}
            _ = stopping.changed() => {}
        }
        if *stopping.borrow() {
            return;
        }
        let now = Instant::now();
        let ready: Vec<Key> =
            due.iter().filter(|(_, d)| d.first.is_some_and(|f| f + WINDOW <= now)).map(|(k, _)| k.clone()).collect();
        for k in ready {
            let Some(d) = due.remove(&k) else { continue };
            for (kind, on) in [("price", d.price), ("inventory", d.inventory)] {
                if on {
                    let slot = next_slot.entry(k.0.clone()).or_insert(now);
                    let at = (*slot).max(now);
                    *slot = at + Duration::from_secs(1) / st.notify_rps.max(1);
                    tokio::spawn(notify(st.clone(), k.clone(), kind, at));
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Records an offer's new values; a change makes its kinds due (from the window's first change).
fn note(last: &mut HashMap<Key, Seen>, due: &mut HashMap<Key, Due>, k: Key, offer: &Option<OfferView>) {
    if last.len() >= MAX_REMEMBERED && !last.contains_key(&k) {
        last.clear();
    }
    let now = seen(offer);
    let before = last.insert(k.clone(), now);
    let (price, inventory) = match before {
        None => (true, true),
        Some(b) => (
            (b.price, b.list_price) != (now.price, now.list_price),
            (b.quantity, b.unlimited, b.sellable) != (now.quantity, now.unlimited, now.sellable),
        ),
    };
    if price || inventory {
        let d = due.entry(k).or_default();
        d.first.get_or_insert_with(Instant::now);
        d.price |= price;
        d.inventory |= inventory;
    }
}

/// One B7 call at `at` (its slot under the marketplace's rate).
async fn notify(st: Arc<VtexState>, k: Key, kind: &'static str, at: Instant) {
    tokio::time::sleep_until(at).await;
    let (v, s, sku) = (&*k.0, &*k.1, &*k.2);
    let found = st.writer.read(|e| {
        let api = e.integration(v).ok()?.api_base?;
        let aff = e.affiliation(s, v).ok()?;
        Some((api, aff.remote_seller_id.as_deref().unwrap_or(s).to_string()))
    });
    let Some((api, id)) = found else { return };
    let url = format!(
        "{}/notificator/{}/changenotification/{}/{kind}",
        api.trim_end_matches('/'),
        segment(&id),
        segment(sku)
    );
    let req = Request {
        account: v,
        seller: Some(s),
        call: Call::Notification,
        method: reqwest::Method::POST,
        url,
        body: None,
    };
    if let Err(f) = st.outbound.call(req).await {
        tracing::info!(
            marketplace = v,
            seller = s,
            sku,
            kind,
            outcome = f.outcome(),
            "a change notification failed (not retried)"
        );
    }
}
