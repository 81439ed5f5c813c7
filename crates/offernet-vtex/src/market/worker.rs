//! The quote worker and its sweep (vtex-compat.md §2.4 A1, §3.3): the worker takes up to 50
//! SKUs of one external seller E from the refresh queue, asks E (A1, an indexing simulation,
//! through `crate::outbound`: its timeout, credentials, circuit breaker and in-flight bound), and
//! submits what E answered as `ApplySellerQuotes`, stamped with the time it asked (the worker's
//! clock). A failed call changes nothing: the quote ages, and past its TTL `ExpireQuotes` makes
//! it `quote_stale`. The sweep fills the queue without notifications (`sweep.rs`).
//!
//! Both run only where the writer runs (`workers::start`), so only one process asks E.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use offernet_core::{Command, Engine, QuoteBody};
use tokio::sync::{watch, Semaphore};

use super::quote::{self, Endpoint};
use super::sweep::Sweep;
use crate::outbound::{now_ms, Answer, Call, Failure, Request, MAX_IN_FLIGHT_PER_ACCOUNT};
use crate::VtexState;

/// Simulations in flight at once, over all sellers (`outbound` also bounds each seller to 8):
/// enough to keep many sellers fresh, few enough that a burst of notifications cannot make
/// an unbounded number of tasks.
pub const MAX_SIMULATIONS_IN_FLIGHT: usize = 32;
/// How often the sweep looks for sellers and quotes that are due.
pub const SWEEP_TICK_MS: u64 = 1_000;
/// The kind under which the queue's length per seller is shown (`integration/status`, metrics).
pub const PENDING_KIND: &str = "quote_refresh";

/// Starts the worker and the sweep; both stop when `stopping` turns true.
pub fn start(st: Arc<VtexState>, stopping: watch::Receiver<bool>) {
    let sweep = Arc::new(std::sync::Mutex::new(Sweep::new()));
    tokio::spawn(run_worker(st.clone(), sweep.clone(), stopping.clone()));
    tokio::spawn(run_sweep(st, sweep, stopping));
}

/// Simulations in flight per seller, so that one slow seller cannot hold every slot.
type Running = Arc<std::sync::Mutex<HashMap<Arc<str>, usize>>>;

async fn run_worker(st: Arc<VtexState>, sweep: Arc<std::sync::Mutex<Sweep>>, mut stopping: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_SIMULATIONS_IN_FLIGHT));
    let running: Running = Default::default();
    loop {
        while let Some((seller, skus)) = st.refresh.take() {
            // A seller with as many calls in flight as `outbound` lets through waits: its keys
            // go back (ready after the hold-off), and other sellers' keys come first.
            if !enter(&running, &seller) {
                st.refresh.push_all(&seller, skus.iter().map(|s| &**s));
                continue;
            }
            let Ok(slot) = slots.clone().acquire_owned().await else { return };
            let (st, sweep, running) = (st.clone(), sweep.clone(), running.clone());
            tokio::spawn(async move {
                refresh(&st, &sweep, &seller, &skus).await;
                leave(&running, &seller);
                drop(slot);
            });
        }
        let wait = st.refresh.next_ready_in_ms().map_or(Duration::from_secs(3_600), Duration::from_millis);
        tokio::select! {
            _ = st.refresh.pushed() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.changed() => return,
        }
    }
}

/// Counts a call of `seller` in, unless it has `MAX_IN_FLIGHT_PER_ACCOUNT` already.
fn enter(running: &Running, seller: &Arc<str>) -> bool {
    let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
    let n = r.entry(seller.clone()).or_default();
    if *n >= MAX_IN_FLIGHT_PER_ACCOUNT {
        return false;
    }
    *n += 1;
    true
}

fn leave(running: &Running, seller: &str) {
    let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = r.get_mut(seller) {
        *n -= 1;
        if *n == 0 {
            r.remove(seller);
        }
    }
}

/// E's endpoint, when E is (still) an external seller.
fn endpoint(e: &Engine, seller: &str) -> Option<Endpoint> {
    let i = e.integration(seller).ok()?;
    Some(Endpoint {
        base: i.fulfillment_endpoint?,
        sales_channel: i.sales_channel?,
        affiliate_id: i.affiliate_id.flatten(),
    })
}

/// One A1 call for `skus` of `seller`, and its answer applied.
async fn refresh(st: &VtexState, sweep: &std::sync::Mutex<Sweep>, seller: &str, skus: &[Arc<str>]) {
    let Some(ep) = st.writer.read(|e| endpoint(e, seller)) else { return };
    let body = quote::simulation_request(seller, skus);
    let fetched_ms = now_ms();
    let request = Request {
        account: seller,
        seller: None,
        call: Call::QuoteSimulation,
        method: reqwest::Method::POST,
        url: ep.simulation_url(),
        body: Some(&body),
    };
    let answer = match st.outbound.call(request).await {
        Ok(Answer { body: Some(v), .. }) => v,
        Ok(Answer { body: None, .. }) => {
            tracing::warn!(seller, "the seller's simulation answer had no body: nothing applied");
            return;
        }
        Err(Failure::CircuitOpen) => return,
        Err(f) => {
            tracing::debug!(seller, failure = ?f, "a quote simulation failed: nothing changes");
            return;
        }
    };
    // SKUs the seller deleted meanwhile would refuse the whole command.
    let quotes: Vec<QuoteBody> = quote::quotes_from_answer(skus, &answer)
        .into_iter()
        .filter(|q| st.writer.read(|e| e.sku(seller, &q.sku).is_ok()))
        .collect();
    if quotes.is_empty() {
        return;
    }
    let cmd = Command::ApplySellerQuotes { seller: seller.to_string(), fetched_ms, quotes: quotes.clone() };
    match st.writer.submit(cmd).await {
        Ok(Ok(_)) => {
            st.outbound.quote_fetched(seller, fetched_ms);
            let mut sw = sweep.lock().unwrap_or_else(|e| e.into_inner());
            for q in &quotes {
                sw.watch_validity((Arc::from(seller), Arc::from(q.sku.as_str())), fetched_ms, q.valid_until_ms);
            }
        }
        Ok(Err(e)) => tracing::warn!(seller, error = %e, "the seller's quotes were refused"),
        Err(e) => tracing::warn!(seller, error = %e, "the seller's quotes were not submitted"),
    }
}

async fn run_sweep(st: Arc<VtexState>, sweep: Arc<std::sync::Mutex<Sweep>>, mut stopping: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(SWEEP_TICK_MS));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        sweep_once(&st, &sweep);
    }
}

/// One tick: the sellers due (each SKU due of theirs), and the quotes near their
/// `priceValidUntil`, into the queue.
fn sweep_once(st: &VtexState, sweep: &std::sync::Mutex<Sweep>) {
    let now = now_ms();
    let sellers: Vec<(Arc<str>, u64)> = st.writer.read(|e| {
        e.external_sellers()
            .into_iter()
            .filter_map(|s| {
                let minutes = e.integration(&s).ok()?.refresh_minutes?;
                Some((s, u64::from(minutes) * 60_000))
            })
            .collect()
    });
    let (due, near) = {
        let mut sw = sweep.lock().unwrap_or_else(|e| e.into_inner());
        let due = sw.sellers_due(&sellers, now, |s| st.outbound.circuit_open(s));
        (due, sw.validity_due(now))
    };
    for seller in due {
        let refresh_ms = sellers.iter().find(|(s, _)| *s == seller).map_or(0, |(_, r)| *r);
        let skus = st.writer.read(|e| {
            let (ids, quotes) = (e.sku_ids(&seller).unwrap_or_default(), e.seller_quotes(&seller).unwrap_or_default());
            Sweep::skus_due(&ids, &quotes, refresh_ms, now)
        });
        st.refresh.push_all(&seller, skus.iter().map(|s| &**s));
    }
    for (seller, sku) in near.into_iter().filter(|(s, _)| !st.outbound.circuit_open(s)) {
        st.refresh.push(&seller, &sku);
    }
    for (seller, _) in &sellers {
        st.outbound.set_pending(seller, PENDING_KIND, st.refresh.pending(seller) as u64);
    }
}
