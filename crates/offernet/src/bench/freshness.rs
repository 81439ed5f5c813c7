//! `offernet bench freshness`: how long a stock write at the bottom of a 3-level chain takes,
//! through the HTTP API and the durable journal, to reach the top marketplace as an
//! `offer.changed` event over SSE.

use std::net::SocketAddr;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::common::{ms_since, pct, Yardstick};
use super::http::{create_accounts, with_server};
use super::http_client::Conn;
use crate::shared::Result;

/// SKUs in the freshness network (`measure`): the seller's `k` and `other`, the mid's `seller-k`.
const FRESHNESS_SKUS: usize = 3;

#[derive(Args, Clone, Debug)]
pub struct FreshnessArgs {
    /// Stock writes measured (each waits for its event before the next).
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
}

pub fn freshness(a: FreshnessArgs) -> Result<()> {
    let (mut fresh, mut commit) = with_server("fresh", offernet_store::writer::DEFAULT_MAX_BATCH, |addr| async move {
        measure(addr, a.samples).await
    })?;
    let (f50, f99) = (pct(&mut fresh, 0.5), pct(&mut fresh, 0.99));
    let (c50, c99) = (pct(&mut commit, 0.5), pct(&mut commit, 0.99));
    // The network of this benchmark: three SKUs (seller's two, the mid's one). A latency is
    // compared as a rate: one change made fresh per p50.
    let yardstick = Yardstick::measure(FRESHNESS_SKUS);
    println!(
        "scenario   freshness: stock write at the bottom of seller -> mid -> top, until offer.changed at top (SSE)"
    );
    println!("samples    {}", a.samples);
    println!("freshness  p50 {f50:.3} ms   p99 {f99:.3} ms");
    println!("baseline   p50 {c50:.3} ms   p99 {c99:.3} ms   (one durable commit + one HTTP round trip, same run)");
    println!("{}", yardstick.line("1 / freshness p50", 1e3 / f50));
    println!(
        "{}",
        json!({"yardstick": yardstick.json(1e3 / f50), "scenario": "freshness", "samples": a.samples, "p50_ms": f50, "p99_ms": f99,
               "baseline_commit_p50_ms": c50, "baseline_commit_p99_ms": c99})
    );
    Ok(())
}

/// Builds seller -> mid -> top, then times `samples` writes on one connection while another
/// carries the top's event stream: (freshness ms, baseline ms).
async fn measure(addr: SocketAddr, samples: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut api = Conn::open(addr).await?;
    let tok = create_accounts(&mut api, &["seller", "mid", "top"]).await?;
    let (seller, mid, top) = (&tok["seller"], &tok["mid"], &tok["top"]);
    for (path, token, body) in [
        ("/v1/accounts/seller/skus/k", seller, json!({"name": "K"})),
        ("/v1/accounts/seller/skus/other", seller, json!({"name": "Unconnected"})),
        ("/v1/accounts/seller/prices/k", seller, json!({"price": 100})),
        ("/v1/accounts/seller/warehouses/w", seller, json!({})),
        ("/v1/accounts/seller/warehouses/w/stock/k", seller, json!({"quantity": 1})),
        ("/v1/accounts/seller/affiliations/mid", seller, json!({"trade_policy": "1", "resale": "all"})),
        ("/v1/accounts/mid/sellers/seller", mid, json!({})),
        ("/v1/accounts/mid/prices/seller-k", mid, json!({"price": 120})),
        ("/v1/accounts/mid/warehouses/w", mid, json!({})),
        ("/v1/accounts/mid/warehouses/w/stock/seller-k", mid, json!({"quantity": 1})),
        ("/v1/accounts/mid/affiliations/top", mid, json!({"trade_policy": "1"})),
        ("/v1/accounts/top/sellers/mid", top, json!({})),
    ] {
        api.must("PUT", path, token, Some(body)).await?;
    }
    let last = api.must("GET", "/v1/accounts/top/events", top, None).await?["last_seq"].as_u64().unwrap_or(0);
    let mut events = Conn::open(addr).await?.events(&format!("/v1/accounts/top/events?after={last}"), top).await?;
    let mut fresh = Vec::with_capacity(samples);
    let mut commit = Vec::with_capacity(samples);
    for i in 0..samples {
        // Baseline: one durable commit and one HTTP round trip that propagates nowhere.
        let t0 = Instant::now();
        let other = json!({"quantity": i});
        api.must("PUT", "/v1/accounts/seller/warehouses/w/stock/other", seller, Some(other)).await?;
        commit.push(ms_since(t0));
        // The measured path: bottom stock write → offer.changed at the top, over SSE.
        let q = 2 + i as u64;
        let t0 = Instant::now();
        api.must("PUT", "/v1/accounts/seller/warehouses/w/stock/k", seller, Some(json!({"quantity": q}))).await?;
        loop {
            let ev = events.next_event().await?;
            if ev["type"] == "offer.changed" && ev["offer"]["quantity"] == q + 1 {
                break;
            }
        }
        fresh.push(ms_since(t0));
    }
    Ok((fresh, commit))
}
