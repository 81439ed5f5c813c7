//! `offernet bench feed`: a marketplace's Google feed of `--items` items, served by a separate
//! `offernet serve` process (so its memory is its own): the whole XML document streamed over
//! HTTP (bytes/s, items/s, the server's resident memory before and at most during the
//! transfer), a conditional fetch answered 304, and the time from a stock change (a PUT at the
//! seller) to the item changing in the feed, read through the incremental JSON Lines form.
//!
//! The network: seller `s` with `--items` SKUs (content, price, stock) imported with
//! `offernet import`'s code, and marketplace `m` registering `s` with auto matching before it, so
//! that every SKU becomes an item of `m`'s trade policy 1.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::common::{ms_since, pct, temp_dir};
use super::http::BENCH_ADMIN;
use super::http_client::Conn;
use super::import::Server;
use crate::import::{import_file, server_addr, ImportArgs};
use crate::shared::{e, runtime, Result};

#[derive(Args)]
pub struct FeedBenchArgs {
    /// Items in the feed (SKUs of the seller, all sellable at the marketplace).
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Stock changes timed until their item changes in the feed.
    #[arg(long, default_value_t = 200)]
    samples: usize,
}

pub fn feed(a: FeedBenchArgs) -> Result<()> {
    let dir = temp_dir("feed");
    std::fs::create_dir_all(&dir).map_err(e)?;
    let file = dir.join("catalog.ndjson");
    generate(&file, a.items)?;
    let server = Server::start(&dir.join("data"), &["--request-timeout-ms", "600000"])?;
    let server = Arc::new(std::sync::Mutex::new(server));
    let result = runtime()?.block_on(measure(&server, &file, &a));
    server.lock().unwrap().stop();
    let _ = std::fs::remove_dir_all(&dir);
    let r = result?;
    let mb = |b: u64| b as f64 / 1048576.0;
    let (f50, f99) = (pct(&mut r.fresh.clone(), 0.5), pct(&mut r.fresh.clone(), 0.99));
    println!("scenario   feed: Google XML feed of one marketplace, {} items, over HTTP", a.items);
    println!("setup      import of the seller's catalog (each SKU sent, matched, offered) {:.1} s", r.import_s);
    println!(
        "full feed  {:.1} MiB in {:.2} s = {:.1} MiB/s, {:.0} items/s",
        mb(r.bytes),
        r.feed_s,
        mb(r.bytes) / r.feed_s,
        a.items as f64 / r.feed_s
    );
    println!(
        "memory     server RSS {:.0} MiB before the fetch, at most {:.0} MiB during it (+{:.1} MiB)",
        mb(r.rss_before),
        mb(r.rss_max),
        mb(r.rss_max.saturating_sub(r.rss_before))
    );
    println!("304        conditional fetch (If-None-Match) {:.2} ms", r.not_modified_ms);
    println!(
        "freshness  stock PUT -> item changed in ?since= feed: p50 {f50:.2} ms   p99 {f99:.2} ms ({} samples)",
        a.samples
    );
    println!(
        "{}",
        json!({"bench": "feed", "items": a.items, "bytes": r.bytes, "feed_s": r.feed_s,
            "bytes_per_s": r.bytes as f64 / r.feed_s, "items_per_s": a.items as f64 / r.feed_s,
            "rss_before_bytes": r.rss_before, "rss_max_during_bytes": r.rss_max,
            "not_modified_ms": r.not_modified_ms, "fresh_p50_ms": f50, "fresh_p99_ms": f99,
            "import_s": r.import_s})
    );
    Ok(())
}

/// The seller's catalog: a warehouse, then each SKU with content, its price and its stock.
fn generate(path: &std::path::Path, items: usize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(e)?);
    writeln!(out, r#"{{"kind":"warehouse","id":"w1","trade_policies":["1"]}}"#).map_err(e)?;
    for k in 0..items {
        writeln!(
            out,
            r#"{{"kind":"sku","id":"sku-{k}","name":"Product {k} & more","brand":"Brand {}","ref_id":"ref-{k}","product_id":"p-{}","category":"Home/Kitchen/Tools","description":"Product {k}: a useful thing <for> the kitchen.","images":["https://cdn.example/{k}/1.jpg","https://cdn.example/{k}/2.jpg"]}}"#,
            k % 100,
            k / 4
        )
        .map_err(e)?;
        writeln!(out, r#"{{"kind":"price","sku":"sku-{k}","price":{},"list_price":9900}}"#, 1000 + k % 5000)
            .map_err(e)?;
        writeln!(out, r#"{{"kind":"stock","warehouse":"w1","sku":"sku-{k}","quantity":{}}}"#, 1 + k % 50).map_err(e)?;
    }
    out.flush().map_err(e)
}

struct Measured {
    import_s: f64,
    bytes: u64,
    feed_s: f64,
    rss_before: u64,
    rss_max: u64,
    not_modified_ms: f64,
    fresh: Vec<f64>,
}

/// Long on purpose: the setup, then each measurement in the order the report gives them.
async fn measure(
    server: &Arc<std::sync::Mutex<Server>>,
    file: &std::path::Path,
    a: &FeedBenchArgs,
) -> Result<Measured> {
    let url = server.lock().unwrap().url.clone();
    let addr = server_addr(&url).await?;
    let mut c = Conn::open(addr).await?;
    let mut tok = std::collections::HashMap::new();
    for id in ["s", "m"] {
        let v =
            c.must("POST", "/v1/accounts", BENCH_ADMIN, Some(json!({"id": id, "name": id, "currency": "BRL"}))).await?;
        tok.insert(id, v["token"].as_str().unwrap_or_default().to_string());
    }
    // Connected first, so that the import sends and matches every SKU in its own commands
    // (one request may take minutes; the benchmark client's requests are limited to 30 s).
    let m = tok["m"].clone();
    let tp = json!({"name": "Web", "assortment": "all", "product_url": "https://m.example/p/{sku}"});
    c.must("PUT", "/v1/accounts/m/trade-policies/1", &m, Some(tp)).await?;
    c.must("PUT", "/v1/accounts/s/affiliations/m", &tok["s"], Some(json!({"trade_policy": "1"}))).await?;
    c.must("PUT", "/v1/accounts/m/sellers/s", &m, Some(json!({}))).await?;
    let t = Instant::now();
    let args = ImportArgs {
        account: "s".into(),
        server: url.clone(),
        token: BENCH_ADMIN.into(),
        format: None,
        lines_per_request: offernet_core::MAX_IMPORT_LINES,
        file: file.to_path_buf(),
    };
    import_file(&args, false).await?;
    let import_s = t.elapsed().as_secs_f64();
    // A connection idle for the server's idle timeout is closed: a new one after the import.
    let mut c = Conn::open(addr).await?;

    // The whole feed, its server's memory sampled every 10 ms meanwhile.
    let rss_before = server.lock().unwrap().rss();
    let (done, max) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(rss_before)));
    let sampler = {
        let (server, done, max) = (server.clone(), done.clone(), max.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                max.fetch_max(server.lock().unwrap().rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let xml = "/v1/accounts/m/feeds/1/google.xml";
    let t = Instant::now();
    let (st, headers, bytes) = c.get_counting(xml, &m, &[], Duration::from_secs(3600)).await?;
    let feed_s = t.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    if st != 200 || bytes == 0 {
        return Err(format!("the feed answered {st} with {bytes} bytes"));
    }
    let etag = headers.get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let t = Instant::now();
    let (st, _, _) = c.get_counting(xml, &m, &[("if-none-match", &etag)], Duration::from_secs(60)).await?;
    let not_modified_ms = ms_since(t);
    if st != 304 {
        return Err(format!("the conditional fetch answered {st}, not 304"));
    }
    let fresh = freshness(&mut c, &tok["s"], &m, a.samples).await?;
    Ok(Measured { import_s, bytes, feed_s, rss_before, rss_max: max.load(Ordering::Relaxed), not_modified_ms, fresh })
}

/// Each sample sets one SKU's stock to 0 or back, then reads `?since=` until its item shows
/// the new availability: milliseconds from the PUT to that answer.
async fn freshness(c: &mut Conn, seller: &str, m: &str, samples: usize) -> Result<Vec<f64>> {
    let head = c.must("GET", "/v1/accounts/m/events?after=now&limit=1", m, None).await?;
    let mut since = head["last_seq"].as_u64().ok_or("no last_seq")?;
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let (sku, empty) = (format!("sku-{}", i % 1000), (i / 1000) % 2 == 0);
        let want = if empty { "out_of_stock" } else { "in_stock" };
        let t = Instant::now();
        let body = json!({"quantity": if empty { 0 } else { 7 }});
        c.must("PUT", &format!("/v1/accounts/s/warehouses/w1/stock/{sku}"), seller, Some(body)).await?;
        loop {
            let (st, h, body) =
                c.get_with_headers(&format!("/v1/accounts/m/feeds/1/google.jsonl?since={since}"), m).await?;
            if st != 200 {
                return Err(format!("the incremental feed answered {st}"));
            }
            since = h.get("offernet-next-since").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(since);
            let text = String::from_utf8_lossy(&body);
            let changed = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .any(|v| v["sku"] == format!("s-{sku}") && v["item"]["availability"] == want);
            if changed {
                break;
            }
        }
        out.push(ms_since(t));
    }
    Ok(out)
}
