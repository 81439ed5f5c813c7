//! NATS JetStream with the real binary and the real server (`OFFERNET_TEST_NATS_URL`, started by
//! `.ci/run`; SKIPPED without it): every event reaches the stream exactly once, with
//! `Nats-Msg-Id` = `{journal id}:{sequence}` and subject `{stream}.{account}.{type}`, across a
//! kill -9 of the server in the middle of publishing (JetStream drops the repeats by id): the
//! kill comes while a writer thread is still writing and the stream holds only part of the
//! events, so some were committed and not yet published.
//! Each run uses a stream of its own (`--nats-stream`) and deletes it.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn must(c: &Http, method: &str, path: &str, token: &str, body: Value) {
    let (st, v) = c.req(method, path, Some(token), Some(&body.to_string()));
    assert!(st == 200 || st == 201, "{method} {path}: {st} {v}");
}

/// Every event of `account` (sequence number → its JSON).
fn events(s: &Server, account: &str, token: &str) -> BTreeMap<u64, Value> {
    let (st, v) = s.req("GET", &format!("/v1/accounts/{account}/events?after=0&limit=1000"), Some(token), None);
    assert_eq!(st, 200, "{v}");
    v["events"].as_array().unwrap().iter().map(|e| (e["seq"].as_u64().unwrap(), e.clone())).collect()
}

#[test]
fn every_event_reaches_jetstream_once_across_a_kill_9() {
    let Ok(url) = std::env::var("OFFERNET_TEST_NATS_URL") else {
        eprintln!("SKIPPED: OFFERNET_TEST_NATS_URL is not set");
        return;
    };
    let stream = format!("OFFERNET_T{}", std::process::id());
    let prefix = stream.to_lowercase();
    let dir = temp_dir("nats");
    let flags = ["--nats-url", url.as_str(), "--nats-stream", stream.as_str()];
    let s = Server::start(&dir, &flags);
    let (ts, tm) = (create(&s, "s"), create(&s, "m"));
    must(&s, "PUT", "/v1/accounts/s/warehouses/main", &ts, json!({"trade_policies": ["1"]}));
    must(&s, "PUT", "/v1/accounts/s/affiliations/m", &ts, json!({"trade_policy": "1"}));
    must(&s, "PUT", "/v1/accounts/m/sellers/s", &tm, json!({"match_mode": "auto"}));
    must(&s, "PUT", "/v1/accounts/s/skus/k0", &ts, json!({"name": "k0"}));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let written = kill_mid_burst(s, &ts, &rt, &url, &stream);
    let s = Server::start(&dir, &flags);
    for q in written + 2..=written + 101 {
        must(&s, "PUT", "/v1/accounts/s/warehouses/main/stock/k0", &ts, json!({"quantity": q}));
    }
    let mut want = events(&s, "m", &tm);
    want.extend(events(&s, "s", &ts));
    assert!(want.len() as u64 >= written + 100, "{} events, {written} writes before the kill", want.len());

    let got = rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
        let count = held_at_least(&js, &stream, want.len() as u64).await;
        let st = js.get_stream(&stream).await.unwrap();
        let mut got = Vec::new();
        for seq in 1..=count {
            let m = st.get_raw_message(seq).await.unwrap();
            let id = m.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_string()).unwrap_or_default();
            got.push((m.subject.to_string(), id, String::from_utf8(m.payload.to_vec()).unwrap()));
        }
        js.delete_stream(&stream).await.unwrap();
        got
    });
    let mut seen: BTreeMap<u64, Value> = BTreeMap::new();
    let mut journal_ids = std::collections::BTreeSet::new();
    for (subject, id, payload) in &got {
        let e: Value = serde_json::from_str(payload).unwrap();
        let seq = e["seq"].as_u64().unwrap();
        let (journal, n) = id.rsplit_once(':').expect("{journal id}:{sequence}");
        assert_eq!(n, seq.to_string(), "{id}");
        journal_ids.insert(journal.to_string());
        assert_eq!(subject, &format!("{prefix}.{}.{}", e["account"].as_str().unwrap(), e["type"].as_str().unwrap()));
        assert!(seen.insert(seq, e).is_none(), "event {seq} is in the stream twice");
    }
    assert_eq!(journal_ids.len(), 1, "one journal id across the restart: {journal_ids:?}");
    assert_eq!(seen, want, "every event exactly once, as /events shows it");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until the stream holds `n` messages (or 60 s pass): how many it holds.
async fn held_at_least(js: &async_nats::jetstream::Context, stream: &str, n: u64) -> u64 {
    let t = Instant::now();
    loop {
        let held = match js.get_stream(stream).await {
            Ok(mut st) => st.info().await.unwrap().state.messages,
            Err(_) => 0,
        };
        if held >= n || t.elapsed() > Duration::from_secs(60) {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Writes stock 1, 2, … from a thread of its own until the stream holds 150 messages, then
/// kills the server with the writes still going: how many writes were answered.
fn kill_mid_burst(s: Server, ts: &str, rt: &tokio::runtime::Runtime, url: &str, stream: &str) -> u64 {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (put, token, halt) =
        (format!("http://{}/v1/accounts/s/warehouses/main/stock/k0", s.addr), ts.to_string(), stop.clone());
    let writer = std::thread::spawn(move || {
        // Its own client: a request cut by the kill is an error here, not a panic.
        let client = client_builder().timeout(Duration::from_secs(30)).build().unwrap();
        let mut q = 0u64;
        while !halt.load(std::sync::atomic::Ordering::SeqCst) && q < 5_000 {
            let body = json!({"quantity": q + 1}).to_string();
            let sent =
                client.put(&put).bearer_auth(&token).header("content-type", "application/json").body(body).send();
            if !sent.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            q += 1;
        }
        q
    });
    let held = rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        held_at_least(&js, stream, 150).await
    });
    s.kill9();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(held >= 150 && written < 5_000, "killed mid-burst: {held} published, {written} written");
    written
}
