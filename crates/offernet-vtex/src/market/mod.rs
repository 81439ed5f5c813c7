//! Role (c) of the VTEX protocol, and the quote path of role (a) (vtex-compat.md §1.2, §2.3,
//! §2.4 A1, §3.3): an offernet marketplace M serves external sellers E at
//! `/vtex/{M}/api/…` and `/vtex/{M}/suggestions/…`, and E's price and stock enter M's offers
//! through quotes.
//!
//! - `routes.rs`: C1 (change notification, both paths), C2 (suggestion → `PutSku` of E's SKU),
//!   C3/C4 (price and inventory notifications). Each that names a SKU queues its refresh.
//! - `suggestion.rs`: C2's mapping (pure).
//! - `queue.rs`: the refresh queue (pure: deduplicated, held off, bounded).
//! - `quote.rs`: A1 as a quote refresh: the request, and the answer as quotes (pure).
//! - `sweep.rs`: which quotes to ask again without a notification (pure).
//! - `worker.rs`: the quote worker (A1 through `crate::outbound`, then `ApplySellerQuotes`) and
//!   the sweep.
//!
//! Architecture invariant: a notification is never journaled and never calls out while the
//! request waits; it only queues a key. Quotes enter the engine as commands the worker submits,
//! so replay calls no one.

use std::sync::{Arc, Mutex};
use std::time::Instant;

mod queue;
pub mod quote;
mod routes;
pub mod suggestion;
pub mod sweep;
pub mod worker;

pub use queue::{Key, RefreshQueue, HOLD_OFF_MS, MAX_KEYS, MAX_SKUS_PER_SIMULATION};
pub use routes::router;

/// The refresh queue shared by the routes, the sweep and the worker, with the worker's wake-up.
pub struct Refresh {
    queue: Mutex<RefreshQueue>,
    wake: tokio::sync::Notify,
    /// The queue's clock: milliseconds since this instant (monotonic).
    epoch: Instant,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh { queue: Mutex::new(RefreshQueue::new()), wake: tokio::sync::Notify::new(), epoch: Instant::now() }
    }
}

impl Refresh {
    /// Milliseconds of the queue's monotonic clock.
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RefreshQueue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a refresh of E's SKU `sku` and wakes the worker; false when it was waiting
    /// already (coalesced).
    pub fn push(&self, seller: &str, sku: &str) -> bool {
        let now = self.now_ms();
        let added = self.lock().push(seller, sku, now);
        if added {
            self.wake.notify_one();
        }
        added
    }

    /// Queues many SKUs of one seller (the sweep), waking the worker once.
    pub fn push_all<'a>(&self, seller: &str, skus: impl IntoIterator<Item = &'a str>) -> usize {
        let now = self.now_ms();
        let mut q = self.lock();
        let added = skus.into_iter().filter(|s| q.push(seller, s, now)).count();
        drop(q);
        if added > 0 {
            self.wake.notify_one();
        }
        added
    }

    /// Up to `MAX_SKUS_PER_SIMULATION` ready SKUs of one seller.
    pub fn take(&self) -> Option<(Arc<str>, Vec<Arc<str>>)> {
        let now = self.now_ms();
        self.lock().take(now)
    }

    /// How long until the next key is ready (`None`: nothing waits).
    pub fn next_ready_in_ms(&self) -> Option<u64> {
        let now = self.now_ms();
        self.lock().next_ready_ms().map(|r| r.saturating_sub(now))
    }

    /// Waits until a key is pushed (or returns at once if one was pushed since the last wait).
    pub async fn pushed(&self) {
        self.wake.notified().await
    }

    /// (keys waiting, keys dropped since the start because the queue was full).
    pub fn stats(&self) -> (usize, u64) {
        let q = self.lock();
        (q.len(), q.dropped())
    }

    /// Keys of `seller` waiting.
    pub fn pending(&self, seller: &str) -> usize {
        self.lock().pending(seller)
    }

    /// Appends the queue's metrics (Prometheus text): its length and the keys dropped.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let (keys, dropped) = self.stats();
        let _ = writeln!(
            out,
            "# HELP offernet_vtex_refresh_queue_keys External sellers' SKUs waiting for a quote refresh."
        );
        let _ = writeln!(out, "# TYPE offernet_vtex_refresh_queue_keys gauge");
        let _ = writeln!(out, "offernet_vtex_refresh_queue_keys {keys}");
        let _ = writeln!(
            out,
            "# HELP offernet_vtex_refresh_dropped_total Quote refreshes dropped because the queue was full (the sweep asks them again)."
        );
        let _ = writeln!(out, "# TYPE offernet_vtex_refresh_dropped_total counter");
        let _ = writeln!(out, "offernet_vtex_refresh_dropped_total {dropped}");
    }
}
