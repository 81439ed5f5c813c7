//! `offernet bench freshness`: how long a stock write at the bottom of a 3-level chain takes,
//! through the HTTP API and the durable journal, to reach the top marketplace as an
//! `offer.changed` event over SSE.

use std::time::Instant;

use clap::Args;
use serde_json::json;

use crate::bench::anyhow_lite::Result;
use crate::http_client::Conn;

#[derive(Args, Clone, Debug)]
pub struct FreshnessArgs {
    /// Stock writes measured (each waits for its event before the next).
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

pub fn must(c: &mut Conn, m: &str, p: &str, t: &str, b: serde_json::Value) -> Result<serde_json::Value> {
    let (st, body) = c.request(m, p, Some(t), Some(&b.to_string()), &[]).map_err(e)?;
    if st >= 300 {
        return Err(format!("{m} {p}: {st} {body}"));
    }
    Ok(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

/// The operator token of the benchmarks' in-process servers.
pub const BENCH_ADMIN: &str = "admin.bench-operator-token-0123456789abcdef";

/// Starts an in-process server on 127.0.0.1 (port 0) with a fresh temporary data directory.
pub fn bench_server(
    rt: &tokio::runtime::Runtime,
    name: &str,
    max_batch: usize,
) -> Result<(offernet_server::Running, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("offernet-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = offernet_server::Config {
        data_dir: dir.clone(),
        listen: "127.0.0.1:0".into(),
        admin_token: Some(BENCH_ADMIN.into()),
        snapshot_every: 0,
        max_batch,
        ..Default::default()
    };
    Ok((rt.block_on(offernet_server::start(config))?, dir))
}

/// Creates accounts over HTTP (currency BRL) and returns their tokens by id.
pub fn create_accounts(c: &mut Conn, ids: &[&str]) -> Result<std::collections::HashMap<String, String>> {
    let mut tok = std::collections::HashMap::new();
    for id in ids {
        let body = json!({"id": id, "name": id, "currency": "BRL"}).to_string();
        let v = must(c, "POST", "/v1/accounts", BENCH_ADMIN, serde_json::from_str(&body).map_err(e)?)?;
        tok.insert(id.to_string(), v["token"].as_str().unwrap_or_default().to_string());
    }
    Ok(tok)
}

pub fn freshness(a: FreshnessArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(e)?;
    let (running, dir) = bench_server(&rt, "fresh", offernet_store::writer::DEFAULT_MAX_BATCH)?;
    let addr = running.addr.to_string();
    let result = (|| -> Result<(Vec<f64>, Vec<f64>)> {
        let mut c = Conn::open(&addr).map_err(e)?;
        let tok = create_accounts(&mut c, &["seller", "mid", "top"])?;
        let t = |k: &str| tok[k].clone();
        must(&mut c, "PUT", "/v1/accounts/seller/skus/k", &t("seller"), json!({"name": "K"}))?;
        must(&mut c, "PUT", "/v1/accounts/seller/skus/other", &t("seller"), json!({"name": "Unconnected"}))?;
        must(&mut c, "PUT", "/v1/accounts/seller/prices/k", &t("seller"), json!({"price": 100}))?;
        must(&mut c, "PUT", "/v1/accounts/seller/warehouses/w", &t("seller"), json!({}))?;
        must(&mut c, "PUT", "/v1/accounts/seller/warehouses/w/stock/k", &t("seller"), json!({"quantity": 1}))?;
        must(
            &mut c,
            "PUT",
            "/v1/accounts/seller/affiliations/mid",
            &t("seller"),
            json!({"trade_policy": "1", "resale": "all"}),
        )?;
        must(&mut c, "PUT", "/v1/accounts/mid/sellers/seller", &t("mid"), json!({}))?;
        must(&mut c, "PUT", "/v1/accounts/mid/prices/seller-k", &t("mid"), json!({"price": 120}))?;
        must(&mut c, "PUT", "/v1/accounts/mid/warehouses/w", &t("mid"), json!({}))?;
        must(&mut c, "PUT", "/v1/accounts/mid/warehouses/w/stock/seller-k", &t("mid"), json!({"quantity": 1}))?;
        must(&mut c, "PUT", "/v1/accounts/mid/affiliations/top", &t("mid"), json!({"trade_policy": "1"}))?;
        must(&mut c, "PUT", "/v1/accounts/top/sellers/mid", &t("top"), json!({}))?;
        let last =
            must(&mut c, "GET", "/v1/accounts/top/events", &t("top"), json!({}))?["last_seq"].as_u64().unwrap_or(0);
        let mut events = Conn::open(&addr)
            .map_err(e)?
            .stream(&format!("/v1/accounts/top/events?after={last}"), &t("top"))
            .map_err(e)?;
        let mut fresh = Vec::with_capacity(a.samples);
        let mut commit = Vec::with_capacity(a.samples);
        for i in 0..a.samples {
            // Baseline: one durable commit and one HTTP round trip that propagates nowhere.
            let t0 = Instant::now();
            must(&mut c, "PUT", "/v1/accounts/seller/warehouses/w/stock/other", &t("seller"), json!({"quantity": i}))?;
            commit.push(t0.elapsed().as_secs_f64() * 1e3);
            // The measured path: bottom stock write → offer.changed at the top, over SSE.
            let q = 2 + i as u64;
            let t0 = Instant::now();
            must(&mut c, "PUT", "/v1/accounts/seller/warehouses/w/stock/k", &t("seller"), json!({"quantity": q}))?;
            loop {
                let ev = events.next_event().map_err(e)?;
                if ev["type"] == "offer.changed" && ev["offer"]["quantity"] == q + 1 {
                    break;
                }
            }
            fresh.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        Ok((fresh, commit))
    })();
    rt.block_on(running.shutdown())?;
    let _ = std::fs::remove_dir_all(&dir);
    let (mut fresh, mut commit) = result?;
    let (f50, f99) = (pct(&mut fresh, 0.5), pct(&mut fresh, 0.99));
    let (c50, c99) = (pct(&mut commit, 0.5), pct(&mut commit, 0.99));
    println!(
        "scenario   freshness: stock write at the bottom of seller -> mid -> top, until offer.changed at top (SSE)"
    );
    println!("samples    {}", a.samples);
    println!("freshness  p50 {f50:.3} ms   p99 {f99:.3} ms");
    println!("baseline   p50 {c50:.3} ms   p99 {c99:.3} ms   (one durable commit + one HTTP round trip, same run)");
    println!(
        "{}",
        json!({"scenario": "freshness", "samples": a.samples, "p50_ms": f50, "p99_ms": f99,
               "baseline_commit_p50_ms": c50, "baseline_commit_p99_ms": c99})
    );
    Ok(())
}
