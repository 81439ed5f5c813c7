//! NATS JetStream with the real binary and the real server (`OFFERNET_TEST_NATS_URL`, started by
//! `.ci/run`; SKIPPED without it): every event reaches the stream exactly once, with
//! `Nats-Msg-Id` = `{journal id}:{sequence}` and subject `{stream}.{account}.{type}`, across a
//! kill -9 of the server in the middle of publishing (JetStream drops the repeats by id).
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
    for q in 1..=300 {
        must(&s, "PUT", "/v1/accounts/s/warehouses/main/stock/k0", &ts, json!({"quantity": q}));
    }
    s.kill9();
    let s = Server::start(&dir, &flags);
    for q in 301..=400 {
        must(&s, "PUT", "/v1/accounts/s/warehouses/main/stock/k0", &ts, json!({"quantity": q}));
    }
    let mut want = events(&s, "m", &tm);
    want.extend(events(&s, "s", &ts));
    assert!(want.len() >= 400, "{}", want.len());

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let got = rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
        let t = Instant::now();
        let count = loop {
            let n = match js.get_stream(&stream).await {
                Ok(mut st) => st.info().await.unwrap().state.messages,
                Err(_) => 0,
            };
            if n >= want.len() as u64 || t.elapsed() > Duration::from_secs(60) {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
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
