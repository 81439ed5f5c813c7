//! The single writer: drains a bounded queue into batches, commits each batch to the journal
//! in one transaction, then applies it to the engine, then answers every waiting caller.
//! Nothing is acknowledged before it is durable, and no reader ever sees a state that a crash
//! could lose (the engine changes only after the commit).
//!
//! A journal error does not kill the writer: it refuses new writes (`Unavailable`, HTTP 503)
//! while it reconnects with backoff, retakes the lease, finds out whether the failed commit
//! landed (the ambiguous commit: a connection can drop after COMMIT was sent), and then either
//! applies that batch or commits it again. Its state (`ok | retrying | not_writer | stopped`)
//! is shared for health checks and metrics. A separate thread keeps the high-water mark file.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use offernet_core::{Command, DomainError, Engine, Event};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info};

use crate::history::{History, Retention};
use crate::journal::{now_ms, Entry, Journal};
use crate::mark::MarkWriter;
use crate::recovery::Recovered;
use crate::retry::{commit, reconnect};
pub use crate::shared::{Shared, WriterHealth, WriterState, WriterStats};
pub use crate::sink::EventSink;

/// Most commands in one commit. Bounds the time readers wait for the engine lock after a
/// commit and the memory of one batch; 1,024 keeps a batch of simple commands in the low
/// milliseconds while amortising one fsync over many writes.
pub const DEFAULT_MAX_BATCH: usize = 1_024;
/// Most commands waiting for the writer. Beyond it callers get `Busy` at once (HTTP 503 with
/// Retry-After) instead of queueing without bound.
pub const DEFAULT_QUEUE_DEPTH: usize = 16_384;
/// Commands between snapshots: bounds replay at startup.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000_000;
/// How often an idle writer checks its journal connection. On PostgreSQL the connection holds
/// the writer lease (a session advisory lock): a dropped connection loses it, and an idle writer
/// must notice within this time to say so (health 503) and retake it.
pub const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(1);
pub use crate::mark::HIGH_WATER_MARK_INTERVAL;
pub use crate::retry::{RETRY_FIRST, RETRY_MAX};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    pub max_batch: usize,
    pub queue_depth: usize,
    /// Commands between snapshots (0: only at shutdown).
    pub snapshot_every: u64,
    /// How long the durable event history keeps events (`history.rs`).
    pub event_retention: Retention,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: DEFAULT_MAX_BATCH,
            queue_depth: DEFAULT_QUEUE_DEPTH,
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            event_retention: Retention::default(),
        }
    }
}

/// The result of one command: the engine's answer, once durable.
pub type Outcome = Result<Vec<Event>, DomainError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: try again shortly.
    Busy,
    /// The writer has stopped (shutdown).
    Closed,
    /// The writer cannot write now (the journal failed and it is reconnecting, another process
    /// holds the lease, or it stopped on an error it cannot recover from); the message says
    /// which, and whether this command may have been applied.
    Unavailable(String),
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Busy => write!(f, "the write queue is full; retry shortly"),
            SubmitError::Closed => write!(f, "the writer has stopped"),
            SubmitError::Unavailable(m) => write!(f, "the writer is unavailable: {m}"),
        }
    }
}

impl std::error::Error for SubmitError {}

enum Request {
    Command { command: Command, reply: oneshot::Sender<Result<Outcome, SubmitError>> },
    Shutdown { done: oneshot::Sender<()> },
}

/// A cheap, cloneable handle to submit commands and read committed state.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
    shared: Arc<Shared>,
}

impl WriterHandle {
    /// Submits a command; answers once its batch is committed and applied. Refused at once
    /// (`Unavailable`) while the writer is not in the `ok` state.
    pub async fn submit(&self, command: Command) -> Result<Outcome, SubmitError> {
        let state = self.shared.state();
        if state != WriterState::Ok {
            let why = self.shared.health().last_error.unwrap_or_default();
            return Err(SubmitError::Unavailable(format!(
                "the writer is {} ({why}); nothing was written, retry shortly",
                state.as_str()
            )));
        }
        let (reply, rx) = oneshot::channel();
        self.tx.try_send(Request::Command { command, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::Busy,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
        })?;
        rx.await.map_err(|_| SubmitError::Closed)?
    }

    /// The committed state (read-locked for the closure's duration; keep it short).
    pub fn read<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        let guard = self.shared.engine.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The writer's state, last journal error and error count.
    pub fn health(&self) -> WriterHealth {
        self.shared.health()
    }

    /// Commands waiting in the queue now.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Drains everything queued before this call, snapshots, and stops the writer.
    pub async fn shutdown(&self) {
        // A writer waiting for the journal to come back gives up rather than hang shutdown.
        let _ = self.shared.stop.send(true);
        let (done, rx) = oneshot::channel();
        if self.tx.send(Request::Shutdown { done }).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Starts the writer task on the current tokio runtime (multi-threaded: the writer moves its
/// blocking steps off the scheduler with `block_in_place`). Returns the handle and the task,
/// which yields the journal back when the writer stops.
pub fn spawn<J: Journal>(
    journal: J,
    recovered: Recovered,
    config: WriterConfig,
) -> (WriterHandle, tokio::task::JoinHandle<J>) {
    spawn_with_sink(journal, recovered, config, None)
}

/// [`spawn`], with a sink that sees every event in sequence order (see [`EventSink`]).
pub fn spawn_with_sink<J: Journal>(
    journal: J,
    recovered: Recovered,
    config: WriterConfig,
    sink: Option<Arc<dyn EventSink>>,
) -> (WriterHandle, tokio::task::JoinHandle<J>) {
    let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
    let event_seq = recovered.engine.last_seq();
    let shared = Arc::new(Shared::new(recovered.engine));
    shared.stats.last_seq.store(recovered.last_seq, Ordering::Relaxed);
    shared.stats.last_event_seq.store(event_seq, Ordering::Relaxed);
    let mark = journal
        .high_water_mark_file()
        .map(|path| MarkWriter::start(path, recovered.report.high_water_mark.unwrap_or(0), shared.clone()));
    let writer = Writer {
        journal,
        rx,
        shared: shared.clone(),
        config,
        last_seq: recovered.last_seq,
        last_batch: recovered.last_batch,
        sink,
        history: History::new(config.event_retention),
        mark,
        since_snapshot: 0,
        snapshot_seq: recovered.last_seq,
    };
    (WriterHandle { tx, shared }, tokio::spawn(writer.run()))
}

type Reply = oneshot::Sender<Result<Outcome, SubmitError>>;

/// A batch taken from the queue: the commands with their callers, and the shutdown request
/// that ended it, if one did.
struct Batch {
    requests: Vec<(Command, Reply)>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// How the writer's loop ended.
#[derive(Default)]
struct End {
    /// Shutdown was asked for: answered once the writer has stopped.
    shutdown: Option<oneshot::Sender<()>>,
    /// It stopped on an error it cannot recover from: the journal's state is not known well
    /// enough to snapshot.
    failed: bool,
}

/// The writer task's state.
struct Writer<J> {
    journal: J,
    rx: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    config: WriterConfig,
    /// Last journal sequence and batch number committed.
    last_seq: u64,
    last_batch: u64,
    sink: Option<Arc<dyn EventSink>>,
    /// Events not yet in the durable history, and its pruning (`history.rs`).
    history: History,
    mark: Option<MarkWriter>,
    since_snapshot: u64,
    snapshot_seq: u64,
}

impl<J: Journal> Writer<J> {
    /// Takes batches until shutdown: commit, apply, answer, snapshot now and then.
    async fn run(mut self) -> J {
        let end = loop {
            // Every handle dropped: stop as at shutdown.
            let Some(first) = self.next_request().await else { break End::default() };
            let Some(first) = first else {
                if let Err(why) = self.check_idle().await {
                    self.stop_on(&why);
                    break End { shutdown: None, failed: true };
                }
                self.idle_history().await;
                continue;
            };
            let Batch { requests, shutdown } = self.take_batch(first);
            let failed = !requests.is_empty() && self.write(requests).await.is_err();
            if failed || shutdown.is_some() {
                break End { shutdown, failed };
            }
        };
        self.finish(end).await
    }

    /// The next request: `Some(None)` when the queue stayed empty for the idle interval, `None`
    /// when every handle is gone.
    async fn next_request(&mut self) -> Option<Option<Request>> {
        // Under load the queue is rarely empty: take from it without arming the idle timer.
        if let Ok(req) = self.rx.try_recv() {
            return Some(Some(req));
        }
        match tokio::time::timeout(LEASE_CHECK_INTERVAL, self.rx.recv()).await {
            Ok(Some(req)) => Some(Some(req)),
            Ok(None) => None,
            Err(_) => Some(None),
        }
    }

    /// Idle: is the connection (and on PostgreSQL the lease it holds) still there? If not,
    /// reconnect; `Err` when the writer must stop.
    async fn check_idle(&mut self) -> Result<(), String> {
        if let Err(e) = self.journal.ping().await {
            self.shared.journal_error(&e);
            let mut backoff = RETRY_FIRST;
            reconnect(&mut self.journal, &self.shared, &mut backoff, self.last_seq, None).await?;
            self.shared.set_state(WriterState::Ok);
        }
        Ok(())
    }

    /// `first` and whatever else is queued now, up to `max_batch` commands or a shutdown.
    fn take_batch(&mut self, first: Request) -> Batch {
        // Sized for what is queued now, so a batch grows once at most.
        let size = (self.rx.len() + 1).min(self.config.max_batch);
        let mut batch = Batch { requests: Vec::with_capacity(size), shutdown: None };
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                Request::Command { command, reply } => batch.requests.push((command, reply)),
                Request::Shutdown { done } => {
                    batch.shutdown = Some(done);
                    break;
                }
            }
            if batch.requests.len() >= self.config.max_batch {
                break;
            }
            next = self.rx.try_recv().ok();
        }
        batch
    }

    /// Commits the batch, applies it, answers its callers and snapshots when due. `Err` when the
    /// commit failed for good (the callers are told, and the writer stops).
    async fn write(&mut self, requests: Vec<(Command, Reply)>) -> Result<(), ()> {
        let at_ms = now_ms();
        let first = self.last_seq + 1;
        let entries: Vec<Entry> = requests
            .iter()
            .enumerate()
            .map(|(i, (c, _))| Entry { seq: first + i as u64, at_ms, command: c.clone() })
            .collect();
        let started = Instant::now();
        // The events of the batches before this one ride along in its transaction.
        let events = std::mem::take(&mut self.history.pending);
        let batch = self.last_batch + 1;
        if let Err(why) = commit(&mut self.journal, &self.shared, batch, self.last_seq, &entries, &events).await {
            // Nothing of this batch was applied; whether it is in the journal is unknown, and
            // the next startup settles it by replaying the journal. The state says `stopped`
            // before the callers hear it.
            self.stop_on(&why);
            for (_, reply) in requests {
                let _ = reply.send(Err(SubmitError::Unavailable(format!(
                    "{why}; this write may or may not have been committed: read it back after the restart"
                ))));
            }
            return Err(());
        }
        let commit_us = started.elapsed().as_micros() as u64;
        self.last_batch += 1;
        self.last_seq += entries.len() as u64;
        let (outcomes, event_seq) = match self.apply(&entries) {
            Ok(applied) => applied,
            Err(why) => {
                // The batch is durable but the engine broke an invariant applying it: its state
                // is not to be trusted, so nothing more is written or snapshotted (`stopped`,
                // health 503) and the callers hear why. The panic names the invariant.
                self.stop_on(&why);
                for (_, reply) in requests {
                    let _ = reply.send(Err(SubmitError::Unavailable(format!("{why}; this write was committed"))));
                }
                return Err(());
            }
        };
        self.record(entries.len() as u64, commit_us, event_seq);
        self.answer(at_ms, requests, outcomes);
        self.since_snapshot += entries.len() as u64;
        if self.config.snapshot_every > 0 && self.since_snapshot >= self.config.snapshot_every {
            self.snapshot().await;
        }
        if self.history.prune_due() {
            self.history.prune(&mut self.journal, now_ms()).await;
        }
        Ok(())
    }

    /// Applies a committed batch to the engine; returns the outcomes and the engine's last
    /// event number after it, or, when the engine panicked (an invariant assertion), why.
    fn apply(&self, entries: &[Entry]) -> Result<(Vec<Outcome>, u64), String> {
        // Taking the write lock may wait for readers: do it off the async scheduler, so that a
        // waiting writer never stalls the runtime's other tasks, timers or IO.
        tokio::task::block_in_place(|| {
            let mut engine = self.shared.engine.write().unwrap_or_else(|p| p.into_inner());
            // One unwind guard for the batch; `at` names the entry being applied if it panics.
            let mut at = 0;
            let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut outcomes = Vec::with_capacity(entries.len());
                for e in entries {
                    at = e.seq;
                    outcomes.push(engine.apply(&e.command, e.at_ms));
                }
                outcomes
            }));
            let outcomes = applied.map_err(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                format!("the engine failed applying journal entry {at}: {what}")
            })?;
            Ok((outcomes, engine.last_seq()))
        })
    }

    /// Counts the batch; `last_seq` is stored last (the high-water mark thread reads it).
    fn record(&self, commands: u64, commit_us: u64, event_seq: u64) {
        let stats = &self.shared.stats;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.commands.fetch_add(commands, Ordering::Relaxed);
        stats.last_batch_size.store(commands, Ordering::Relaxed);
        stats.commit_micros.fetch_add(commit_us, Ordering::Relaxed);
        stats.last_event_seq.store(event_seq, Ordering::Release);
        stats.last_seq.store(self.last_seq, Ordering::Release);
    }

    /// Gives the events to the sink, in order, and keeps them for the durable history, then
    /// answers every caller.
    fn answer(&mut self, at_ms: u64, requests: Vec<(Command, Reply)>, outcomes: Vec<Outcome>) {
        for events in outcomes.iter().flatten() {
            if let Some(sink) = &self.sink {
                sink.publish(at_ms, events);
            }
            self.history.record(at_ms, events);
        }
        for ((_, reply), outcome) in requests.into_iter().zip(outcomes) {
            let _ = reply.send(Ok(outcome));
        }
    }

    /// Idle: the pending events in their own transaction, then a few pruning steps.
    async fn idle_history(&mut self) {
        if let Err(e) = self.history.flush(&mut self.journal).await {
            error!(error = %e, "writing the event history failed; retried with the next batch");
            return;
        }
        self.history.prune(&mut self.journal, now_ms()).await;
    }

    /// Saves a snapshot, once every event before it is in the durable history (recovery
    /// regenerates only the events after the snapshot it starts from).
    async fn snapshot(&mut self) {
        let seq = self.last_seq;
        if let Err(e) = self.history.flush(&mut self.journal).await {
            error!(seq, error = %e, "writing the event history failed; no snapshot this time");
            self.since_snapshot = 0;
            return;
        }
        let bytes = tokio::task::block_in_place(|| {
            let engine = self.shared.engine.read().unwrap_or_else(|p| p.into_inner());
            engine.snapshot_bytes()
        });
        match self.journal.save_snapshot(seq, &bytes).await {
            Ok(()) => {
                self.shared.stats.snapshots.fetch_add(1, Ordering::Relaxed);
                info!(seq, bytes = bytes.len(), "snapshot saved");
            }
            // A failed snapshot costs only restart time; the journal still has everything.
            Err(e) => error!(seq, error = %e, "snapshot failed"),
        }
        self.snapshot_seq = seq;
        self.since_snapshot = 0;
    }

    /// Stops for good on an error the writer cannot recover from: refuses everything queued.
    fn stop_on(&mut self, why: &str) {
        self.shared.stopped(why);
        self.refuse_queued(|| SubmitError::Unavailable(format!("the writer stopped: {why}; nothing was written")));
    }

    /// Closes the queue and answers everything still in it with `refusal`.
    fn refuse_queued(&mut self, refusal: impl Fn() -> SubmitError) {
        self.rx.close();
        while let Ok(req) = self.rx.try_recv() {
            if let Request::Command { reply, .. } = req {
                let _ = reply.send(Err(refusal()));
            }
        }
    }

    /// Shutdown (or every handle dropped, or a failure): refuse what is still queued, write the
    /// last high-water mark, snapshot, stop.
    async fn finish(mut self, end: End) -> J {
        self.refuse_queued(|| SubmitError::Closed);
        if let Some(mark) = self.mark.take() {
            mark.finish();
        }
        // After a failure the journal's state is not known well enough to snapshot (nor to
        // write events: the next startup regenerates them).
        if !end.failed {
            if self.last_seq > self.snapshot_seq {
                self.snapshot().await;
            } else if let Err(e) = self.history.flush(&mut self.journal).await {
                error!(error = %e, "writing the event history at shutdown failed; the next start restores it");
            }
        }
        if let Some(done) = end.shutdown {
            let _ = done.send(());
        }
        self.journal
    }
}
