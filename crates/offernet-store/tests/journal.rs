//! The SQLite journal, the group-commit writer, recovery, verify and compact.

use std::path::PathBuf;

use offernet_core::{Command, Engine, EngineConfig};
use offernet_store::journal::Journal;
use offernet_store::*;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Row};

/// Where a test's journal lives: a SQLite file in a fresh directory, or a fresh PostgreSQL
/// database. Every test runs against both backends (see `both!`).
struct Db {
    dir: PathBuf,
    url: Option<String>,
}

/// The PostgreSQL server for tests: `OFFERNET_TEST_POSTGRES_URL` (CI sets it). Without it the
/// PostgreSQL variants say they were skipped and why; under CI (`CI=true`) they fail instead.
fn postgres_base() -> Option<String> {
    match std::env::var("OFFERNET_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but OFFERNET_TEST_POSTGRES_URL is not set: the PostgreSQL journal tests must run in CI"
                );
            }
            eprintln!("SKIPPED: PostgreSQL journal test (set OFFERNET_TEST_POSTGRES_URL=postgres://user@127.0.0.1/db to run it)");
            None
        }
    }
}

fn with_database(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let root = head.rsplit_once('/').map(|(r, _)| r).unwrap_or(head);
    format!("{root}/{db}{query}")
}

impl Db {
    async fn new(postgres: bool, name: &str) -> Option<Db> {
        let dir = std::env::temp_dir().join(format!("offernet-store-test-{}-{name}-{}", std::process::id(), postgres));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if !postgres {
            return Some(Db { dir, url: None });
        }
        let base = postgres_base()?;
        let db = format!("offernet_test_{}_{name}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL reachable");
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(&mut admin).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
        Some(Db { dir, url: Some(with_database(&base, &db)) })
    }

    async fn journal(&self) -> AnyJournal {
        AnyJournal::open(self.url.as_deref(), &self.dir).await.unwrap()
    }

    /// Runs SQL against the journal's own tables; `{t}` stands for the table prefix.
    async fn sql(j: &mut AnyJournal, sql: &str) {
        match j {
            AnyJournal::Sqlite(s) => {
                sqlx::raw_sql(AssertSqlSafe(sql.replace("{t}", ""))).execute(s.connection()).await.unwrap();
            }
            AnyJournal::Postgres(p) => {
                sqlx::raw_sql(AssertSqlSafe(sql.replace("{t}", "offernet."))).execute(p.connection()).await.unwrap();
            }
        }
    }

    async fn scalar(j: &mut AnyJournal, sql: &str) -> i64 {
        match j {
            AnyJournal::Sqlite(s) => {
                sqlx::query(AssertSqlSafe(sql.replace("{t}", ""))).fetch_one(s.connection()).await.unwrap().get(0)
            }
            AnyJournal::Postgres(p) => sqlx::query(AssertSqlSafe(sql.replace("{t}", "offernet.")))
                .fetch_one(p.connection())
                .await
                .unwrap()
                .get(0),
        }
    }
}

/// Holds the engine's write lock on another OS thread until the returned sender is dropped
/// or sent to: the writer then commits its next batch and waits to apply it, which is how
/// these tests make the queue fill up or batches grow. (Holding a std lock inside the async
/// test itself would block the runtime's timers.)
fn stall_engine(h: &WriterHandle) -> std::sync::mpsc::Sender<()> {
    let shared = h.shared().clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _guard = shared.engine.write().unwrap();
        held_tx.send(()).unwrap();
        let _ = rx.recv();
    });
    held_rx.recv().unwrap();
    tx
}

/// Defines one test per backend from an `async fn(&Db)`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let db = super::Db::new(false, stringify!($name)).await.unwrap();
                super::$name(&db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(db) = super::Db::new(true, stringify!($name)).await else { return };
                super::$name(&db).await;
            })*
        }
    };
}

both!(
    restart_restores_every_acknowledged_command,
    concurrent_writers_share_commits,
    a_full_queue_says_busy,
    a_snapshot_with_a_bad_checksum_is_skipped,
    a_damaged_tail_is_dropped_and_reported,
    an_incomplete_last_batch_is_dropped_whole,
    damage_in_the_middle_refuses_to_start_and_names_the_entry,
    verify_finds_a_snapshot_that_differs_from_the_replay,
    compact_drops_covered_entries_and_keeps_verify_working,
    another_max_chain_is_refused,
    a_format_1_journal_still_replays,
);

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
async fn drop_snapshots(j: &mut AnyJournal) {
    Db::sql(j, "DELETE FROM {t}snapshot_chunks; DELETE FROM {t}snapshots").await;
}

/// The engine that the journal's stored entries replay to.
async fn replay_stored(j: &mut AnyJournal) -> Engine {
    let mut e = Engine::default();
    for raw in j.read_after(0, u64::MAX / 2).await.unwrap() {
        let c = offernet_store::journal::decode_command(raw.format, &raw.command).unwrap();
        let _ = e.apply(&c, raw.at_ms);
    }
    e
}

async fn open(db: &Db) -> (AnyJournal, Recovered) {
    let mut j = db.journal().await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    (j, r)
}

/// Writes `commands` through the writer (concurrently, in order of submission per task).
async fn write_all(db: &Db, commands: &[Command], config: WriterConfig) -> u64 {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, config);
    for c in commands {
        h.submit(c.clone()).await.unwrap().unwrap();
    }
    h.shutdown().await;
    let _ = task.await.unwrap();
    h.shared().stats.batches.load(std::sync::atomic::Ordering::Relaxed)
}

async fn restart_restores_every_acknowledged_command(db: &Db) {
    let mut all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let more: Vec<Command> = (0..50).map(|i| stock(i, i as u64 * 3)).collect();
    write_all(db, &more, WriterConfig { snapshot_every: 7, ..Default::default() }).await;
    all.extend(more);
    let (mut j, r) = open(db).await;
    assert!(r.report.snapshot.is_some(), "a snapshot was taken and loaded: {:?}", r.report);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    assert_eq!(r.last_seq, all.len() as u64);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None);
    assert_eq!(v.entries, all.len() as u64);
    assert!(!v.snapshots_ok.is_empty());
}

async fn concurrent_writers_share_commits(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(db).await;
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

async fn a_full_queue_says_busy(db: &Db) {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { queue_depth: 4, max_batch: 1, snapshot_every: 0 });
    h.submit(setup_commands()[0].clone()).await.unwrap().unwrap();
    // Hold the engine: the writer commits its next batch and then waits to apply it, while
    // the queue behind it fills up.
    let guard = stall_engine(&h);
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

async fn a_snapshot_with_a_bad_checksum_is_skipped(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 10, ..Default::default() }).await;
    {
        let mut j = db.journal().await;
        let newest = j.snapshots().await.unwrap()[0].seq;
        // Overwrite the snapshot's bytes (same length, all zero): its checksum fails.
        let zeros = match &j {
            AnyJournal::Sqlite(_) => "zeroblob(length(data))",
            AnyJournal::Postgres(_) => "decode(repeat('00', length(data)), 'hex')",
        };
        Db::sql(&mut j, &format!("UPDATE {{t}}snapshot_chunks SET data = {zeros} WHERE seq = {newest}")).await;
    }
    let (_, r) = open(db).await;
    assert_eq!(r.report.skipped_snapshots.len(), 1, "{:?}", r.report);
    assert!(r.report.snapshot.is_some(), "an older snapshot was used");
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
}

async fn a_damaged_tail_is_dropped_and_reported(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    let last = all.len() as i64;
    {
        let mut j = db.journal().await;
        drop_snapshots(&mut j).await;
        Db::sql(&mut j, &format!("UPDATE {{t}}journal SET command = substr(command, 1, 10) WHERE seq = {last}")).await;
    }
    let (_, r) = open(db).await;
    let dropped = r.report.dropped_tail.clone().expect("the tail was dropped");
    assert_eq!(dropped.1, last as u64, "{dropped:?}");
    assert_eq!(r.last_seq, last as u64 - 1);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all[..all.len() - 1]).snapshot_bytes());
}

async fn an_incomplete_last_batch_is_dropped_whole(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    // Many stock updates, submitted while the engine is held, land in a few large batches.
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let mut waits = Vec::new();
    let guard = stall_engine(&h);
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
    let first_of_last: i64 =
        Db::scalar(&mut j, &format!("SELECT MIN(seq) FROM {{t}}journal WHERE batch = {last_batch}")).await;
    assert!(last_seq as i64 > first_of_last, "the last batch has several entries");
    // Lose the last entry of the last batch, as a torn write would.
    Db::sql(&mut j, &format!("DELETE FROM {{t}}journal WHERE seq = {last_seq}")).await;
    drop(j);
    let (mut j, r) = open(db).await;
    let dropped = r.report.dropped_tail.clone().expect("the incomplete batch was dropped");
    assert_eq!(dropped.0, last_batch);
    assert_eq!(r.last_seq, first_of_last as u64 - 1, "no half batch is applied");
    assert_eq!(j.last().await.unwrap().0, first_of_last as u64 - 1, "the batch is gone from the journal");
    assert_eq!(r.engine.snapshot_bytes(), replay_stored(&mut j).await.snapshot_bytes());
}

async fn damage_in_the_middle_refuses_to_start_and_names_the_entry(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    {
        let mut j = db.journal().await;
        drop_snapshots(&mut j).await;
        Db::sql(&mut j, "UPDATE {t}journal SET command = '{}' WHERE seq = 12").await;
    }
    let mut j = db.journal().await;
    let err = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses");
    assert!(err.to_string().contains("entry 12"), "{err}");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.0), Some(12), "{v:?}");
}

async fn verify_finds_a_snapshot_that_differs_from_the_replay(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let mut j = db.journal().await;
    // A well-formed snapshot (valid checksum) of the wrong state at entry 30.
    let wrong = reference(&all[..29]).snapshot_bytes();
    j.save_snapshot(30, &wrong).await.unwrap();
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.0), Some(30), "{v:?}");
}

async fn compact_drops_covered_entries_and_keeps_verify_working(db: &Db) {
    let mut all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let more: Vec<Command> = (0..10).map(|i| stock(i, 5)).collect();
    write_all(db, &more, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(more);
    let mut j = db.journal().await;
    let (snap, dropped) = compact(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap().unwrap().unwrap();
    assert_eq!(snap, all.len() as u64);
    assert_eq!(dropped, all.len() as u64);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence), (Some(snap), None));
    drop(j);
    // Writing continues after compaction with the right sequence numbers.
    let extra = vec![stock(3, 77)];
    write_all(db, &extra, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(extra);
    let (mut j, r) = open(db).await;
    assert_eq!(r.last_seq, all.len() as u64);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    assert_eq!(verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap().divergence, None);
}

async fn another_max_chain_is_refused(db: &Db) {
    write_all(db, &setup_commands()[..2], WriterConfig::default()).await;
    let mut j = db.journal().await;
    let err = recover(&mut j, EngineConfig::new(5).unwrap(), &mut |_| {}).await.err().expect("refused");
    assert!(err.to_string().contains("max_chain 3"), "{err}");
}

/// A journal written with command format 1, kept as SQL text: whatever the command format
/// becomes, this history must still replay to the same offers.
async fn a_format_1_journal_still_replays(db: &Db) {
    let mut j = db.journal().await;
    let sql = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/journal-v1.sql")).unwrap();
    // The fixture is a file of this repository, not user input.
    Db::sql(&mut j, &sql.replace("INSERT INTO ", "INSERT INTO {t}")).await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.report.replayed, 15);
    let offers = r.engine.offers_for_sku("marketplace-b", "marketplace-a-seller-a-shoe-1").unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!((offers[0].quantity, offers[0].sellable), (Some(13), true));
}

/// Two offernet processes on one PostgreSQL database must not both write: the second is
/// refused while the first holds the writer lease, and gets it once the first is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_allows_one_writer_at_a_time() {
    let Some(db) = Db::new(true, "lease").await else { return };
    let first = db.journal().await;
    let started = std::time::Instant::now();
    let err = AnyJournal::open(db.url.as_deref(), &db.dir).await.err().expect("the second writer is refused");
    assert!(err.to_string().contains("writer lease"), "{err}");
    assert!(started.elapsed() >= offernet_store::postgres::LEASE_WAIT, "it waited for the lease before refusing");
    drop(first);
    // The lease is released with the first connection.
    let mut tries = 0;
    loop {
        match AnyJournal::open(db.url.as_deref(), &db.dir).await {
            Ok(_) => break,
            Err(e) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let _ = e;
            }
            Err(e) => panic!("the lease was not released: {e}"),
        }
    }
}
