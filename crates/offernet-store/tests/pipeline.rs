//! The pipelined writer: nothing is answered, readable or published before its commit returns,
//! even though a batch's commit overlaps the apply step of the batch before it; and the event
//! history stays whole across the pipeline. And the callers resolve their commands' ids for
//! the writer only when the engine is free: they never wait for an apply step.

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use offernet_core::Event;
use offernet_store::journal::{Entry, JResult, RawEntry, SnapshotMeta};
use offernet_store::*;
use tokio::sync::{mpsc, Semaphore};

both!(
    nothing_is_answered_or_visible_before_its_commit,
    a_commit_overlaps_the_apply_of_the_batch_before,
    callers_resolve_their_ids_when_the_engine_is_free,
    callers_resolving_while_others_make_skus_agree_with_the_replay
);

/// The real journal, whose commits wait for a permit: each `append_batch` says it started
/// (with its batch number) and then waits until the test adds a permit.
struct Gated {
    inner: AnyJournal,
    started: mpsc::UnboundedSender<u64>,
    permits: Arc<Semaphore>,
}

impl Gated {
    fn new(inner: AnyJournal) -> (Gated, mpsc::UnboundedReceiver<u64>, Arc<Semaphore>) {
        let (started, rx) = mpsc::unbounded_channel();
        let permits = Arc::new(Semaphore::new(0));
        (Gated { inner, started, permits: permits.clone() }, rx, permits)
    }
}

impl Journal for Gated {
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        self.inner.meta(key).await
    }
    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        self.inner.set_meta(key, value).await
    }
    async fn append_batch(&mut self, batch: u64, entries: &[Entry], events: &[StoredEvent]) -> JResult<()> {
        let _ = self.started.send(batch);
        self.permits.acquire().await.expect("the semaphore stays open").forget();
        self.inner.append_batch(batch, entries, events).await
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

/// The sequence numbers of the events the writer published, in order.
#[derive(Default)]
struct Seen(Mutex<Vec<u64>>);

impl EventSink for Seen {
    fn publish(&self, _at_ms: u64, events: &[Event]) {
        self.0.lock().unwrap().extend(events.iter().map(|e| e.seq));
    }
}

impl Seen {
    fn all(&self) -> Vec<u64> {
        self.0.lock().unwrap().clone()
    }
}

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

/// A writer over the gated journal after the small network was written, with its sink.
async fn gated_writer(
    db: &Db,
) -> (WriterHandle, tokio::task::JoinHandle<Gated>, mpsc::UnboundedReceiver<u64>, Arc<Semaphore>, Arc<Seen>) {
    write_all(db, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let (gated, started, permits) = Gated::new(j);
    let seen = Arc::new(Seen::default());
    let config = WriterConfig { snapshot_every: 0, ..Default::default() };
    let (h, task) = spawn_with_sink(gated, r, config, Some(seen.clone() as Arc<dyn EventSink>));
    (h, task, started, permits, seen)
}

async fn nothing_is_answered_or_visible_before_its_commit(db: &Db) {
    let (h, task, mut started, permits, seen) = gated_writer(db).await;
    let before = h.read(|e| e.snapshot_bytes());
    let last_seq = h.shared().stats.last_seq.load(Relaxed);
    let submit = |c| {
        let h = h.clone();
        tokio::spawn(async move { h.submit(c).await })
    };
    let a = submit(stock(0, 777));
    started.recv().await.unwrap();
    // The commit is under way and waits: give the writer every chance to show it early.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!a.is_finished(), "answered before its commit returned");
    assert_eq!(h.read(|e| e.snapshot_bytes()), before, "readable before its commit returned");
    assert!(seen.all().is_empty(), "events published before the commit returned");
    assert_eq!(h.shared().stats.last_seq.load(Relaxed), last_seq, "counted as committed before it was");
    permits.add_permits(1);
    let a_events = a.await.unwrap().unwrap().unwrap();
    assert!(!a_events.is_empty(), "the stock change moves an offer");
    let after_a = h.read(|e| e.snapshot_bytes());
    assert_ne!(after_a, before);
    assert_eq!(seen.all(), seqs(&a_events));
    // The next batch waits in its commit: the first is visible, the second is not.
    let b = submit(stock(0, 778));
    started.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_finished());
    assert_eq!(h.read(|e| e.snapshot_bytes()), after_a);
    assert_eq!(seen.all(), seqs(&a_events));
    permits.add_permits(1);
    let b_events = b.await.unwrap().unwrap().unwrap();
    assert_eq!(seen.all(), [seqs(&a_events), seqs(&b_events)].concat());
    h.shutdown().await;
    let mut j = task.await.unwrap().inner;
    // Every published event is in the durable history after shutdown.
    let stored: Vec<u64> = j.read_events(0, 1_000_000).await.unwrap().iter().map(|e| e.seq).collect();
    for s in seen.all() {
        assert!(stored.contains(&s), "event {s} is in the history");
    }
}

async fn a_commit_overlaps_the_apply_of_the_batch_before(db: &Db) {
    let (h, task, mut started, permits, seen) = gated_writer(db).await;
    permits.add_permits(1_000);
    let before = h.read(|e| e.snapshot_bytes());
    // The engine is held: batch N commits, then its apply step waits for the lock.
    let release = stall_engine(&h);
    let submit = |c| {
        let h = h.clone();
        tokio::spawn(async move { h.submit(c).await })
    };
    let n = submit(stock(1, 501));
    let first = started.recv().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Batch N+1's commit starts while batch N is committed but not applied nor answered.
    let next = submit(stock(1, 502));
    let second = tokio::time::timeout(Duration::from_secs(10), started.recv()).await.expect("the next commit starts");
    assert_eq!(second, Some(first + 1));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!n.is_finished() && !next.is_finished(), "nothing answered while the engine is held");
    assert!(seen.all().is_empty());
    drop(release);
    let n_events = n.await.unwrap().unwrap().unwrap();
    let next_events = next.await.unwrap().unwrap().unwrap();
    assert!(seqs(&n_events).iter().all(|a| seqs(&next_events).iter().all(|b| a < b)), "applied in order");
    assert_eq!(seen.all(), [seqs(&n_events), seqs(&next_events)].concat());
    assert_ne!(h.read(|e| e.snapshot_bytes()), before);
    h.shutdown().await;
    let mut j = task.await.unwrap().inner;
    // The journal replays to the same state, and the history holds every event.
    let r = recover(&mut j, offernet_core::EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.engine.snapshot_bytes(), h.read(|e| e.snapshot_bytes()));
    let stored: Vec<u64> = j.read_events(0, 1_000_000).await.unwrap().iter().map(|e| e.seq).collect();
    for s in seen.all() {
        assert!(stored.contains(&s), "event {s} is in the history");
    }
}

async fn callers_resolve_their_ids_when_the_engine_is_free(db: &Db) {
    let mut all = setup_commands();
    write_all(db, &all, WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let resolved = || h.shared().stats.resolved.load(Relaxed);
    // One caller at a time: the engine is free whenever a caller submits.
    for i in 0..20 {
        let c = stock(i, 5);
        h.submit(c.clone()).await.unwrap().unwrap();
        all.push(c);
    }
    assert_eq!(resolved(), 20, "every stock update of an existing SKU came resolved");
    // A SKU that does not exist, and a command that names no single SKU to update: nothing.
    let missing = cmd(
        serde_json::json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": "nope", "body": {"quantity": 1}}),
    );
    assert!(h.submit(missing).await.unwrap().is_err());
    let sku = cmd(serde_json::json!({"type": "put_sku", "account": "s", "sku": "k0", "body": {"name": "K again"}}));
    h.submit(sku.clone()).await.unwrap().unwrap();
    all.push(sku);
    assert_eq!(resolved(), 20);
    // While the engine is held (as by an apply step), a caller does not wait for it: its
    // command is resolved (or not) and queued at the submission's first poll, here polled
    // once while the engine is held (a caller that waited would block this thread until the
    // hold ends, 30 s at most, and then resolve: 21).
    let guard = stall_engine(&h);
    let c = stock(3, 9);
    let submitted = h.submit(c.clone());
    tokio::pin!(submitted);
    tokio::select! {
        biased;
        _ = &mut submitted => panic!("answered while the engine was held"),
        _ = std::future::ready(()) => {}
    }
    drop(guard);
    submitted.await.unwrap().unwrap();
    all.push(c);
    assert_eq!(resolved(), 20, "a caller that found the engine held did not resolve");
    assert_eq!(h.read(|e| e.snapshot_bytes()), reference(&all).snapshot_bytes());
    h.shutdown().await;
    task.await.unwrap();
}

/// Many callers at once, some making SKUs while others update them: what the callers resolved
/// while SKUs were being made lands on the same SKUs as the journal's replay, which resolves
/// nothing.
async fn callers_resolving_while_others_make_skus_agree_with_the_replay(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let mut tasks = Vec::new();
    for t in 0..8 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let sku = format!("t{t}-{i}");
                let made = cmd(serde_json::json!({"type": "put_sku", "account": "s", "sku": sku, "body": {"name": "T"}}));
                h.submit(made).await.unwrap().unwrap();
                let q = (t * 100 + i) as u64;
                let own = serde_json::json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": sku, "body": {"quantity": q}});
                h.submit(cmd(own)).await.unwrap().unwrap();
                h.submit(stock(t * 7 + i, q)).await.unwrap().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let resolved = h.shared().stats.resolved.load(Relaxed);
    assert!(resolved > 0, "some callers resolved");
    let live = h.read(|e| e.snapshot_bytes());
    h.shutdown().await;
    task.await.unwrap();
    let mut j = db.journal().await;
    assert_eq!(live, replay_stored(&mut j).await.snapshot_bytes());
}
