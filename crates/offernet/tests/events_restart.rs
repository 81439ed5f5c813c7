//! Events that survive restarts, with the real binary: the same events (same sequence numbers,
//! same JSON) after a graceful restart and after a kill -9 in the middle of writes, on SQLite
//! and on PostgreSQL; retention (410 with `resume_after`, pruning); `after=now` and streams
//! from the head; `last_seq` never beyond the newest event, also after a repair.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn must(c: &Http, method: &str, path: &str, token: &str, body: Value) {
    let (st, v) = c.raw(method, path, Some(token), Some(&body.to_string()), &[]);
    assert!(st == 200 || st == 201, "{method} {path}: {st} {v}");
}

/// A seller `s` with `skus` SKUs in warehouse `main`, all offered at marketplace `m`.
/// Returns (seller token, marketplace token).
fn network(s: &Server, skus: usize) -> (String, String) {
    let (ts, tm) = (create(s, "s"), create(s, "m"));
    must(s, "PUT", "/v1/accounts/s/warehouses/main", &ts, json!({"trade_policies": ["1"]}));
    must(s, "PUT", "/v1/accounts/s/affiliations/m", &ts, json!({"trade_policy": "1"}));
    must(s, "PUT", "/v1/accounts/m/sellers/s", &tm, json!({"match_mode": "auto"}));
    for i in 0..skus {
        must(s, "PUT", &format!("/v1/accounts/s/skus/k{i}"), &ts, json!({"name": format!("k{i}")}));
        must(s, "PUT", &format!("/v1/accounts/s/warehouses/main/stock/k{i}"), &ts, json!({"quantity": 1}));
    }
    (ts, tm)
}

/// Sets the stock of SKU `k0` to `q`: one `offer.changed` at `m`.
fn put_stock(c: &Http, ts: &str, q: u64) -> u16 {
    let body = json!({"quantity": q}).to_string();
    c.raw("PUT", "/v1/accounts/s/warehouses/main/stock/k0", Some(ts), Some(&body), &[]).0
}

/// The raw JSON page of `account`'s events after `after`.
fn page_text(s: &Server, account: &str, token: &str, after: &str) -> (u16, String) {
    s.raw("GET", &format!("/v1/accounts/{account}/events?after={after}&limit=1000"), Some(token), None, &[])
}

/// Every event of `account` (all pages), by sequence number.
fn all_events(s: &Server, account: &str, token: &str) -> BTreeMap<u64, Value> {
    let mut out = BTreeMap::new();
    let mut after = 0;
    loop {
        let (st, text) = page_text(s, account, token, &after.to_string());
        assert_eq!(st, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let events = v["events"].as_array().unwrap();
        for e in events {
            out.insert(e["seq"].as_u64().unwrap(), e.clone());
        }
        if events.is_empty() {
            return out;
        }
        after = v["last_seq"].as_u64().unwrap();
    }
}

fn engine_event_seq(s: &Server) -> u64 {
    s.req("GET", "/healthz", None, None).1["event_seq"].as_u64().unwrap()
}

/// The database flags of a backend: SQLite (none) or a fresh PostgreSQL database; `None` when
/// PostgreSQL is not configured (SKIPPED outside CI).
fn backend(postgres: bool, name: &str) -> Option<Vec<String>> {
    if !postgres {
        return Some(Vec::new());
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (url, _admin) = fresh_database(&rt, &format!("offernet_events_{}_{name}", std::process::id()), name)?;
    Some(vec!["--database".into(), url])
}

fn start(dir: &std::path::Path, db: &[String], extra: &[&str]) -> Server {
    let mut args: Vec<&str> = db.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    Server::start(dir, &args)
}

/// Events before a graceful restart are read after it byte for byte, whether they come from the
/// durable history (most of them: snapshots are frequent) or from the replay.
fn graceful_restart(postgres: bool) {
    let Some(db) = backend(postgres, "graceful") else { return };
    let dir = temp_dir(&format!("events-graceful-{postgres}"));
    let s = start(&dir, &db, &["--snapshot-every", "7"]);
    let (ts, tm) = network(&s, 3);
    for q in 2..30 {
        assert_eq!(put_stock(&s, &ts, q), 200);
    }
    let before_m = page_text(&s, "m", &tm, "0");
    let before_mid = page_text(&s, "m", &tm, "10");
    let before_s = page_text(&s, "s", &ts, "0");
    let head = engine_event_seq(&s);
    assert!(before_m.1.contains("offer.changed") && head > 30, "{before_m:?}");
    s.stop();
    for round in 0..2 {
        let s = start(&dir, &db, &["--snapshot-every", "7"]);
        assert_eq!(page_text(&s, "m", &tm, "0"), before_m, "round {round}: the same bytes after a restart");
        assert_eq!(page_text(&s, "m", &tm, "10"), before_mid, "round {round}");
        assert_eq!(page_text(&s, "s", &ts, "0"), before_s, "round {round}");
        let (_, v) = s.req("GET", "/v1/accounts/m/events?after=1000000000", Some(&tm), None);
        assert_eq!(v["last_seq"], head, "round {round}: last_seq is the head after a restart: {v}");
        s.stop();
    }
}

#[test]
fn events_before_a_graceful_restart_are_read_after_it_on_sqlite() {
    graceful_restart(false);
}

#[test]
fn events_before_a_graceful_restart_are_read_after_it_on_postgres() {
    graceful_restart(true);
}

/// Writes stock updates one after the other until told to stop; after each acknowledgement,
/// reads the events it produced (they are published before the answer) and keeps them.
fn writer_thread(
    c: Http,
    ts: String,
    tm: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<BTreeMap<u64, Value>>>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut acked = 0;
        let mut after = 0u64;
        for q in 100u64.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let body = json!({"quantity": q}).to_string();
            // The kill makes the client panic (connection refused): caught, it ends the thread.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                c.raw("PUT", "/v1/accounts/s/warehouses/main/stock/k0", Some(&ts), Some(&body), &[]).0
            }));
            if !matches!(r, Ok(200)) {
                break;
            }
            acked += 1;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                c.raw("GET", &format!("/v1/accounts/m/events?after={after}&limit=1000"), Some(&tm), None, &[])
            }));
            let Ok((200, text)) = r else { break };
            let v: Value = serde_json::from_str(&text).unwrap();
            let mut seen = seen.lock().unwrap();
            for e in v["events"].as_array().unwrap() {
                after = after.max(e["seq"].as_u64().unwrap());
                seen.insert(e["seq"].as_u64().unwrap(), e.clone());
            }
        }
        acked
    })
}

/// After a kill -9 in the middle of writes, every acknowledged write's events are read after
/// the restart, the same, and the sequence numbers of all accounts together have no gap.
fn crash(postgres: bool) {
    let Some(db) = backend(postgres, "crash") else { return };
    let dir = temp_dir(&format!("events-crash-{postgres}"));
    let mut s = start(&dir, &db, &["--snapshot-every", "25"]);
    let (ts, tm) = network(&s, 2);
    let seen = Arc::new(Mutex::new(BTreeMap::new()));
    for round in 0..3u64 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> =
            (0..3).map(|_| writer_thread(s.http.clone(), ts.clone(), tm.clone(), stop.clone(), seen.clone())).collect();
        std::thread::sleep(Duration::from_millis(700 + 300 * round));
        // Killed while the writers are writing.
        s.kill9();
        stop.store(true, Ordering::Relaxed);
        let acked: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(acked > 5, "round {round}: writes were acknowledged before the kill ({acked})");
        s = start(&dir, &db, &["--snapshot-every", "25"]);
        let after = all_events(&s, "m", &tm);
        for (seq, e) in seen.lock().unwrap().iter() {
            assert_eq!(after.get(seq), Some(e), "round {round}: event {seq} of an acknowledged write");
        }
        let mut both = after.keys().copied().collect::<Vec<_>>();
        both.extend(all_events(&s, "s", &ts).keys());
        both.sort_unstable();
        let head = engine_event_seq(&s);
        assert_eq!(both, (1..=head).collect::<Vec<_>>(), "round {round}: every event 1..={head}, no gap");
        let (_, v) = s.req("GET", "/v1/accounts/m/events?after=now", Some(&tm), None);
        assert_eq!(v["last_seq"], head, "{v}");
    }
    s.stop();
}

#[test]
fn every_acknowledged_event_survives_a_kill_9_on_sqlite() {
    crash(false);
}

#[test]
fn every_acknowledged_event_survives_a_kill_9_on_postgres() {
    crash(true);
}

/// A 410 names where to resume as a field; reading from there works, before and after a
/// restart; the durable history is pruned to the retention in the writer's idle time.
#[test]
fn a_tiny_retention_answers_410_with_the_resume_point_and_prunes() {
    let dir = temp_dir("events-retention");
    let s = Server::start(&dir, &["--event-retention", "3"]);
    let (ts, tm) = network(&s, 1);
    for q in 2..12 {
        assert_eq!(put_stock(&s, &ts, q), 200);
    }
    let check = |s: &Server| {
        let (st, v) = s.req("GET", "/v1/accounts/m/events?after=0", Some(&tm), None);
        assert_eq!(st, 410, "{v}");
        assert_eq!(v["error"]["code"], "events_expired", "{v}");
        let resume = v["resume_after"].as_u64().expect("resume_after is a field");
        assert!(v["error"]["message"].as_str().unwrap().contains(&format!("after={resume}")), "{v}");
        let (st, v) = s.req("GET", &format!("/v1/accounts/m/events?after={resume}"), Some(&tm), None);
        assert_eq!(st, 200, "{v}");
        let seqs: Vec<u64> = v["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs.len(), 3, "the newest 3 of m's events: {v}");
        assert!(seqs[0] > resume, "{v}");
        // From just before the resume point: still gone.
        let (st, _) = s.req("GET", &format!("/v1/accounts/m/events?after={}", resume - 1), Some(&tm), None);
        assert_eq!(st, 410);
        // A stream from before it says where to resume, then ends.
        let (st, body) =
            s.raw("GET", "/v1/accounts/m/events?after=0", Some(&tm), None, &[("Accept", "text/event-stream")]);
        assert_eq!(st, 410, "{body}");
        (resume, seqs)
    };
    let before = check(&s);
    // The writer prunes in its idle time (every second): m's rows come down to 3.
    let journal = dir.join("journal.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let rows = || {
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", journal.display())).await.unwrap();
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE account = 'm'").fetch_one(&mut c).await.unwrap();
            let floor: i64 = sqlx::query_scalar("SELECT upto FROM event_floors WHERE account = 'm'")
                .fetch_one(&mut c)
                .await
                .unwrap_or(0);
            (n, floor)
        })
    };
    let started = Instant::now();
    while rows().0 > 3 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(rows(), (3, before.0 as i64), "pruned to the retention, the floor recorded");
    s.stop();
    let s = Server::start(&dir, &["--event-retention", "3"]);
    assert_eq!(check(&s), before, "the same after a restart");
    s.stop();
    // A larger retention later does not make the pruned events look present.
    let s = Server::start(&dir, &["--event-retention", "1000"]);
    assert_eq!(check(&s), before);
    s.stop();
}

/// `after=now` answers an empty page at the head; a stream without `after` starts at the head;
/// `after` beyond the head answers the head; a bad `after` is refused naming the field.
#[test]
fn after_now_and_streams_start_at_the_head() {
    let dir = temp_dir("events-now");
    let s = Server::start(&dir, &[]);
    let (ts, tm) = network(&s, 2);
    let head = engine_event_seq(&s);
    let (st, v) = s.req("GET", "/v1/accounts/m/events?after=now", Some(&tm), None);
    assert_eq!((st, v["events"].clone(), v["last_seq"].as_u64()), (200, json!([]), Some(head)), "{v}");
    // The seller has fewer events than the head: its `now` is still the head.
    let (_, v) = s.req("GET", "/v1/accounts/s/events?after=now", Some(&ts), None);
    assert_eq!(v["last_seq"], head, "{v}");
    for path in ["/v1/accounts/m/events", "/v1/accounts/m/events?after=now"] {
        let mut stream = s.stream(path, &tm);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(stream.next_event());
        });
        let head = engine_event_seq(&s);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(put_stock(&s, &ts, head + 7), 200);
        let e = rx.recv_timeout(Duration::from_secs(30)).expect("a live event").unwrap();
        assert_eq!(e["seq"], head + 1, "{path}: the first event after the head, not the backlog: {e}");
    }
    let head = engine_event_seq(&s);
    let (_, v) = s.req("GET", "/v1/accounts/m/events?after=1000000000", Some(&tm), None);
    assert_eq!(v["last_seq"], head, "never an invented number: {v}");
    for bad in ["later", "-1", "1.5", "99999999999999999999"] {
        let (st, v) = s.req("GET", &format!("/v1/accounts/m/events?after={bad}"), Some(&tm), None);
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some("after")), "{bad}: {v}");
    }
    s.stop();
}

/// After `journal repair` gives up a damaged entry, its `SkipEventSeq` moves the engine's
/// event counter past any number clients may have seen; `last_seq` stays the newest event
/// that exists, and the next event follows the counter.
#[test]
fn last_seq_is_the_newest_event_after_a_repair() {
    let dir = temp_dir("events-repair");
    let s = Server::start(&dir, &[]);
    let (ts, tm) = network(&s, 1);
    for q in 2..6 {
        assert_eq!(put_stock(&s, &ts, q), 200);
    }
    let events = all_events(&s, "m", &tm);
    s.stop();
    damage_last_entry(&dir);
    let o = std::process::Command::new(BIN)
        .args(["journal", "repair", "--accept-loss", "--data-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = Server::start(&dir, &[]);
    // The damaged command's event stays in the history (clients saw it); nothing beyond it.
    let newest = *events.keys().last().unwrap();
    let (_, v) = s.req("GET", "/v1/accounts/m/events?after=1000000000", Some(&tm), None);
    assert_eq!(v["last_seq"], newest, "{v}");
    assert_eq!(all_events(&s, "m", &tm), events, "the history is as it was");
    assert_eq!(put_stock(&s, &ts, 9), 200);
    let (_, v) = s.req("GET", &format!("/v1/accounts/m/events?after={newest}"), Some(&tm), None);
    let next = v["events"][0]["seq"].as_u64().unwrap();
    assert!(next > newest, "no event number is reused: {v}");
    assert_eq!(v["last_seq"], next, "{v}");
    s.stop();
}
