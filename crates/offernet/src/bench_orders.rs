//! `offernet bench orders` and `offernet bench simulation`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use offernet_core::*;
use offernet_store::*;
use serde_json::json;

use crate::bench::{anyhow_lite::Result, generate, median, NetworkArgs, Rng};
use crate::bench_http::{bench_server, create_accounts};
use crate::http_client::Conn;

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).expect("well-formed command")
}

/// A seller with one hot SKU of `stock` units, sold at one marketplace.
fn hot_sku_setup(stock: u64) -> Vec<Command> {
    vec![
        cmd(json!({"type": "create_account", "id": "seller", "name": "Seller", "currency": "BRL"})),
        cmd(json!({"type": "create_account", "id": "market", "name": "Market", "currency": "BRL"})),
        cmd(json!({"type": "put_sku", "account": "seller", "sku": "hot", "body": {"name": "Hot"}})),
        cmd(json!({"type": "put_price", "account": "seller", "sku": "hot", "body": {"price": 990}})),
        cmd(json!({"type": "put_warehouse", "account": "seller", "warehouse": "w", "body": {}})),
        cmd(
            json!({"type": "put_stock", "account": "seller", "warehouse": "w", "sku": "hot", "body": {"quantity": stock}}),
        ),
        cmd(
            json!({"type": "put_affiliation", "seller": "seller", "marketplace": "market", "body": {"trade_policy": "1"}}),
        ),
        cmd(json!({"type": "put_seller", "marketplace": "market", "seller": "seller", "body": {}})),
    ]
}

fn order(i: u64) -> Command {
    cmd(json!({"type": "place_order", "marketplace": "market",
        "body": {"id": format!("o{i}"), "items": [{"sku": "seller-hot", "quantity": 1, "seller": "seller"}]}}))
}

#[derive(Args, Clone, Debug)]
pub struct OrdersArgs {
    /// Stock K of the hot SKU (orders beyond it must fail).
    #[arg(long, default_value_t = 50_000)]
    pub stock: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Orders attempted (more than the stock, so that the end of stock is part of the run).
    #[arg(long, default_value_t = 60_000)]
    pub orders: u64,
    /// Orders for the one-commit-per-request baselines (slow by design).
    #[arg(long, default_value_t = 3_000)]
    pub baseline_orders: u64,
    /// Run the engine-with-journal part against PostgreSQL: a URL whose database the
    /// benchmark may drop and create (`<url-db>_bench_1`, `_bench_1024`); default SQLite.
    #[arg(long, env = "OFFERNET_BENCH_DATABASE_URL")]
    pub database: Option<String>,
}

/// Creates (dropping first) a database named after the URL's own with a suffix, and returns
/// its URL. Used only for benchmark databases.
async fn fresh_database(base: &str, suffix: &str) -> Result<String> {
    let (head, query) = base
        .split_once('?')
        .map(|(h, q)| (h.to_string(), format!("?{q}")))
        .unwrap_or((base.to_string(), String::new()));
    let (root, db) = head.rsplit_once('/').ok_or("a postgres URL ends with /database")?;
    let name = format!("{db}_{suffix}");
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("database name `{name}`: use letters, digits and _"));
    }
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(base).await.map_err(e)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
        .execute(&mut admin)
        .await
        .map_err(e)?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.map_err(e)?;
    Ok(format!("{root}/{name}{query}"))
}

/// Through the writer and the journal, in-process: (orders/s, successes).
async fn engine_run(a: &OrdersArgs, max_batch: usize, n: u64, stock: u64) -> Result<(f64, u64)> {
    let dir = std::env::temp_dir().join(format!("offernet-bench-orders-{}-{max_batch}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(e)?;
    let url = match &a.database {
        None => None,
        Some(base) => Some(fresh_database(base, &format!("bench_{max_batch}")).await?),
    };
    let mut j = AnyJournal::open(url.as_deref(), &dir).await.map_err(e)?;
    let mut r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.map_err(e)?;
    import(&mut j, &mut r, hot_sku_setup(stock), 0, &mut |_| {}).await.map_err(e)?;
    let (h, task) = spawn(j, r, WriterConfig { max_batch, snapshot_every: 0, ..Default::default() });
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let (h, next, ok) = (h.clone(), next.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), String>(());
                }
                loop {
                    match h.submit(order(i)).await {
                        Ok(Ok(_)) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Ok(Err(DomainError::InsufficientStock { .. })) => break,
                        Ok(Err(x)) => return Err(x.to_string()),
                        Err(SubmitError::Busy) => tokio::task::yield_now().await,
                        Err(x) => return Err(x.to_string()),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(e)??;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let reserved = h.read(|e| e.sku("seller", "hot").map(|s| s.stock[0].reserved)).map_err(e)?;
    let won = ok.load(Ordering::Relaxed);
    if reserved != won || won > stock {
        return Err(format!("oversell check failed: {won} orders, {reserved} reserved, stock {stock}"));
    }
    h.shutdown().await;
    let _ = task.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((rate, won))
}

/// Over HTTP against an in-process server: (orders/s, successes).
fn http_run(rt: &tokio::runtime::Runtime, a: &OrdersArgs, max_batch: usize, n: u64, stock: u64) -> Result<(f64, u64)> {
    let (running, dir) = bench_server(rt, &format!("orders-http-{max_batch}"), max_batch)?;
    let addr = running.addr.to_string();
    let result = (|| -> Result<(f64, u64)> {
        let mut c = Conn::open(&addr).map_err(e)?;
        let tok = create_accounts(&mut c, &["seller", "market"])?;
        let s = tok["seller"].clone();
        for (p, b) in [
            ("/v1/accounts/seller/skus/hot", json!({"name": "Hot"})),
            ("/v1/accounts/seller/prices/hot", json!({"price": 990})),
            ("/v1/accounts/seller/warehouses/w", json!({})),
            ("/v1/accounts/seller/warehouses/w/stock/hot", json!({"quantity": stock})),
            ("/v1/accounts/seller/affiliations/market", json!({"trade_policy": "1"})),
        ] {
            c.request("PUT", p, Some(&s), Some(&b.to_string()), &[]).map_err(e)?;
        }
        c.request("PUT", "/v1/accounts/market/sellers/seller", Some(&tok["market"]), Some("{}"), &[]).map_err(e)?;
        let next = Arc::new(AtomicU64::new(0));
        let ok = Arc::new(AtomicU64::new(0));
        let t = Instant::now();
        let threads: Vec<_> = (0..a.clients)
            .map(|_| {
                let (addr, m, next, ok) = (addr.clone(), tok["market"].clone(), next.clone(), ok.clone());
                std::thread::spawn(move || -> Result<()> {
                    let mut c = Conn::open(&addr).map_err(e)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(());
                        }
                        let body = json!({"id": format!("o{i}"), "items": [{"sku": "seller-hot", "quantity": 1, "seller": "seller"}]});
                        let (st, b) = c.request("POST", "/v1/accounts/market/orders", Some(&m), Some(&body.to_string()), &[]).map_err(e)?;
                        match st {
                            201 => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            409 if b.contains("insufficient_stock") => {}
                            _ => return Err(format!("{st} {b}")),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "client panicked".to_string())??;
        }
        let rate = n as f64 / t.elapsed().as_secs_f64();
        Ok((rate, ok.load(Ordering::Relaxed)))
    })();
    rt.block_on(running.shutdown())?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

pub fn orders(a: OrdersArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(e)?;
    let (eng, eng_won) = rt.block_on(engine_run(&a, offernet_store::writer::DEFAULT_MAX_BATCH, a.orders, a.stock))?;
    let (eng_base, _) = rt.block_on(engine_run(&a, 1, a.baseline_orders, a.baseline_orders))?;
    let (http, http_won) = http_run(&rt, &a, offernet_store::writer::DEFAULT_MAX_BATCH, a.orders, a.stock)?;
    let (http_base, _) = http_run(&rt, &a, 1, a.baseline_orders, a.baseline_orders)?;
    for (what, won) in [("engine", eng_won), ("http", http_won)] {
        if won != a.stock.min(a.orders) {
            return Err(format!("{what}: {won} orders succeeded, expected exactly {}", a.stock.min(a.orders)));
        }
    }
    println!(
        "scenario  orders: {} clients, 1 unit of one hot SKU each, stock K = {}, {} attempts",
        a.clients, a.stock, a.orders
    );
    println!("engine    {eng:>10.0} orders/s with group commit (exactly {eng_won} succeeded)");
    println!("          {eng_base:>10.0} orders/s with one commit per order (baseline)");
    println!("http      {http:>10.0} orders/s with group commit (exactly {http_won} succeeded)");
    println!("          {http_base:>10.0} orders/s with one commit per request (baseline)");
    println!(
        "{}",
        json!({"scenario": "orders", "clients": a.clients, "stock": a.stock, "attempts": a.orders,
            "engine_journal_per_s": eng.round(), "engine_one_commit_per_s": eng_base.round(),
            "http_per_s": http.round(), "http_one_commit_per_s": http_base.round()})
    );
    Ok(())
}

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

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
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
    // HTTP: the same network behind the server is costly to build through HTTP; the latency of
    // simulation over HTTP is measured on the documents-sized network the server builds here.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(e)?;
    let (running, dir) = bench_server(&rt, "sim", offernet_store::writer::DEFAULT_MAX_BATCH)?;
    let addr = running.addr.to_string();
    let lat = (|| -> Result<(Vec<f64>, f64)> {
        let mut c = Conn::open(&addr).map_err(e)?;
        let tok = create_accounts(&mut c, &["seller", "market"])?;
        c.request("PUT", "/v1/accounts/seller/warehouses/w", Some(&tok["seller"]), Some("{}"), &[]).map_err(e)?;
        for i in 0..100 {
            c.request(
                "PUT",
                &format!("/v1/accounts/seller/skus/k{i}"),
                Some(&tok["seller"]),
                Some(r#"{"name":"K"}"#),
                &[],
            )
            .map_err(e)?;
            c.request(
                "PUT",
                &format!("/v1/accounts/seller/prices/k{i}"),
                Some(&tok["seller"]),
                Some(r#"{"price":100}"#),
                &[],
            )
            .map_err(e)?;
            c.request(
                "PUT",
                &format!("/v1/accounts/seller/warehouses/w/stock/k{i}"),
                Some(&tok["seller"]),
                Some(r#"{"quantity":1000}"#),
                &[],
            )
            .map_err(e)?;
        }
        c.request(
            "PUT",
            "/v1/accounts/seller/affiliations/market",
            Some(&tok["seller"]),
            Some(r#"{"trade_policy":"1"}"#),
            &[],
        )
        .map_err(e)?;
        c.request("PUT", "/v1/accounts/market/sellers/seller", Some(&tok["market"]), Some("{}"), &[]).map_err(e)?;
        let per = a.http_requests / a.clients.max(1);
        let t = Instant::now();
        let threads: Vec<_> = (0..a.clients)
            .map(|k| {
                let (addr, m) = (addr.clone(), tok["market"].clone());
                std::thread::spawn(move || -> Result<Vec<f64>> {
                    let mut c = Conn::open(&addr).map_err(e)?;
                    let mut rng = Rng(k as u64 + 1);
                    let mut out = Vec::with_capacity(per);
                    for _ in 0..per {
                        let items: Vec<serde_json::Value> = (0..3)
                            .map(|_| json!({"sku": format!("seller-k{}", rng.below(100)), "quantity": 1}))
                            .collect();
                        let body = json!({"items": items}).to_string();
                        let t0 = Instant::now();
                        let (st, b) = c
                            .request("POST", "/v1/accounts/market/simulation", Some(&m), Some(&body), &[])
                            .map_err(e)?;
                        if st != 200 {
                            return Err(format!("{st} {b}"));
                        }
                        out.push(t0.elapsed().as_secs_f64() * 1e3);
                    }
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            all.extend(t.join().map_err(|_| "client panicked".to_string())??);
        }
        let rate = all.len() as f64 / t.elapsed().as_secs_f64();
        Ok((all, rate))
    })();
    rt.block_on(running.shutdown())?;
    let _ = std::fs::remove_dir_all(&dir);
    let (mut lat, rate) = lat?;
    let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!("scenario    simulation: 3-item carts");
    println!(
        "engine      {engine_items:>12.0} items/s at the top of a network of {} offers (median of {} runs)",
        net.engine.offer_count(),
        a.runs
    );
    println!("http        {rate:>12.0} requests/s from {} clients; p50 {p50:.3} ms, p99 {p99:.3} ms", a.clients);
    println!(
        "{}",
        json!({"scenario": "simulation", "engine_items_per_s": engine_items.round(), "http_requests_per_s": rate.round(),
            "http_p50_ms": p50, "http_p99_ms": p99, "clients": a.clients})
    );
    Ok(())
}
