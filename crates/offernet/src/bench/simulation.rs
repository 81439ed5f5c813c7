//! `offernet bench simulation`: 3-item carts at the top marketplace, in the engine (items/s)
//! and over HTTP (latency percentiles).

use std::net::SocketAddr;
use std::time::Instant;

use clap::Args;
use offernet_core::*;
use serde_json::{json, Value};

use super::common::{median, ms_since, pct, Rng, Yardstick};
use super::http::{create_accounts, with_server};
use super::http_client::Conn;
use super::network::{generate, NetworkArgs};
use crate::shared::{e, Result};

#[derive(Args, Clone, Debug)]
pub struct SimulationArgs {
    #[command(flatten)]
    pub net: NetworkArgs,
    /// Carts simulated in the engine per run.
    #[arg(long, default_value_t = 1_000_000)]
    pub carts: usize,
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// HTTP requests (3-item carts) for the latency figures.
    #[arg(long, default_value_t = 20_000)]
    pub http_requests: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
}

pub fn simulation(a: SimulationArgs) -> Result<()> {
    let net = generate(&a.net)?;
    let top = net.levels[0][0].clone();
    let offers = net.engine.offers(&top, &OfferFilter::default()).map_err(e)?;
    if offers.is_empty() {
        return Err("the top marketplace has no offers".into());
    }
    let mut rng = Rng(a.net.seed ^ 0x51);
    let cart = |rng: &mut Rng| -> Vec<OrderItemBody> {
        (0..3)
            .map(|_| OrderItemBody {
                sku: Some(offers[rng.below(offers.len() as u64) as usize].sku.to_string()),
                quantity: Some(1),
                seller: None,
            })
            .collect()
    };
    let mut rates = Vec::new();
    for _ in 0..a.runs {
        let carts: Vec<Vec<OrderItemBody>> = (0..a.carts).map(|_| cart(&mut rng)).collect();
        let t = Instant::now();
        for c in &carts {
            std::hint::black_box(net.engine.simulate(&top, c).map_err(e)?);
        }
        rates.push(3.0 * a.carts as f64 / t.elapsed().as_secs_f64());
    }
    let engine_items = median(&mut rates);
    let yardstick = Yardstick::measure(net.engine.size().1);
    // HTTP: the same network behind the server is costly to build through HTTP; the latency of
    // simulation over HTTP is measured on the documents-sized network the server builds here.
    let (mut lat, rate) = with_server("sim", offernet_store::writer::DEFAULT_MAX_BATCH, |addr| async move {
        http_latencies(addr, a.clients, a.http_requests).await
    })?;
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!("scenario    simulation: 3-item carts");
    println!(
        "engine      {engine_items:>12.0} items/s at the top of a network of {} offers (median of {} runs)",
        net.engine.offer_count(),
        a.runs
    );
    println!("{}", yardstick.line("engine items/s", engine_items));
    println!("http        {rate:>12.0} requests/s from {} clients; p50 {p50:.3} ms, p99 {p99:.3} ms", a.clients);
    println!(
        "{}",
        json!({"scenario": "simulation", "engine_items_per_s": engine_items.round(), "http_requests_per_s": rate.round(),
            "http_p50_ms": p50, "http_p99_ms": p99, "clients": a.clients,
            "yardstick": yardstick.json(engine_items)})
    );
    Ok(())
}

/// A seller with 100 stocked SKUs at one marketplace, then `requests` simulations of random
/// 3-item carts from `clients` concurrent clients, one connection each: (latencies in ms,
/// requests/s).
async fn http_latencies(addr: SocketAddr, clients: usize, requests: usize) -> Result<(Vec<f64>, f64)> {
    let mut api = Conn::open(addr).await?;
    let tok = create_accounts(&mut api, &["seller", "market"]).await?;
    let seller = &tok["seller"];
    api.must("PUT", "/v1/accounts/seller/warehouses/w", seller, Some(json!({}))).await?;
    for i in 0..100 {
        api.must("PUT", &format!("/v1/accounts/seller/skus/k{i}"), seller, Some(json!({"name": "K"}))).await?;
        api.must("PUT", &format!("/v1/accounts/seller/prices/k{i}"), seller, Some(json!({"price": 100}))).await?;
        let stock = json!({"quantity": 1000});
        api.must("PUT", &format!("/v1/accounts/seller/warehouses/w/stock/k{i}"), seller, Some(stock)).await?;
    }
    api.must("PUT", "/v1/accounts/seller/affiliations/market", seller, Some(json!({"trade_policy": "1"}))).await?;
    api.must("PUT", "/v1/accounts/market/sellers/seller", &tok["market"], Some(json!({}))).await?;
    let per = requests / clients.max(1);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let m = tok["market"].clone();
        tasks.push(tokio::spawn(async move {
            let mut api = Conn::open(addr).await?;
            let mut rng = Rng(k as u64 + 1);
            let mut out = Vec::with_capacity(per);
            for _ in 0..per {
                let items: Vec<Value> =
                    (0..3).map(|_| json!({"sku": format!("seller-k{}", rng.below(100)), "quantity": 1})).collect();
                let body = json!({"items": items});
                let t0 = Instant::now();
                let (st, b) = api.request("POST", "/v1/accounts/market/simulation", &m, Some(&body)).await?;
                if st != 200 {
                    return Err(format!("{st} {}", String::from_utf8_lossy(&b)));
                }
                out.push(ms_since(t0));
            }
            Ok::<Vec<f64>, String>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(e)??);
    }
    let rate = all.len() as f64 / t.elapsed().as_secs_f64();
    Ok((all, rate))
}
