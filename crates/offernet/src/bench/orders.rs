//! `offernet bench orders`: concurrent clients race for one hot SKU, through the writer and
//! the journal in-process and over HTTP, each against one commit per order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use offernet_core::*;
use offernet_store::*;
use serde_json::json;

use super::common::{recover_quietly, temp_dir, Yardstick};
use super::http::{create_accounts, with_server};
use super::http_client::Conn;
use crate::shared::{cmd, e, runtime, submit, Result};

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

/// Order `o{i}` of 1 unit of the hot SKU, as the HTTP API and the command take it.
fn order_body(i: u64) -> serde_json::Value {
    json!({"id": format!("o{i}"), "items": [{"sku": "seller-hot", "quantity": 1, "seller": "seller"}]})
}

fn order(i: u64) -> Command {
    cmd(json!({"type": "place_order", "marketplace": "market", "body": order_body(i)}))
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

/// `clients` concurrent tasks attempt orders `0..n`, each taking the next number until none is
/// left. Each task first makes its client with `client()` (a connection, say), then
/// `attempt(client, i)` tries order `i` and hands the client back with whether the order
/// succeeded. Returns (attempts/s, successes).
async fn race<C, CFut, F, Fut>(clients: usize, n: u64, client: impl Fn() -> CFut, attempt: F) -> Result<(f64, u64)>
where
    C: Send + 'static,
    CFut: Future<Output = Result<C>> + Send + 'static,
    F: Fn(C, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(C, bool)>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (new_client, attempt, next, ok) = (client(), attempt.clone(), next.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = new_client.await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), String>(());
                }
                let won;
                (c, won) = attempt(c, i).await?;
                if won {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(e)??;
    }
    Ok((n as f64 / t.elapsed().as_secs_f64(), ok.load(Ordering::Relaxed)))
}

/// Through the writer and the journal, in-process: (orders/s, successes).
async fn engine_run(a: &OrdersArgs, max_batch: usize, n: u64, stock: u64) -> Result<(f64, u64)> {
    let dir = temp_dir(&format!("orders-{max_batch}"));
    let url = match &a.database {
        None => None,
        Some(base) => Some(fresh_database(base, &format!("bench_{max_batch}")).await?),
    };
    let mut j = AnyJournal::open(url.as_deref(), &dir).await.map_err(e)?;
    let mut r = recover_quietly(&mut j).await?;
    import(&mut j, &mut r, hot_sku_setup(stock), 0, &mut |_| {}).await.map_err(e)?;
    let (h, task) = spawn(j, r, WriterConfig { max_batch, snapshot_every: 0, ..Default::default() });
    let writer = h.clone();
    let client = move || std::future::ready(Ok(writer.clone()));
    let (rate, won) = race(a.clients, n, client, |h, i| async move {
        match submit(&h, order(i)).await? {
            Ok(_) => Ok((h, true)),
            Err(DomainError::InsufficientStock { .. }) => Ok((h, false)),
            Err(x) => Err(x.to_string()),
        }
    })
    .await?;
    let reserved = h.read(|x| x.sku("seller", "hot").map(|s| s.stock[0].reserved)).map_err(e)?;
    if reserved != won || won > stock {
        return Err(format!("oversell check failed: {won} orders, {reserved} reserved, stock {stock}"));
    }
    h.shutdown().await;
    let _ = task.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((rate, won))
}

/// Over HTTP against an in-process server: (orders/s, successes).
fn http_run(a: &OrdersArgs, max_batch: usize, n: u64, stock: u64) -> Result<(f64, u64)> {
    with_server(&format!("orders-http-{max_batch}"), max_batch, |addr| async move {
        http_race(addr, a.clients, n, stock).await
    })
}

/// The hot SKU set up through the API, then the race with one connection per client.
async fn http_race(addr: SocketAddr, clients: usize, n: u64, stock: u64) -> Result<(f64, u64)> {
    let mut api = Conn::open(addr).await?;
    let tok = create_accounts(&mut api, &["seller", "market"]).await?;
    for (p, b) in [
        ("/v1/accounts/seller/skus/hot", json!({"name": "Hot"})),
        ("/v1/accounts/seller/prices/hot", json!({"price": 990})),
        ("/v1/accounts/seller/warehouses/w", json!({})),
        ("/v1/accounts/seller/warehouses/w/stock/hot", json!({"quantity": stock})),
        ("/v1/accounts/seller/affiliations/market", json!({"trade_policy": "1"})),
    ] {
        api.must("PUT", p, &tok["seller"], Some(b)).await?;
    }
    api.must("PUT", "/v1/accounts/market/sellers/seller", &tok["market"], Some(json!({}))).await?;
    let market = Arc::new(tok["market"].clone());
    race(
        clients,
        n,
        move || Conn::open(addr),
        move |mut api, i| {
            let market = market.clone();
            async move {
                let (st, b) = api.request("POST", "/v1/accounts/market/orders", &market, Some(&order_body(i))).await?;
                match st {
                    201 => Ok((api, true)),
                    409 if String::from_utf8_lossy(&b).contains("insufficient_stock") => Ok((api, false)),
                    _ => Err(format!("{st} {}", String::from_utf8_lossy(&b))),
                }
            }
        },
    )
    .await
}

pub fn orders(a: OrdersArgs) -> Result<()> {
    let rt = runtime()?;
    let (eng, eng_won) = rt.block_on(engine_run(&a, offernet_store::writer::DEFAULT_MAX_BATCH, a.orders, a.stock))?;
    let (eng_base, _) = rt.block_on(engine_run(&a, 1, a.baseline_orders, a.baseline_orders))?;
    let (http, http_won) = http_run(&a, offernet_store::writer::DEFAULT_MAX_BATCH, a.orders, a.stock)?;
    let (http_base, _) = http_run(&a, 1, a.baseline_orders, a.baseline_orders)?;
    for (what, won) in [("engine", eng_won), ("http", http_won)] {
        if won != a.stock.min(a.orders) {
            return Err(format!("{what}: {won} orders succeeded, expected exactly {}", a.stock.min(a.orders)));
        }
    }
    // The network of this benchmark holds one SKU.
    let yardstick = Yardstick::measure(1);
    println!(
        "scenario  orders: {} clients, 1 unit of one hot SKU each, stock K = {}, {} attempts",
        a.clients, a.stock, a.orders
    );
    println!("engine    {eng:>10.0} orders/s with group commit (exactly {eng_won} succeeded)");
    println!("          {eng_base:>10.0} orders/s with one commit per order (baseline)");
    println!("http      {http:>10.0} orders/s with group commit (exactly {http_won} succeeded)");
    println!("          {http_base:>10.0} orders/s with one commit per request (baseline)");
    println!("{}", yardstick.line("engine orders/s", eng));
    println!(
        "{}",
        json!({"scenario": "orders", "clients": a.clients, "stock": a.stock, "attempts": a.orders,
            "engine_journal_per_s": eng.round(), "engine_one_commit_per_s": eng_base.round(),
            "http_per_s": http.round(), "http_one_commit_per_s": http_base.round(),
            "yardstick": yardstick.json(eng)})
    );
    Ok(())
}
