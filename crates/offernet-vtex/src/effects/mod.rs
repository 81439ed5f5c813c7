//! The effects worker (vtex-compat.md §3.4): orders at external sellers, level-triggered.
//! After each batch of committed events, every [`SWEEP_EVERY`] and at startup it asks the
//! engine what is owed (`Engine::pending_external_effects`: placements, fulfils, cancels) and
//! performs each effect not already under way, through the shared outbound client. What it
//! learns comes back as a journaled `RecordExternalOrder`; the state then owes nothing more, so
//! replay calls no one, and a crash between a call and its record only repeats the call (with
//! the same `marketplaceOrderId`, which the seller deduplicates, as VTEX's own retries need).
//!
//! Failures that may pass (no connection, timeouts, 408, 429, 5xx, an open circuit) are tried
//! again after `outbound::backoff` (or the `Retry-After` asked for): a placement until its
//! deadline (`expires_ms − PLACEMENT_MARGIN_MS`, then refused `timeout`), fulfils and cancels
//! for ever (the integration status shows the backlog). A placement the seller refuses (another
//! 4xx) is recorded as refused, which cancels the whole order.

mod bodies;
mod perform;

pub use bodies::{delivery_of, Delivery};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use offernet_core::{Command, ExternalEffect, ExternalEffectKind, ExternalOutcome};
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{broadcast, watch, Notify};

use crate::VtexState;

/// The sweep's period when nothing else wakes it.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// A placement not settled this long before its order's reservation expires is refused
/// (`timeout`): the seller must not hold an order offernet is about to release.
pub const PLACEMENT_MARGIN_MS: u64 = 60_000;

/// An effect's identity: (seller, sub order id, kind).
type Key = (String, String, &'static str);

fn kind_name(k: ExternalEffectKind) -> &'static str {
    match k {
        ExternalEffectKind::Place => "placement",
        ExternalEffectKind::Fulfill => "fulfill",
        ExternalEffectKind::Cancel => "cancel",
    }
}

/// What one attempt ended with.
pub(crate) enum Attempt {
    /// Record this outcome (the effect is settled).
    Record(ExternalOutcome),
    /// Try again after this long (`None`: the backoff's own delay).
    Again(Option<Duration>),
}

/// The worker's memory: effects under way (each a task) and how many times each was tried.
struct Worker {
    st: Arc<VtexState>,
    busy: Mutex<BTreeSet<Key>>,
    attempts: Mutex<BTreeMap<Key, u32>>,
    /// Sellers whose backlog the last sweep showed (a seller with none now is shown 0).
    shown: Mutex<BTreeSet<String>>,
    wake: Notify,
}

/// Starts the worker (from `workers::start`); it ends when `stopping` turns true.
pub fn start(st: Arc<VtexState>, mut stopping: watch::Receiver<bool>) {
    let events = st.events.subscribe();
    let w = Arc::new(Worker {
        st,
        busy: Mutex::default(),
        attempts: Mutex::default(),
        shown: Mutex::default(),
        wake: Notify::new(),
    });
    tokio::spawn(async move {
        let mut events = events;
        loop {
            w.sweep();
            tokio::select! {
                r = stopping.changed() => if r.is_err() || *stopping.borrow() { return },
                r = events.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = r {
                        return;
                    }
                    // One sweep for whatever was committed meanwhile, not one per command.
                    while !matches!(events.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
                }
                _ = w.wake.notified() => {}
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    });
}

impl Worker {
    /// Starts every owed effect not already under way, and shows the backlog per seller.
    fn sweep(self: &Arc<Self>) {
        let effects = self.st.writer.read(|e| e.pending_external_effects());
        let mut pending: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        for x in effects {
            let key: Key = (x.seller.to_string(), x.id.to_string(), kind_name(x.kind));
            *pending.entry((key.0.clone(), key.2)).or_default() += 1;
            if x.fulfillment_endpoint.is_none() || !self.busy.lock().unwrap().insert(key.clone()) {
                continue; // no integration any more (it waits), or under way
            }
            let w = self.clone();
            tokio::spawn(async move { w.run(key, x).await });
        }
        let now: BTreeSet<String> = pending.keys().map(|k| k.0.clone()).collect();
        let before = std::mem::replace(&mut *self.shown.lock().unwrap(), now.clone());
        for s in now.union(&before) {
            for kind in ["placement", "fulfill", "cancel"] {
                let n = pending.get(&(s.clone(), kind)).copied().unwrap_or(0);
                self.st.outbound.set_pending(s, kind, n);
            }
        }
    }

    /// One attempt at effect `x`, then its record, or the wait before the next attempt.
    async fn run(self: Arc<Self>, key: Key, x: ExternalEffect) {
        let attempt = perform::attempt(&self.st, &x).await;
        let delay = match attempt {
            Attempt::Record(outcome) => {
                let cmd = Command::RecordExternalOrder { seller: key.0.clone(), id: key.1.clone(), outcome };
                match self.st.writer.submit(cmd).await {
                    Ok(Ok(_)) => {
                        self.attempts.lock().unwrap().remove(&key);
                        None
                    }
                    Ok(Err(e)) => {
                        // The state moved on (recorded meanwhile): the next sweep sees what is owed.
                        tracing::warn!(seller = %key.0, id = %key.1, error = %e, "recording an external order");
                        self.attempts.lock().unwrap().remove(&key);
                        None
                    }
                    Err(e) => {
                        tracing::warn!(seller = %key.0, id = %key.1, error = %e, "recording an external order");
                        Some(Duration::from_secs(1))
                    }
                }
            }
            Attempt::Again(after) => {
                let mut attempts = self.attempts.lock().unwrap();
                let n = attempts.entry(key.clone()).or_default();
                let d = after.unwrap_or_else(|| crate::outbound::backoff(*n));
                *n = n.saturating_add(1);
                Some(d)
            }
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        self.busy.lock().unwrap().remove(&key);
        self.wake.notify_one();
    }
}
