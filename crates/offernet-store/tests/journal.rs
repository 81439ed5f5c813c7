//! The SQLite journal, the group-commit writer, recovery, verify and compact.
// Some tests hold the engine lock across awaits on purpose: it stalls the writer after its
// commit so that the queue fills (backpressure) or batches grow (torn batch).
#![allow(clippy::await_holding_lock, clippy::readonly_write_lock)]

use std::path::PathBuf;

use offernet_core::{Command, Engine, EngineConfig};
use offernet_store::journal::Journal;
use offernet_store::*;
use serde_json::json;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("offernet-store-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).unwrap()
}

/// A small network: a seller and a marketplace, connected, with stock and prices.
fn setup_commands() -> Vec<Command> {
    let mut out = vec![
        cmd(json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"})),
        cmd(json!({"type": "create_account", "id": "m", "name": "M", "currency": "BRL"})),
        cmd(json!({"type": "put_warehouse", "account": "s", "warehouse": "w", "body": {}})),
        cmd(json!({"type": "put_affiliation", "seller": "s", "marketplace": "m", "body": {"trade_policy": "1"}})),
        cmd(json!({"type": "put_seller", "marketplace": "m", "seller": "s", "body": {}})),
    ];
    for i in 0..20 {
        let sku = format!("k{i}");
        out.push(cmd(json!({"type": "put_sku", "account": "s", "sku": sku, "body": {"name": "K"}})));
        out.push(cmd(json!({"type": "put_price", "account": "s", "sku": sku, "body": {"price": 100 + i}})));
        out.push(cmd(
            json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": sku, "body": {"quantity": i}}),
        ));
    }
    out
}

fn stock(i: usize, q: u64) -> Command {
    cmd(
        json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": format!("k{}", i % 20), "body": {"quantity": q}}),
    )
}

fn reference(commands: &[Command]) -> Engine {
    let mut e = Engine::default();
    for c in commands {
        let _ = e.apply(c, 0);
    }
    e
}

/// Removes every snapshot, as if the process had been killed before taking one.
async fn drop_snapshots(j: &mut SqliteJournal) {
    sqlx::query("DELETE FROM snapshot_chunks").execute(j.connection()).await.unwrap();
    sqlx::query("DELETE FROM snapshots").execute(j.connection()).await.unwrap();
}

/// The engine that the journal's stored entries replay to.
async fn replay_stored(j: &mut SqliteJournal) -> Engine {
    let mut e = Engine::default();
    for raw in j.read_after(0, u64::MAX / 2).await.unwrap() {
        let c = offernet_store::journal::decode_command(raw.format, &raw.command).unwrap();
        let _ = e.apply(&c, raw.at_ms);
    }
    e
}

async fn open(dir: &std::path::Path) -> (SqliteJournal, Recovered) {
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    (j, r)
}

/// Writes `commands` through the writer (concurrently, in order of submission per task).
async fn write_all(dir: &std::path::Path, commands: &[Command], config: WriterConfig) -> u64 {
    let (j, r) = open(dir).await;
    let (h, task) = spawn(j, r, config);
    for c in commands {
        h.submit(c.clone()).await.unwrap().unwrap();
    }
    h.shutdown().await;
    let _ = task.await.unwrap();
    h.shared().stats.batches.load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_every_acknowledged_command() {
    let dir = temp_dir("restart");
    let mut all = setup_commands();
    write_all(&dir, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let more: Vec<Command> = (0..50).map(|i| stock(i, i as u64 * 3)).collect();
    write_all(&dir, &more, WriterConfig { snapshot_every: 7, ..Default::default() }).await;
    all.extend(more);
    let (mut j, r) = open(&dir).await;
    assert!(r.report.snapshot.is_some(), "a snapshot was taken and loaded: {:?}", r.report);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    assert_eq!(r.last_seq, all.len() as u64);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None);
    assert_eq!(v.entries, all.len() as u64);
    assert!(!v.snapshots_ok.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits() {
    let dir = temp_dir("group");
    write_all(&dir, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(&dir).await;
    let (h, task) = spawn(j, r, WriterConfig::default());
    let mut tasks = Vec::new();
    for t in 0..32 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                h.submit(stock(t, i)).await.unwrap().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = &h.shared().stats;
    let batches = stats.batches.load(std::sync::atomic::Ordering::Relaxed);
    let commands = stats.commands.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(commands, 32 * 50);
    assert!(batches < commands, "group commit: {batches} commits for {commands} commands");
    h.shutdown().await;
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_says_busy() {
    let dir = temp_dir("busy");
    let (j, r) = open(&dir).await;
    let (h, task) = spawn(j, r, WriterConfig { queue_depth: 4, max_batch: 1, snapshot_every: 0 });
    h.submit(setup_commands()[0].clone()).await.unwrap().unwrap();
    // Hold the engine: the writer commits its next batch and then waits to apply it, while
    // the queue behind it fills up.
    let guard = h.shared().engine.write().unwrap();
    let mut pending = Vec::new();
    let mut busy = 0;
    for i in 0..64 {
        let h2 = h.clone();
        let c = stock(i, 1);
        pending.push(tokio::spawn(async move { h2.submit(c).await }));
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(guard);
    for p in pending {
        if p.await.unwrap() == Err(SubmitError::Busy) {
            busy += 1;
        }
    }
    assert!(busy > 0, "some submissions were refused with Busy");
    h.shutdown().await;
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_with_a_bad_checksum_is_skipped() {
    let dir = temp_dir("badsnap");
    let all = setup_commands();
    write_all(&dir, &all, WriterConfig { snapshot_every: 10, ..Default::default() }).await;
    {
        let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
        let newest = j.snapshots().await.unwrap()[0].seq;
        sqlx::query("UPDATE snapshot_chunks SET data = zeroblob(length(data)) WHERE seq = ?")
            .bind(newest as i64)
            .execute(j.connection())
            .await
            .unwrap();
    }
    let (_, r) = open(&dir).await;
    assert_eq!(r.report.skipped_snapshots.len(), 1, "{:?}", r.report);
    assert!(r.report.snapshot.is_some(), "an older snapshot was used");
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_tail_is_dropped_and_reported() {
    let dir = temp_dir("tail");
    let all = setup_commands();
    write_all(&dir, &all, WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    let last = all.len() as i64;
    {
        let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
        drop_snapshots(&mut j).await;
        sqlx::query("UPDATE journal SET command = substr(command, 1, 10) WHERE seq = ?")
            .bind(last)
            .execute(j.connection())
            .await
            .unwrap();
    }
    let (_, r) = open(&dir).await;
    let dropped = r.report.dropped_tail.clone().expect("the tail was dropped");
    assert_eq!(dropped.1, last as u64, "{dropped:?}");
    assert_eq!(r.last_seq, last as u64 - 1);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all[..all.len() - 1]).snapshot_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_last_batch_is_dropped_whole() {
    let dir = temp_dir("truncated");
    write_all(&dir, &setup_commands(), WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    // Many stock updates, submitted while the engine is held, land in a few large batches.
    let (j, r) = open(&dir).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let mut waits = Vec::new();
    let guard = h.shared().engine.write().unwrap();
    for i in 0..200 {
        let h = h.clone();
        waits.push(tokio::spawn(async move { h.submit(stock(i, i as u64)).await }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(guard);
    for w in waits {
        w.await.unwrap().unwrap().unwrap();
    }
    h.shutdown().await;
    let mut j = task.await.unwrap();
    drop_snapshots(&mut j).await;
    let (last_seq, last_batch) = j.last().await.unwrap();
    let first_of_last: i64 = sqlx::query_scalar("SELECT MIN(seq) FROM journal WHERE batch = ?")
        .bind(last_batch as i64)
        .fetch_one(j.connection())
        .await
        .unwrap();
    assert!(last_seq as i64 > first_of_last, "the last batch has several entries");
    // Lose the last entry of the last batch, as a torn write would.
    sqlx::query("DELETE FROM journal WHERE seq = ?").bind(last_seq as i64).execute(j.connection()).await.unwrap();
    drop(j);
    let (mut j, r) = open(&dir).await;
    let dropped = r.report.dropped_tail.clone().expect("the incomplete batch was dropped");
    assert_eq!(dropped.0, last_batch);
    assert_eq!(r.last_seq, first_of_last as u64 - 1, "no half batch is applied");
    assert_eq!(j.last().await.unwrap().0, first_of_last as u64 - 1, "the batch is gone from the journal");
    assert_eq!(r.engine.snapshot_bytes(), replay_stored(&mut j).await.snapshot_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_in_the_middle_refuses_to_start_and_names_the_entry() {
    let dir = temp_dir("middle");
    write_all(&dir, &setup_commands(), WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    {
        let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
        drop_snapshots(&mut j).await;
        sqlx::query("UPDATE journal SET command = '{}' WHERE seq = 12").execute(j.connection()).await.unwrap();
    }
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    let err = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses");
    assert!(err.to_string().contains("entry 12"), "{err}");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.0), Some(12), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_snapshot_that_differs_from_the_replay() {
    let dir = temp_dir("diverge");
    let all = setup_commands();
    write_all(&dir, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    // A well-formed snapshot (valid checksum) of the wrong state at entry 30.
    let wrong = reference(&all[..29]).snapshot_bytes();
    j.save_snapshot(30, &wrong).await.unwrap();
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.0), Some(30), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_drops_covered_entries_and_keeps_verify_working() {
    let dir = temp_dir("compact");
    let mut all = setup_commands();
    write_all(&dir, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let more: Vec<Command> = (0..10).map(|i| stock(i, 5)).collect();
    write_all(&dir, &more, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(more);
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    let (snap, dropped) = compact(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap().unwrap().unwrap();
    assert_eq!(snap, all.len() as u64);
    assert_eq!(dropped, all.len() as u64);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence), (Some(snap), None));
    drop(j);
    // Writing continues after compaction with the right sequence numbers.
    let extra = vec![stock(3, 77)];
    write_all(&dir, &extra, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(extra);
    let (mut j, r) = open(&dir).await;
    assert_eq!(r.last_seq, all.len() as u64);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    assert_eq!(verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap().divergence, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_max_chain_is_refused() {
    let dir = temp_dir("maxchain");
    write_all(&dir, &setup_commands()[..2], WriterConfig::default()).await;
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    let err = recover(&mut j, EngineConfig::new(5).unwrap(), &mut |_| {}).await.err().expect("refused");
    assert!(err.to_string().contains("max_chain 3"), "{err}");
}

/// A journal written with command format 1, kept as SQL text: whatever the command format
/// becomes, this history must still replay to the same offers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_journal_still_replays() {
    let dir = temp_dir("fixture");
    let mut j = SqliteJournal::open(&dir.join(JOURNAL_FILE)).await.unwrap();
    let sql = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/journal-v1.sql")).unwrap();
    // The fixture is a file of this repository, not user input.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(j.connection()).await.unwrap();
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.report.replayed, 15);
    let offers = r.engine.offers_for_sku("marketplace-b", "marketplace-a-seller-a-shoe-1").unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!((offers[0].quantity, offers[0].sellable), (Some(13), true));
}
