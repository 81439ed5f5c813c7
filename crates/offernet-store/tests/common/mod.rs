//! Shared by the store's integration tests: a journal per test on SQLite or PostgreSQL, the
//! `both!` macro that defines a test per backend, and a small network of commands.

#![allow(dead_code)]

use std::path::PathBuf;

use offernet_core::{Command, Engine, EngineConfig};
use offernet_store::journal::Journal;
use offernet_store::*;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Row};

/// Where a test's journal lives: a SQLite file in a fresh directory, or a fresh PostgreSQL
/// database. Every test runs against both backends (see `both!`).
pub struct Db {
    pub dir: PathBuf,
    pub url: Option<String>,
    /// The PostgreSQL database's name.
    pub name: Option<String>,
}

/// The PostgreSQL server for tests: `OFFERNET_TEST_POSTGRES_URL` (CI sets it). Without it the
/// PostgreSQL variants say they were skipped and why; under CI (`CI=true`) they fail instead.
pub fn postgres_base() -> Option<String> {
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

pub fn with_database(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base, String::new()),
    };
    let root = head.rsplit_once('/').map(|(r, _)| r).unwrap_or(head);
    format!("{root}/{db}{query}")
}

impl Db {
    pub async fn new(postgres: bool, name: &str) -> Option<Db> {
        let dir = std::env::temp_dir().join(format!("offernet-store-test-{}-{name}-{}", std::process::id(), postgres));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if !postgres {
            return Some(Db { dir, url: None, name: None });
        }
        let base = postgres_base()?;
        let db = format!("offernet_test_{}_{name}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL reachable");
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(&mut admin).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
        Some(Db { dir, url: Some(with_database(&base, &db)), name: Some(db) })
    }

    pub async fn journal(&self) -> AnyJournal {
        AnyJournal::open(self.url.as_deref(), &self.dir).await.unwrap()
    }

    /// Runs SQL against the journal's own tables; `{t}` stands for the table prefix.
    pub async fn sql(j: &mut AnyJournal, sql: &str) {
        match j {
            AnyJournal::Sqlite(s) => {
                sqlx::raw_sql(AssertSqlSafe(sql.replace("{t}", ""))).execute(s.connection()).await.unwrap();
            }
            AnyJournal::Postgres(p) => {
                sqlx::raw_sql(AssertSqlSafe(sql.replace("{t}", "offernet."))).execute(p.connection()).await.unwrap();
            }
        }
    }

    pub async fn scalar(j: &mut AnyJournal, sql: &str) -> i64 {
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
pub fn stall_engine(h: &WriterHandle) -> std::sync::mpsc::Sender<()> {
    let shared = h.shared().clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _guard = shared.engine.write().unwrap();
        held_tx.send(()).unwrap();
        // At most 30 s: a test that would wait on the engine fails instead of hanging.
        let _ = rx.recv_timeout(std::time::Duration::from_secs(30));
    });
    held_rx.recv().unwrap();
    tx
}

/// Defines one test per backend from an `async fn(&Db)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let db = $crate::common::Db::new(false, stringify!($name)).await.unwrap();
                super::$name(&db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(db) = $crate::common::Db::new(true, stringify!($name)).await else { return };
                super::$name(&db).await;
            })*
        }
    };
}

pub fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).unwrap()
}

/// A small network: a seller and a marketplace, connected, with stock and prices.
pub fn setup_commands() -> Vec<Command> {
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

pub fn stock(i: usize, q: u64) -> Command {
    cmd(
        json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": format!("k{}", i % 20), "body": {"quantity": q}}),
    )
}

pub fn reference(commands: &[Command]) -> Engine {
    let mut e = Engine::default();
    for c in commands {
        let _ = e.apply(c, 0);
    }
    e
}

/// Removes every snapshot, as if the process had been killed before taking one.
pub async fn drop_snapshots(j: &mut AnyJournal) {
    Db::sql(j, "DELETE FROM {t}snapshot_chunks; DELETE FROM {t}snapshots").await;
}

/// The engine that the journal's stored entries replay to.
pub async fn replay_stored(j: &mut AnyJournal) -> Engine {
    let mut e = Engine::default();
    for raw in j.read_after(0, u64::MAX / 2).await.unwrap() {
        let c = offernet_store::journal::decode_command(raw.format, &raw.command).unwrap();
        let _ = e.apply(&c, raw.at_ms);
    }
    e
}

pub async fn open(db: &Db) -> (AnyJournal, Recovered) {
    let mut j = db.journal().await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    (j, r)
}

/// Writes `commands` through the writer (concurrently, in order of submission per task).
pub async fn write_all(db: &Db, commands: &[Command], config: WriterConfig) -> u64 {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, config);
    for c in commands {
        h.submit(c.clone()).await.unwrap().unwrap();
    }
    h.shutdown().await;
    let _ = task.await.unwrap();
    h.shared().stats.batches.load(std::sync::atomic::Ordering::Relaxed)
}
