//! The outbound calls against a local server: credentials and headers sent, answers read,
//! failures classified, the circuit opening after five failures and sending nothing then.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::*;

/// A data directory of this test's own, removed at the end.
struct Dir(std::path::PathBuf);

impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let d = std::env::temp_dir().join(format!("offernet-vtex-outbound-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Peer {
    base: String,
    hits: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

async fn peer() -> Peer {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (hits.clone(), seen.clone());
    let app = Router::new()
        .route("/ok", post(|| async { axum::Json(json!({"orderId": "7890"})) }))
        .route("/empty", post(|| async { StatusCode::OK }))
        .route("/text", post(|| async { "not json" }))
        .route("/busy", post(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "7")], "{}") }))
        .route("/refuse", post(|| async { (StatusCode::BAD_REQUEST, r#"{"error":{"code":"1"}}"#) }))
        .route(
            "/down",
            post(move |headers: HeaderMap| {
                let (h, s) = (h.clone(), s.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    s.lock().unwrap().push(headers);
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Peer { base, hits, seen }
}

async fn outbound(dir: &std::path::Path) -> Outbound {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).build().unwrap();
    let secrets = offernet_store::Secrets::open(None, dir).await.unwrap();
    let check: UrlCheck = Arc::new(|u: &reqwest::Url| match u.path() {
        "/forbidden" => Err("refused by the guard".into()),
        _ => Ok(()),
    });
    Outbound::new(client, check, Arc::new(tokio::sync::Mutex::new(secrets)), 60_000)
}

fn req<'a>(account: &'a str, base: &str, path: &str, body: Option<&'a Value>) -> Request<'a> {
    Request {
        account,
        seller: None,
        call: Call::Placement,
        method: reqwest::Method::POST,
        url: format!("{base}{path}"),
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_read_and_failures_classified() {
    let dir = Dir::new();
    let (p, out) = (peer().await, outbound(&dir.0).await);
    let body = json!([{"marketplaceOrderId": "m.1"}]);
    let a = out.call(req("e", &p.base, "/ok", Some(&body))).await.unwrap();
    assert_eq!((a.status, a.body), (200, Some(json!({"orderId": "7890"}))));
    assert_eq!(out.call(req("e", &p.base, "/empty", None)).await.unwrap().body, None);
    let bad = out.call(req("e", &p.base, "/text", None)).await.unwrap_err();
    assert!(matches!(bad, Failure::BadAnswer(_)) && bad.retryable(), "{bad:?}");
    let busy = out.call(req("e", &p.base, "/busy", None)).await.unwrap_err();
    assert_eq!((busy.outcome(), busy.retry_after()), ("rate_limited", Some(Duration::from_secs(7))));
    assert!(busy.retryable());
    let refused = out.call(req("e", &p.base, "/refuse", None)).await.unwrap_err();
    assert!(!refused.retryable() && refused.outcome() == "client_error", "{refused:?}");
    let guard = out.call(req("e", &p.base, "/forbidden", None)).await.unwrap_err();
    assert_eq!(guard, Failure::Refused("refused by the guard".into()));
    let status = out.status("e");
    assert_eq!(status.circuit.state, "closed", "4xx and a refused URL do not trip: {status:?}");
    assert_eq!(status.errors[0].outcome, "refused", "newest first: {status:?}");
    assert_eq!(status.errors.len(), 4);
    let mut m = String::new();
    out.render_metrics(&mut m);
    assert!(m.contains("offernet_vtex_outbound_total{call=\"placement\",outcome=\"ok\"} 2"), "{m}");
    assert!(m.contains("offernet_vtex_outbound_seconds_count{call=\"placement\"} 5"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_tracing_headers_are_sent() {
    let dir = Dir::new();
    let (p, out) = (peer().await, outbound(&dir.0).await);
    let c = offernet_store::Credentials { app_key: "vtexappkey-e".into(), app_token: "tok".into() };
    out.secrets.lock().await.put("e", None, &c, 1).await.unwrap();
    let _ = out.call(req("e", &p.base, "/down", None)).await;
    let _ = out.call(req("other", &p.base, "/down", None)).await;
    let seen = p.seen.lock().unwrap();
    assert_eq!(seen[0]["x-vtex-api-appkey"], "vtexappkey-e");
    assert_eq!(seen[0]["x-vtex-api-apptoken"], "tok");
    assert!(seen[1].get("x-vtex-api-appkey").is_none(), "no credentials stored: none sent");
    let id = seen[0]["x-vtex-operation-id"].to_str().unwrap();
    assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
    assert_ne!(id, seen[1]["x-vtex-operation-id"].to_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_open_the_circuit_and_nothing_is_sent_then() {
    let dir = Dir::new();
    let (p, out) = (peer().await, outbound(&dir.0).await);
    for _ in 0..circuit::FAILURES_TO_OPEN {
        let f = out.call(req("e", &p.base, "/down", None)).await.unwrap_err();
        assert_eq!(f.outcome(), "server_error");
    }
    assert!(out.circuit_open("e") && !out.circuit_open("other"));
    for _ in 0..3 {
        assert_eq!(out.call(req("e", &p.base, "/down", None)).await, Err(Failure::CircuitOpen));
    }
    assert_eq!(p.hits.load(Ordering::SeqCst), circuit::FAILURES_TO_OPEN as usize, "held back: not sent");
    assert!(out.call(req("other", &p.base, "/ok", None)).await.is_ok(), "per account");
    assert_eq!(out.status("e").circuit.state, "open");
    out.set_pending("e", "placement", 3);
    assert_eq!(out.status("e").pending_effects, [("placement".to_string(), 3)].into());
    let mut m = String::new();
    out.render_metrics(&mut m);
    assert!(m.contains("offernet_vtex_circuit_open{account=\"e\"} 1"), "{m}");
    assert!(m.contains("offernet_vtex_pending_effects{kind=\"placement\"} 3"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_party_times_out() {
    let dir = Dir::new();
    let out = outbound(&dir.0).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and never answers.
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut r = req("e", &base, "/", None);
    r.call = Call::QuoteSimulation;
    let started = Instant::now();
    let f = out.call(r).await.unwrap_err();
    assert_eq!(f.outcome(), "timeout", "{f:?}");
    assert!(started.elapsed() >= Call::QuoteSimulation.timeout());
}

#[test]
fn backoff_doubles_up_to_a_minute() {
    for _ in 0..20 {
        let ms = |n| backoff(n).as_millis() as u64;
        assert!((250..=500).contains(&ms(0)));
        assert!((500..=1_000).contains(&ms(1)));
        assert!((30_000..=60_000).contains(&ms(7)));
        assert!((30_000..=60_000).contains(&ms(40)));
    }
}
