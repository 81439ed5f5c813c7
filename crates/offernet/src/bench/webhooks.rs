//! `offernet bench webhooks`: stock writes over HTTP into an in-process server (the real
//! engine, SQLite journal and delivery worker), each making one `offer.changed` at the
//! marketplace, delivered as signed webhooks to a receiver in this process (axum on
//! 127.0.0.1, every signature checked) and, with `--nats-url`, published to NATS JetStream (a
//! stream of its own, deleted after; read by a subscriber on its subject). Reports delivered
//! events/s and the lag from commit (the write's answer) to delivery, p50 and p99.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Args;
use serde_json::{json, Value};

use super::common::{pct, Yardstick};
use super::http::{create_accounts, with_server_using};
use super::http_client::Conn;
use crate::shared::{e, Result};

/// The most events one run makes, and the most writing clients.
const MAX_EVENTS: usize = 10_000_000;
const MAX_CLIENTS: usize = 256;
/// How long the run waits for the last delivery after the last write, at least; longer for
/// large runs (`events / 200` s: a delivery rate far below what the worker does).
const MIN_DRAIN: Duration = Duration::from_secs(60);

#[derive(Args, Clone, Debug)]
pub struct WebhooksArgs {
    /// Events made: stock writes over HTTP, each one `offer.changed` at the marketplace.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Concurrent writing clients, each on its own connection and SKU.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Writes per second over all clients (0: as fast as the server answers). Below the
    /// delivery rate, the lag is the delivery's own; above it, it includes the backlog.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Also publish to this NATS server's JetStream (a stream `OFFERNET_BENCH_<pid>`, deleted after).
    #[arg(long)]
    pub nats_url: Option<String>,
}

/// When each event (by write index) was answered and arrived, in µs since the run's start
/// (0: not yet); signatures that did not verify, and arrivals of an event already seen.
struct Clock {
    start: Instant,
    /// When the first write was sent (µs since `start`).
    writes_from: AtomicU64,
    per_client: usize,
    answered: Vec<AtomicU64>,
    arrived: Vec<AtomicU64>,
    count: AtomicU64,
    repeats: AtomicU64,
    bad_signatures: AtomicU64,
}

impl Clock {
    fn new(events: usize, per_client: usize, start: Instant) -> Clock {
        let zeros = || (0..events).map(|_| AtomicU64::new(0)).collect();
        Clock {
            start,
            writes_from: AtomicU64::new(0),
            per_client,
            answered: zeros(),
            arrived: zeros(),
            count: AtomicU64::new(0),
            repeats: AtomicU64::new(0),
            bad_signatures: AtomicU64::new(0),
        }
    }

    fn now_us(&self) -> u64 {
        (self.start.elapsed().as_micros() as u64).max(1)
    }

    /// An event's JSON arrived: the write it came from is its SKU (`k{client}`) and quantity.
    fn arrive(&self, body: &[u8]) {
        let at = self.now_us();
        let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
        let client = v["seller_sku"].as_str().and_then(|s| s.strip_prefix('k')).and_then(|c| c.parse::<usize>().ok());
        let (Some(client), Some(q)) = (client, v["offer"]["quantity"].as_u64()) else { return };
        let Some(slot) = (q as usize).checked_sub(1).map(|q| client * self.per_client + q) else { return };
        let Some(cell) = self.arrived.get(slot).filter(|_| (q as usize) <= self.per_client) else { return };
        if cell.compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.count.fetch_add(1, Ordering::Relaxed);
        } else {
            self.repeats.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (events/s from the first write sent to the last arrival, lags in ms).
    fn figures(&self) -> (f64, Vec<f64>) {
        let mut lags = Vec::with_capacity(self.answered.len());
        let mut last = 0;
        for (a, r) in self.answered.iter().zip(&self.arrived) {
            let (a, r) = (a.load(Ordering::Relaxed), r.load(Ordering::Relaxed));
            last = last.max(r);
            // Delivery may beat the write's answer to the client: no lag then.
            lags.push(r.saturating_sub(a) as f64 / 1e3);
        }
        let span_s = last.saturating_sub(self.writes_from.load(Ordering::Relaxed)).max(1) as f64 / 1e6;
        (self.answered.len() as f64 / span_s, lags)
    }
}

/// The receiver's state: the subscription's secret (set once it is made) and the clock.
struct Receiver {
    secret: Mutex<String>,
    clock: Arc<Clock>,
}

/// One delivery: the Standard Webhooks signature checked, the event timed, 204.
async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (id, ts) = (h("webhook-id"), h("webhook-timestamp").parse::<u64>().unwrap_or(0));
    let secret = rx.secret.lock().unwrap().clone();
    let want = offernet_server::outbound::sign::signature(&secret, &id, ts, &body);
    if !want.is_some_and(|w| h("webhook-signature").split(' ').any(|s| s == w)) {
        rx.clock.bad_signatures.fetch_add(1, Ordering::Relaxed);
        return StatusCode::BAD_REQUEST;
    }
    rx.clock.arrive(&body);
    StatusCode::NO_CONTENT
}

/// Starts the receiver on 127.0.0.1 (a free port) on the current runtime.
async fn start_receiver(rx: Arc<Receiver>) -> Result<SocketAddr> {
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(rx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(e)?;
    let addr = listener.local_addr().map_err(e)?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

pub fn webhooks(a: WebhooksArgs) -> Result<()> {
    if !(1..=MAX_EVENTS).contains(&a.events) || !(1..=MAX_CLIENTS).contains(&a.clients) {
        return Err(format!("--events is 1 to {MAX_EVENTS} and --clients 1 to {MAX_CLIENTS}"));
    }
    let per_client = a.events.div_ceil(a.clients);
    let events = per_client * a.clients;
    let start = Instant::now();
    let hooks = Arc::new(Clock::new(events, per_client, start));
    let nats = a.nats_url.as_ref().map(|_| Arc::new(Clock::new(events, per_client, start)));
    let stream = format!("OFFERNET_BENCH_{}", std::process::id());
    let (url, name) = (a.nats_url.clone(), stream.clone());
    let (h, n) = (hooks.clone(), nats.clone());
    let write_s = with_server_using(
        "webhooks",
        |c| {
            c.outbound_allow_local = true;
            c.nats_url = url;
            c.nats_stream = name;
        },
        |addr| run(addr, a.clone(), h, n, stream.clone()),
    )?;
    report(&a, events, write_s, &hooks, nats.as_deref());
    Ok(())
}

/// The writes and the waits, on the clients' runtime: the write phase's length in seconds.
async fn run(
    addr: SocketAddr,
    a: WebhooksArgs,
    hooks: Arc<Clock>,
    nats: Option<Arc<Clock>>,
    stream: String,
) -> Result<f64> {
    let rx = Arc::new(Receiver { secret: Mutex::new(String::new()), clock: hooks.clone() });
    let hook_addr = start_receiver(rx.clone()).await?;
    let mut api = Conn::open(addr).await?;
    let tok = setup(&mut api, a.clients).await?;
    let body = json!({"url": format!("http://{hook_addr}/hook"), "events": ["offer.changed"]});
    let made = api.must("POST", "/v1/accounts/m/webhooks", &tok["m"], Some(body)).await?;
    *rx.secret.lock().unwrap() = made["secret"].as_str().unwrap_or_default().to_string();
    let subscriber = match (&a.nats_url, &nats) {
        (Some(url), Some(clock)) => Some(nats_subscriber(url, &stream, clock.clone()).await?),
        _ => None,
    };
    let started = Instant::now();
    write_all(addr, &a, &tok["s"], &hooks, nats.as_deref()).await?;
    let write_s = started.elapsed().as_secs_f64();
    let drain = MIN_DRAIN.max(Duration::from_secs((hooks.answered.len() / 200) as u64));
    wait_all(&hooks, drain, "webhook deliveries").await?;
    if let (Some(clock), Some((js, task))) = (&nats, subscriber) {
        let waited = wait_all(clock, drain, "NATS messages").await;
        task.abort();
        let stored = match js.get_stream(&stream).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        };
        let _ = js.delete_stream(&stream).await;
        waited?;
        println!("nats       the stream held {stored} messages (every event of the run, setup included); deleted");
    }
    Ok(write_s)
}

/// Seller `s` with SKUs `k0..k{clients}` in stock 0, offered at marketplace `m` (auto match).
async fn setup(api: &mut Conn, clients: usize) -> Result<HashMap<String, String>> {
    let tok = create_accounts(api, &["s", "m"]).await?;
    let (s, m) = (&tok["s"], &tok["m"]);
    api.must("PUT", "/v1/accounts/s/warehouses/main", s, Some(json!({"trade_policies": ["1"]}))).await?;
    api.must("PUT", "/v1/accounts/s/affiliations/m", s, Some(json!({"trade_policy": "1"}))).await?;
    api.must("PUT", "/v1/accounts/m/sellers/s", m, Some(json!({"match_mode": "auto"}))).await?;
    for c in 0..clients {
        api.must("PUT", &format!("/v1/accounts/s/skus/k{c}"), s, Some(json!({"name": format!("k{c}")}))).await?;
        api.must("PUT", &format!("/v1/accounts/s/prices/k{c}"), s, Some(json!({"price": 100}))).await?;
    }
    Ok(tok)
}

/// Every client's writes: quantity 1, 2, … of its SKU, paced to `--rate` when given, each
/// answer's time recorded as its events' commit time.
async fn write_all(
    addr: SocketAddr,
    a: &WebhooksArgs,
    token: &str,
    hooks: &Arc<Clock>,
    nats: Option<&Clock>,
) -> Result<()> {
    let t0 = Instant::now();
    hooks.writes_from.store(hooks.now_us(), Ordering::Relaxed);
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let (hooks, token, rate, clients) = (hooks.clone(), token.to_string(), a.rate, a.clients);
        let mut conn = Conn::open(addr).await?;
        tasks.push(tokio::spawn(async move {
            let path = format!("/v1/accounts/s/warehouses/main/stock/k{c}");
            for q in 1..=hooks.per_client {
                if rate > 0 {
                    let at = t0 + Duration::from_secs_f64(((q - 1) * clients + c) as f64 / rate as f64);
                    tokio::time::sleep_until(at.into()).await;
                }
                conn.must("PUT", &path, &token, Some(json!({"quantity": q}))).await?;
                hooks.answered[c * hooks.per_client + q - 1].store(hooks.now_us(), Ordering::Relaxed);
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(e)??;
    }
    if let Some(n) = nats {
        // The same commits (the clocks share their start): copied to the NATS clock.
        n.writes_from.store(hooks.writes_from.load(Ordering::Relaxed), Ordering::Relaxed);
        for (from, to) in hooks.answered.iter().zip(&n.answered) {
            to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Waits until every event arrived at `clock`, or fails after `limit`.
async fn wait_all(clock: &Clock, limit: Duration, what: &str) -> Result<()> {
    let t = Instant::now();
    let want = clock.answered.len() as u64;
    while clock.count.load(Ordering::Relaxed) < want {
        if t.elapsed() > limit {
            let got = clock.count.load(Ordering::Relaxed);
            return Err(format!("{what}: {got} of {want} arrived within {limit:?} after the writes"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A subscriber on the marketplace's `offer.changed` subject of the run's stream (JetStream
/// publishes reach it as they are stored); the JetStream context to read and delete the stream.
async fn nats_subscriber(
    url: &str,
    stream: &str,
    clock: Arc<Clock>,
) -> Result<(async_nats::jetstream::Context, tokio::task::JoinHandle<()>)> {
    use futures_util::StreamExt;
    let client = async_nats::connect(url).await.map_err(e)?;
    let subject = format!("{}.m.offer.changed", stream.to_lowercase());
    let mut sub = client.subscribe(subject).await.map_err(e)?;
    client.flush().await.map_err(e)?;
    let task = tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            clock.arrive(&msg.payload);
        }
    });
    Ok((async_nats::jetstream::new(client), task))
}

fn lag_line(what: &str, events: usize, clock: &Clock) -> (f64, f64, f64, f64) {
    let (rate, mut lags) = clock.figures();
    let (p50, p99) = (pct(&mut lags, 0.5), pct(&mut lags, 0.99));
    let max = lags.last().copied().unwrap_or(0.0);
    println!(
        "{what:<10} {rate:>9.0} events/s delivered ({events} events)   lag from commit p50 {p50:.1} ms   p99 {p99:.1} ms   max {max:.1} ms   repeats {}   bad signatures {}",
        clock.repeats.load(Ordering::Relaxed),
        clock.bad_signatures.load(Ordering::Relaxed)
    );
    (rate, p50, p99, max)
}

fn report(a: &WebhooksArgs, events: usize, write_s: f64, hooks: &Clock, nats: Option<&Clock>) {
    let yardstick = Yardstick::measure(a.clients);
    println!(
        "scenario   webhooks: stock writes over HTTP ({} clients, rate {}), one offer.changed each, delivered signed to a receiver on 127.0.0.1{}",
        a.clients,
        if a.rate == 0 { "unpaced".to_string() } else { format!("{}/s", a.rate) },
        if nats.is_some() { " and published to NATS JetStream" } else { "" }
    );
    println!("writes     {:>9.0} writes/s answered ({events} in {write_s:.1} s)", events as f64 / write_s);
    let (rate, p50, p99, max) = lag_line("webhooks", events, hooks);
    let nats_json = nats.map(|n| {
        let (rate, p50, p99, max) = lag_line("nats", events, n);
        json!({"events_per_s": rate, "lag_p50_ms": p50, "lag_p99_ms": p99, "lag_max_ms": max})
    });
    println!("{}", yardstick.line("delivered webhooks/s", rate));
    println!(
        "{}",
        json!({"yardstick": yardstick.json(rate), "scenario": "webhooks", "events": events, "clients": a.clients,
               "rate": a.rate, "writes_per_s": events as f64 / write_s,
               "webhooks": {"events_per_s": rate, "lag_p50_ms": p50, "lag_p99_ms": p99, "lag_max_ms": max,
                            "repeats": hooks.repeats.load(Ordering::Relaxed),
                            "bad_signatures": hooks.bad_signatures.load(Ordering::Relaxed)},
               "nats": nats_json})
    );
}
