//! Faults below the journal: a damaged or deleted SQLite WAL (caught by the high-water mark),
//! and journal errors the writer must survive (a commit that fails, a commit whose reply is
//! lost, a full disk, PostgreSQL dropping the writer's connection).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use offernet_core::{Command, EngineConfig};
use offernet_store::journal::{Entry, JResult, RawEntry, SnapshotMeta};
use offernet_store::*;
use sqlx::{AssertSqlSafe, Connection};

// ------------------------------------------------------------------ the SQLite WAL

/// Writes `n` commands through the writer (one commit each) and copies the data directory as a
/// crash would leave it: the journal file and its -wal (not yet checkpointed: the journal is
/// still open, as in a running server), and the high-water mark.
async fn crashed_copy(db: &Db, n: usize) -> (std::path::PathBuf, u64) {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() });
    let mut commands = setup_commands();
    commands.extend((0..n - commands.len()).map(|i| stock(i, i as u64 + 1)));
    for c in &commands {
        h.submit(c.clone()).await.unwrap().unwrap();
    }
    h.shutdown().await;
    let j = task.await.unwrap();
    let copy = db.dir.join("crashed");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["journal.sqlite", "journal.sqlite-wal", "committed-seq"] {
        std::fs::copy(db.dir.join(f), copy.join(f)).unwrap_or_else(|e| panic!("copying {f}: {e}"));
    }
    drop(j);
    (copy, n as u64)
}

async fn refusal_names_both(dir: &std::path::Path, mark: u64) -> u64 {
    let mut j = AnyJournal::open(None, dir).await.unwrap();
    let err = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("startup refuses");
    let msg = err.to_string();
    let JournalError::NeedsRepair(plan) = err else { panic!("{msg}") };
    assert_eq!(plan.high_water_mark, Some(mark), "{msg}");
    let last = j.last().await.unwrap().seq;
    assert!(last < mark, "{msg}");
    assert!(
        msg.contains(&format!("the journal ends at entry {last}"))
            && msg.contains(&format!("says entry {mark} was committed")),
        "{msg}"
    );
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(v.divergence.as_ref().is_some_and(|d| d.why.contains("high-water mark")), "verify reports it: {v:?}");
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flipped_bytes_in_the_sqlite_wal_refuse_to_start() {
    let db = Db::new(false, "wal_flip").await.unwrap();
    let (copy, mark) = crashed_copy(&db, 251).await;
    let wal = copy.join("journal.sqlite-wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0xff;
    }
    std::fs::write(&wal, bytes).unwrap();
    let last = refusal_names_both(&copy, mark).await;
    eprintln!("16 flipped bytes in the WAL: the journal ends at {last} of {mark}");
    // Repair accepts the loss and continues above the mark.
    let mut j = AnyJournal::open(None, &copy).await.unwrap();
    assert!(matches!(repair(&mut j, EngineConfig::default(), true).await.unwrap(), RepairOutcome::Repaired { .. }));
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    // The repair's `SkipEventSeq` follows the mark; the next entry comes after it.
    assert_eq!(r.last_seq, mark + 1, "the next entry is {} (above the mark)", mark + 2);
    let marks = std::fs::read_to_string(copy.join("committed-seq")).unwrap();
    let events: u64 = marks.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(r.engine.last_seq() >= events, "event numbers up to {events} are never reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_sqlite_wal_refuses_to_start() {
    let db = Db::new(false, "wal_deleted").await.unwrap();
    let (copy, mark) = crashed_copy(&db, 251).await;
    std::fs::remove_file(copy.join("journal.sqlite-wal")).unwrap();
    let last = refusal_names_both(&copy, mark).await;
    assert_eq!(last, 0, "nothing was ever checkpointed into the main file");
}

// ------------------------------------------------------------------ the writer's retries

/// The REAL journal with injected commit failures, only to drive the writer's retry logic:
/// `fail` commits fail before reaching the journal (as a full disk refuses them); `lose_reply`
/// commits succeed but report an error (a connection dropped after COMMIT was sent).
struct Faulty {
    inner: AnyJournal,
    fail: Arc<AtomicU32>,
    lose_reply: Arc<AtomicU32>,
    reopens: Arc<AtomicU32>,
}

fn take(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1)).is_ok()
}

impl Journal for Faulty {
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        self.inner.meta(key).await
    }
    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        self.inner.set_meta(key, value).await
    }
    async fn append_batch(&mut self, batch: u64, entries: &[Entry], events: &[StoredEvent]) -> JResult<()> {
        if take(&self.fail) {
            return Err(JournalError::Db("injected: database or disk is full".into()));
        }
        self.inner.append_batch(batch, entries, events).await?;
        if take(&self.lose_reply) {
            return Err(JournalError::Db("injected: connection lost after COMMIT".into()));
        }
        Ok(())
    }
    offernet_store::delegate_event_history!(inner);
    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        self.inner.read_after(after, limit).await
    }
    async fn last(&mut self) -> JResult<JournalEnd> {
        self.inner.last().await
    }
    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        self.inner.first_seq().await
    }
    async fn quarantine(&mut self, r: &Repair, then: &[Entry], then_batch: u64) -> JResult<u64> {
        self.inner.quarantine(r, then, then_batch).await
    }
    async fn repairs(&mut self) -> JResult<Vec<Repair>> {
        self.inner.repairs().await
    }
    async fn reopen(&mut self) -> JResult<()> {
        self.reopens.fetch_add(1, Ordering::SeqCst);
        self.inner.reopen().await
    }
    async fn ping(&mut self) -> JResult<()> {
        self.inner.ping().await
    }
    fn high_water_mark_file(&self) -> Option<std::path::PathBuf> {
        self.inner.high_water_mark_file()
    }
    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        self.inner.save_snapshot(seq, bytes).await
    }
    async fn snapshots(&mut self) -> JResult<Vec<SnapshotMeta>> {
        self.inner.snapshots().await
    }
    async fn load_snapshot(&mut self, seq: u64) -> JResult<Vec<u8>> {
        self.inner.load_snapshot(seq).await
    }
    async fn compact(&mut self, upto: u64) -> JResult<u64> {
        self.inner.compact(upto).await
    }
}

/// Every stored command, in order.
async fn stored_commands(db: &Db) -> Vec<Command> {
    let mut j = db.journal().await;
    j.read_after(0, u64::MAX / 2)
        .await
        .unwrap()
        .into_iter()
        .map(|r| offernet_store::journal::decode_command(r.format, &r.command).unwrap())
        .collect()
}

both!(
    a_failing_commit_is_retried_and_nothing_is_lost,
    a_commit_whose_reply_is_lost_is_applied_once,
    a_journal_written_by_another_process_stops_the_writer,
);

async fn a_failing_commit_is_retried_and_nothing_is_lost(db: &Db) {
    let setup = setup_commands();
    write_all(db, &setup, WriterConfig::default()).await;
    let (j, r) = open(db).await;
    // The commit fails until the test has seen the writer retrying (then it heals).
    let fail = Arc::new(AtomicU32::new(u32::MAX));
    let reopens = Arc::new(AtomicU32::new(0));
    let j = Faulty { inner: j, fail: fail.clone(), lose_reply: Arc::new(AtomicU32::new(0)), reopens: reopens.clone() };
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let h2 = h.clone();
    let first = tokio::spawn(async move { h2.submit(stock(1, 111)).await });
    // The writer takes the write and fails its commit (three times, with backoff from 50 ms):
    // wait until it says so, however loaded the machine is.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.health().state != WriterState::Retrying && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let health = h.health();
    assert_eq!(health.state, WriterState::Retrying, "{health:?}");
    assert!(health.last_error.as_deref().unwrap_or("").contains("disk is full"), "{health:?}");
    // Meanwhile new writes are refused at once, saying why, and are not written.
    match h.submit(stock(2, 222)).await {
        Err(SubmitError::Unavailable(m)) => assert!(m.contains("retrying"), "{m}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    fail.store(0, Ordering::SeqCst); // the disk has space again
    first.await.unwrap().unwrap().unwrap();
    let health = h.health();
    assert_eq!(health.state, WriterState::Ok, "{health:?}");
    assert!(health.journal_errors >= 1, "{health:?}");
    assert_eq!(
        u64::from(reopens.load(Ordering::SeqCst)),
        health.journal_errors,
        "the journal was reopened after every failure"
    );
    h.submit(stock(3, 333)).await.unwrap().unwrap();
    let live = h.read(|e| e.snapshot_bytes());
    h.shutdown().await;
    task.await.unwrap();
    let mut expected = setup.clone();
    expected.extend([stock(1, 111), stock(3, 333)]);
    assert_eq!(stored_commands(db).await, expected, "each acknowledged write once, the refused one not at all");
    let (_, r) = open(db).await;
    assert_eq!(r.engine.snapshot_bytes(), live, "engine and journal agree");
}

async fn a_commit_whose_reply_is_lost_is_applied_once(db: &Db) {
    let setup = setup_commands();
    write_all(db, &setup, WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let j = Faulty {
        inner: j,
        fail: Arc::new(AtomicU32::new(0)),
        lose_reply: Arc::new(AtomicU32::new(1)),
        reopens: Arc::new(AtomicU32::new(0)),
    };
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    h.submit(stock(1, 111)).await.unwrap().unwrap();
    h.submit(stock(2, 222)).await.unwrap().unwrap();
    assert_eq!(h.health().journal_errors, 1);
    let live = h.read(|e| e.snapshot_bytes());
    h.shutdown().await;
    task.await.unwrap();
    let mut expected = setup.clone();
    expected.extend([stock(1, 111), stock(2, 222)]);
    assert_eq!(stored_commands(db).await, expected, "the landed batch is applied, not committed twice");
    let (_, r) = open(db).await;
    assert_eq!(r.engine.snapshot_bytes(), live, "engine and journal agree");
}

// ------------------------------------------------------------------ a real full disk

/// A small tmpfs mounted for the test (root only), unmounted when dropped.
struct Mount(std::path::PathBuf);

impl Mount {
    fn tmpfs(at: &std::path::Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs", at.to_str().unwrap()])
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(at.to_path_buf())),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: full-disk test: cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: full-disk test: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").args(["-l", self.0.to_str().unwrap()]).status();
    }
}

/// Fills the file system of `dir` with one file until it is full; returns the file.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write as _;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_makes_the_writer_retry_until_there_is_space_again() {
    let db = Db::new(false, "disk_full").await.unwrap();
    let Some(mount) = Mount::tmpfs(&db.dir.join("small"), "2m") else { return };
    let dir = mount.0.join("data");
    let mut j = AnyJournal::open(None, &dir).await.unwrap();
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    for c in setup_commands() {
        h.submit(c).await.unwrap().unwrap();
    }
    let filler = fill(&mount.0);
    let h2 = h.clone();
    let pending = tokio::spawn(async move {
        let mut n = 0;
        // Big commands fill the WAL's free pages quickly; keep writing until one must wait.
        loop {
            n += 1;
            let name = "x".repeat(900);
            let c = cmd(
                serde_json::json!({"type": "put_sku", "account": "s", "sku": format!("big{n}"), "body": {"name": name}}),
            );
            match h2.submit(c).await {
                Ok(r) => {
                    r.unwrap();
                }
                Err(e) => return (n, Err(e)),
            }
            if h2.health().journal_errors > 0 {
                return (n, Ok(()));
            }
        }
    });
    let mut seen_retrying = false;
    for _ in 0..400 {
        if h.health().state == WriterState::Retrying {
            seen_retrying = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen_retrying, "the full disk made the writer retry: {:?}", h.health());
    assert!(h.health().last_error.unwrap_or_default().to_lowercase().contains("full"), "{:?}", h.health());
    assert!(matches!(h.submit(stock(1, 5)).await, Err(SubmitError::Unavailable(_))), "writes are refused meanwhile");
    std::fs::remove_file(filler).unwrap();
    let (n, outcome) = tokio::time::timeout(Duration::from_secs(10), pending).await.expect("it recovers").unwrap();
    outcome.expect("the write that met the full disk succeeds once there is space");
    h.submit(stock(1, 6)).await.expect("writes work again").unwrap();
    assert_eq!(h.health().state, WriterState::Ok);
    let live = h.read(|e| e.snapshot_bytes());
    h.shutdown().await;
    drop(task.await.unwrap());
    let mut j = AnyJournal::open(None, &dir).await.unwrap();
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.engine.snapshot_bytes(), live, "engine and journal agree ({n} big writes)");
    drop(j);
    drop(mount);
}

// ------------------------------------------------------------------ PostgreSQL drops the writer

async fn terminate_writer(db: &Db) -> u64 {
    let mut admin = sqlx::PgConnection::connect(&postgres_base().unwrap()).await.unwrap();
    let sql = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name.as_ref().unwrap()
    );
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut admin).await.unwrap();
    n as u64
}

// Long on purpose: one writer through two stages (idle, then under load), the 2nd on the 1st.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_writer_survives_a_terminated_connection() {
    let Some(db) = Db::new(true, "terminated").await else { return };
    write_all(&db, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(&db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    // 1. While idle: the writer notices within LEASE_CHECK_INTERVAL and reconnects.
    // At least the writer's backend (connections other tests' helpers dropped may linger).
    assert!(terminate_writer(&db).await >= 1, "the writer's backend was terminated");
    // The writer notices at its next lease check, then reconnects: wait for both, with a
    // deadline far above LEASE_CHECK_INTERVAL for a loaded machine.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    tokio::time::sleep(offernet_store::writer::LEASE_CHECK_INTERVAL).await;
    while (h.health().state != WriterState::Ok || h.health().journal_errors == 0)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The writer noticed (an error counted; a short `retrying` may fall between two samples)
    // and is back.
    let health = h.health();
    assert!(health.journal_errors >= 1 && health.state == WriterState::Ok, "{health:?}");
    // The lease is held again: a second writer is refused.
    let err = PgJournal::open_with_lease_wait(db.url.as_deref().unwrap(), Duration::from_millis(200)).await.err();
    assert!(matches!(err, Some(JournalError::NotWriter(_))), "the lease was retaken: {:?}", err.map(|e| e.to_string()));
    h.submit(stock(0, 1000)).await.expect("writes work after an idle disconnect").unwrap();
    // 2. Mid-load: clients keep writing (retrying what is refused); nothing acknowledged is
    //    lost and nothing is applied twice.
    const CLIENTS: usize = 8;
    const PER_CLIENT: u64 = 400;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let mut refused = 0u64;
            for q in 1..=PER_CLIENT {
                loop {
                    match h.submit(stock(c, q)).await {
                        Ok(r) => {
                            r.unwrap();
                            break;
                        }
                        Err(SubmitError::Busy | SubmitError::Unavailable(_)) => {
                            refused += 1;
                            tokio::time::sleep(Duration::from_millis(5)).await
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            refused
        }));
    }
    let start = h.shared().stats.commands.load(Ordering::Relaxed);
    while h.shared().stats.commands.load(Ordering::Relaxed) < start + 300 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let before = h.shared().stats.commands.load(Ordering::Relaxed) - start;
    assert!(terminate_writer(&db).await >= 1);
    assert!(before < CLIENTS as u64 * PER_CLIENT / 2, "terminated mid-load ({before} written)");
    let mut refused = 0;
    for t in tasks {
        refused += tokio::time::timeout(Duration::from_secs(60), t).await.expect("the load finishes").unwrap();
    }
    // The second termination was noticed too (a second error counted) and the writer is back.
    let health = h.health();
    assert!(health.journal_errors >= 2 && health.state == WriterState::Ok, "{health:?}");
    eprintln!("terminated after {before} commands; {refused} submissions refused and retried");
    let live = h.read(|e| e.snapshot_bytes());
    h.shutdown().await;
    task.await.unwrap();
    // Every client's writes are in the journal exactly once each, in order.
    let stored = stored_commands(&db).await;
    let mut per_sku: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for x in &stored[setup_commands().len() + 1..] {
        let v = serde_json::to_value(x).unwrap();
        per_sku
            .entry(v["sku"].as_str().unwrap().to_string())
            .or_default()
            .push(v["body"]["quantity"].as_u64().unwrap());
    }
    for c in 0..CLIENTS {
        let want: Vec<u64> = (1..=PER_CLIENT).collect();
        assert_eq!(per_sku.get(&format!("k{c}")), Some(&want), "client {c}");
    }
    let (_, r) = open(&db).await;
    assert_eq!(r.engine.snapshot_bytes(), live, "engine and journal agree");
}

/// Someone else appends to the journal under a running writer (as a second writer would after
/// taking the lease): the writer's next commit collides, and after reconnecting it finds the
/// journal ahead of its engine with other commands. It must neither apply them blindly nor
/// overwrite them: it stops, says why, and refuses writes until restarted.
async fn a_journal_written_by_another_process_stops_the_writer(db: &Db) {
    let setup = setup_commands();
    write_all(db, &setup, WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let next = r.last_seq + 1;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let foreign = offernet_store::journal::encode_command(&stock(5, 555));
    let crc = offernet_store::crc::crc32(foreign.as_bytes()) as i64;
    let insert = "INSERT INTO {t}journal (seq, batch, batch_size, format, at_ms, command, crc) VALUES";
    let row = format!("({next}, 999999, 1, 1, 0, '{foreign}', {crc})");
    match &db.url {
        None => {
            let path = db.dir.join("journal.sqlite");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(format!("{} {row}", insert.replace("{t}", "")))).execute(&mut c).await.unwrap();
        }
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let sql = format!("{} {row}", insert.replace("{t}", "offernet."));
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
    }
    match h.submit(stock(1, 111)).await {
        Err(SubmitError::Unavailable(m)) => assert!(m.contains("may or may not have been committed"), "{m}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // The writer says `stopped` before it answers the batch that stopped it.
    let health = h.health();
    assert_eq!(health.state, WriterState::Stopped, "{health:?}");
    assert!(health.last_error.unwrap_or_default().contains(&format!("the journal ends at entry {next}")));
    assert!(matches!(h.submit(stock(2, 222)).await, Err(SubmitError::Unavailable(_))));
    h.shutdown().await;
    task.await.unwrap();
    // The foreign entry is intact, and nothing of ours was written over or beside it.
    let stored = stored_commands(db).await;
    assert_eq!(stored.len(), setup.len() + 1);
    assert_eq!(stored.last(), Some(&stock(5, 555)));
}
