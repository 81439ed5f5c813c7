//! B5 then B6 (vtex-compat.md §2.2): on `suggestion.created` at a VTEX mirror V for seller S,
//! ask V whether it knows S's SKU (B5, the catalog change notification); 200 → done; 404 →
//! send the suggestion (B6, SUG `SaveSuggestion`). A SKU that cannot be suggested (no brand,
//! neither EAN nor ref_id, no category, no measures) is not sent and is counted as
//! `not_suggestible` in V's integration status. While V still answers B5 with 404, a change of
//! what the SKU is (not its price or stock) sends the suggestion again: a sweep every 5 s
//! compares it with what was sent. B5 and B6 are tried 3 times each (retryable failures only).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::orders::segment;
use super::suggestion::{content_of, read_input, suggestion_body};
use crate::outbound::{backoff, Call, Failure, Request};
use crate::VtexState;

/// (V, S, S's SKU).
pub type Key = (String, String, String);

/// Tries of B5 and of B6 (design §3.2).
pub const TRIES: u32 = 3;
/// SKUs remembered while V answers B5 with 404 (each is looked at every sweep).
pub const MAX_AWAITING: usize = 10_000;
/// How often the awaiting SKUs are compared with what was sent.
pub const SWEEP: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Catalog {
    /// Suggested, V still answered B5 with 404: what the SKU was when sent.
    awaiting: BTreeMap<Key, Value>,
    /// Per V, the SKUs that cannot be suggested.
    not_suggestible: BTreeMap<String, BTreeSet<(String, String)>>,
}

/// The worker: suggestions created at mirrors arrive on `keys`.
pub async fn run(st: Arc<VtexState>, mut keys: mpsc::Receiver<Key>, mut stopping: watch::Receiver<bool>) {
    let mut c = Catalog::default();
    let mut sweep = tokio::time::interval(SWEEP);
    loop {
        tokio::select! {
            k = keys.recv() => match k {
                Some(k) => handle(&st, &mut c, k).await,
                None => return,
            },
            _ = sweep.tick() => {
                let changed: Vec<Key> = c.awaiting.iter().filter(|(k, sent)| current(&st, k).is_none_or(|now| &now != *sent)).map(|(k, _)| k.clone()).collect();
                for k in changed {
                    handle(&st, &mut c, k).await;
                }
            }
            _ = stopping.changed() => {}
        }
        if *stopping.borrow() {
            return;
        }
    }
}

/// What the SKU of `k` is now, as a suggestion would say (`None`: gone or not suggestible).
fn current(st: &VtexState, k: &Key) -> Option<Value> {
    let input = st.writer.read(|e| read_input(e, &k.0, &k.1, &k.2))?;
    suggestion_body(&input).ok().map(|b| content_of(&b))
}

async fn handle(st: &VtexState, c: &mut Catalog, k: Key) {
    let (v, s, sku) = (&k.0, &k.1, &k.2);
    let Some(input) = st.writer.read(|e| read_input(e, v, s, sku)) else {
        c.awaiting.remove(&k);
        return;
    };
    let body = match suggestion_body(&input) {
        Ok(b) => b,
        Err(why) => {
            tracing::info!(marketplace = %v, seller = %s, sku = %sku, reason = why.as_str(), "not suggestible");
            c.awaiting.remove(&k);
            let set = c.not_suggestible.entry(v.clone()).or_default();
            set.insert((s.clone(), sku.clone()));
            st.outbound.set_pending(v, "not_suggestible", set.len() as u64);
            return;
        }
    };
    if let Some(set) = c.not_suggestible.get_mut(v) {
        if set.remove(&(s.clone(), sku.clone())) {
            st.outbound.set_pending(v, "not_suggestible", set.len() as u64);
        }
    }
    let (api, sugg) = (input.integration.api_base.clone(), input.integration.suggestions_base.clone());
    let (Some(api), Some(sugg)) = (api, sugg) else { return };
    let id = segment(&input.remote_seller_id);
    let b5 =
        format!("{}/catalog_system/pvt/skuseller/changenotification/{id}/{}", api.trim_end_matches('/'), segment(sku));
    match tries(st, v, s, Call::BindingCheck, reqwest::Method::POST, b5, None).await {
        Ok(()) => {
            c.awaiting.remove(&k);
        }
        Err(Failure::Status { status: 404, .. }) => {
            let b6 = format!("{}/suggestions/{id}/{}", sugg.trim_end_matches('/'), segment(sku));
            if tries(st, v, s, Call::Suggestion, reqwest::Method::PUT, b6, Some(&body)).await.is_ok()
                && (c.awaiting.len() < MAX_AWAITING || c.awaiting.contains_key(&k))
            {
                c.awaiting.insert(k, content_of(&body));
            }
        }
        Err(_) => {}
    }
}

/// One call, tried up to [`TRIES`] times while its failure is retryable.
async fn tries(
    st: &VtexState,
    v: &str,
    s: &str,
    call: Call,
    method: reqwest::Method,
    url: String,
    body: Option<&Value>,
) -> Result<(), Failure> {
    let mut attempt = 0;
    loop {
        let req = Request { account: v, seller: Some(s), call, method: method.clone(), url: url.clone(), body };
        match st.outbound.call(req).await {
            Ok(_) => return Ok(()),
            Err(f) if f.retryable() && attempt + 1 < TRIES => {
                tokio::time::sleep(f.retry_after().unwrap_or_else(|| backoff(attempt))).await;
                attempt += 1;
            }
            Err(f) => return Err(f),
        }
    }
}
