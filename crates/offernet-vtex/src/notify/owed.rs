//! B8/B9, level-triggered (vtex-compat.md §3.4): after each batch of committed events, every
//! 5 s and at startup, the worker asks `Engine::pending_outbound()` what S owes V, sends it to
//! V's services endpoint (one task per marketplace, its calls in order), and acknowledges each
//! 2xx with `RecordOutbound { outcome: sent }`.
//! A failure waits its backoff (0.5 s × 2ⁿ up to 60 s, or V's `Retry-After`) and is tried
//! again, forever: the integration status and metrics show the backlog. A crash between the
//! call and its record repeats the call with the same `invoiceNumber`, which V deduplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use offernet_core::{Command, OutboundCall, OutboundOutcome, PendingOutbound};
use serde_json::Value;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::orders;
use crate::outbound::{backoff, Call, Request};
use crate::VtexState;

/// How often the owed calls are looked at without a wake-up.
pub const SWEEP: Duration = Duration::from_secs(5);

/// A seller order's key: (seller, seller order id).
type Key = (Arc<str>, Arc<str>);

/// When each failed call may be tried again, and how many tries failed.
#[derive(Default)]
struct Backoffs(BTreeMap<Key, (u32, Instant)>);

/// The worker: runs until `stopping` turns true.
pub async fn run(st: Arc<VtexState>, wake: Arc<Notify>, mut stopping: watch::Receiver<bool>) {
    let mut waits = Backoffs::default();
    let mut shown: BTreeSet<String> = BTreeSet::new();
    loop {
        let owed = st.writer.read(|e| {
            e.pending_outbound().into_iter().map(|p| (orders::body(e, &p), p)).collect::<Vec<(Option<Value>, _)>>()
        });
        show_pending(&st, &owed, &mut shown);
        let now = Instant::now();
        waits.0.retain(|k, _| owed.iter().any(|(_, p)| (&p.seller, &p.seller_order) == (&k.0, &k.1)));
        // Due calls, one task per marketplace (a slow one does not hold the others back),
        // each marketplace's calls in order.
        let mut by_v: BTreeMap<Arc<str>, Vec<(Value, PendingOutbound)>> = BTreeMap::new();
        for (body, p) in owed {
            let key = (p.seller.clone(), p.seller_order.clone());
            if waits.0.get(&key).is_some_and(|&(_, at)| at > now) {
                continue;
            }
            if let Some(body) = body {
                by_v.entry(p.marketplace.clone()).or_default().push((body, p));
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (_, calls) in by_v {
            let st = st.clone();
            tasks.spawn(async move {
                let mut failed = Vec::new();
                for (body, p) in calls {
                    if let Err(f) = send(&st, &p, &body).await {
                        failed.push(((p.seller.clone(), p.seller_order.clone()), f.retry_after()));
                    }
                }
                failed
            });
        }
        let mut done: BTreeSet<Key> = waits.0.keys().cloned().collect();
        while let Some(r) = tasks.join_next().await {
            for (key, retry_after) in r.unwrap_or_default() {
                done.remove(&key);
                let attempt = waits.0.get(&key).map_or(0, |&(n, _)| n + 1);
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                waits.0.insert(key, (attempt, Instant::now() + wait));
            }
        }
        // A call that was waiting and did not fail this time was sent or is no longer owed.
        for key in done {
            if waits.0.get(&key).is_some_and(|&(_, at)| at <= now) {
                waits.0.remove(&key);
            }
        }
        let next = waits.0.values().map(|&(_, at)| at).min().unwrap_or(now + SWEEP).min(Instant::now() + SWEEP);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(next) => {}
            _ = stopping.changed() => {}
        }
        if *stopping.borrow() {
            return;
        }
    }
}

/// One owed call, then its record; the failure when it is to be tried again.
async fn send(st: &VtexState, p: &PendingOutbound, body: &Value) -> Result<(), crate::outbound::Failure> {
    let call = match p.call {
        OutboundCall::Invoice => Call::Invoice,
        OutboundCall::Cancel => Call::SellerCancel,
    };
    let req = Request {
        account: &p.marketplace,
        seller: Some(&p.seller),
        call,
        method: reqwest::Method::POST,
        url: orders::url(p),
        body: Some(body),
    };
    match st.outbound.call(req).await {
        Ok(_) => {
            let cmd = Command::RecordOutbound {
                seller: p.seller.to_string(),
                id: p.seller_order.to_string(),
                call: p.call,
                outcome: OutboundOutcome::Sent,
            };
            match st.writer.submit(cmd).await {
                Ok(Ok(_)) => {}
                // Refused: the order changed meanwhile (nothing is owed); the state says so.
                Ok(Err(e)) => tracing::debug!(error = %e, order = %p.seller_order, "recording a sent call"),
                Err(e) => tracing::warn!(error = %e, order = %p.seller_order, "recording a sent call"),
            }
            Ok(())
        }
        Err(f) => {
            tracing::info!(call = call.name(), order = %p.seller_order, outcome = f.outcome(), "an owed call failed; trying again later");
            Err(f)
        }
    }
}

/// `invoice` and `seller_cancel` owed per marketplace, for its integration status and metrics.
fn show_pending(st: &VtexState, owed: &[(Option<Value>, PendingOutbound)], shown: &mut BTreeSet<String>) {
    let mut counts: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    for (_, p) in owed {
        let kind = match p.call {
            OutboundCall::Invoice => "invoice",
            OutboundCall::Cancel => "seller_cancel",
        };
        *counts.entry((p.marketplace.to_string(), kind)).or_default() += 1;
    }
    for v in shown.iter() {
        for kind in ["invoice", "seller_cancel"] {
            if !counts.contains_key(&(v.clone(), kind)) {
                st.outbound.set_pending(v, kind, 0);
            }
        }
    }
    shown.clear();
    for ((v, kind), n) in counts {
        st.outbound.set_pending(&v, kind, n);
        shown.insert(v);
    }
}
