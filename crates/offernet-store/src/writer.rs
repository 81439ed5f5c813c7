//! The single writer: drains a bounded queue into batches, commits each batch to the journal
//! in one transaction, then applies it to the engine, then answers every waiting caller.
//! Nothing is acknowledged before it is durable, and no reader ever sees a state that a crash
//! could lose (the engine changes only after the commit).
//!
//! Pipelined: batch N is applied and answered on a blocking thread (`apply.rs`) while the
//! writer task commits batch N+1; batch N+1 is applied only after its commit returned and
//! batch N's apply step ended. Callers encode their command (JSON, binary form, checksum:
//! `Encoded`) before it is queued, so the writer task only binds it. The events of batch N
//! ride in the transaction of the first batch committed after N's apply step ended (N+2 under
//! load), see `history.rs`.
//!
//! A journal error does not kill the writer: it refuses new writes (`Unavailable`, HTTP 503)
//! while it reconnects with backoff, retakes the lease, finds out whether the failed commit
//! landed (the ambiguous commit: a connection can drop after COMMIT was sent), and then either
//! applies that batch or commits it again. Its state (`ok | retrying | not_writer | stopped`)
//! is shared for health checks and metrics. A separate thread keeps the high-water mark file.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use offernet_core::{Command, Engine, Resolved};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, info};

use crate::apply::{apply_and_answer, Committed};
use crate::history::{History, Retention};
use crate::journal::{now_ms, Encoded, Entry, Journal, StoredEvent};
use crate::mark::MarkWriter;
use crate::recovery::Recovered;
use crate::retry::{commit, reconnect};
use crate::shared::Reply;
pub use crate::shared::{Outcome, Shared, SubmitError, WriterHealth, WriterState, WriterStats};
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

#[allow(clippy::large_enum_variant)] // nearly all are commands: boxing costs an allocation each
enum Request {
    Command { command: Command, encoded: Encoded, resolved: Option<Resolved>, reply: Reply },
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
    /// (`Unavailable`) while the writer is not in the `ok` state. The command is encoded here,
    /// in the caller's task, not in the writer's.
    pub async fn submit(&self, command: Command) -> Result<Outcome, SubmitError> {
        let state = self.shared.state();
        if state != WriterState::Ok {
            let why = self.shared.health().last_error.unwrap_or_default();
            return Err(SubmitError::Unavailable(format!(
                "the writer is {} ({why}); nothing was written, retry shortly",
                state.as_str()
            )));
        }
        // A place in the queue first: a full queue costs the caller nothing more.
        let place = self.tx.try_reserve().map_err(|e| match e {
            mpsc::error::TrySendError::Full(()) => SubmitError::Busy,
            mpsc::error::TrySendError::Closed(()) => SubmitError::Closed,
        })?;
        let encoded = Encoded::new(&command);
        let resolved = self.shared.resolve(&command);
        let (reply, rx) = oneshot::channel();
        place.send(Request::Command { command, encoded, resolved, reply });
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

/// Starts the writer task on the current tokio runtime (its apply steps run on tokio's
/// blocking threads). Returns the handle and the task, which yields the journal back when the
/// writer stops.
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
        applying: None,
        since_snapshot: 0,
        snapshot_seq: recovered.last_seq,
    };
    (WriterHandle { tx, shared }, tokio::spawn(writer.run()))
}

/// A batch taken from the queue: the commands, their stored forms and their callers (same
/// order), and the shutdown request that ended it, if one did.
#[derive(Default)]
struct Batch {
    commands: Vec<Command>,
    encoded: Vec<Encoded>,
    /// What each caller resolved (`Shared::resolve`).
    resolved: Vec<Option<Resolved>>,
    replies: Vec<Reply>,
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

/// What the writer waits for next.
#[allow(clippy::large_enum_variant)] // as `Request`: moved, not stored
enum Next {
    Request(Request),
    /// The queue stayed empty for the idle interval (and no apply step was running).
    Idle,
    /// The running apply step ended.
    Applied(Result<Vec<StoredEvent>, String>),
    /// Every handle is gone.
    Closed,
}

/// The apply step running on a blocking thread, if any: its batch is committed.
type Applying = Option<JoinHandle<Result<Vec<StoredEvent>, String>>>;

/// The writer task's state.
struct Writer<J> {
    journal: J,
    rx: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    config: WriterConfig,
    /// Last journal sequence and batch number committed (the running apply step's batch
    /// included).
    last_seq: u64,
    last_batch: u64,
    sink: Option<Arc<dyn EventSink>>,
    /// Events not yet in the durable history, and its pruning (`history.rs`).
    history: History,
    mark: Option<MarkWriter>,
    applying: Applying,
    since_snapshot: u64,
    snapshot_seq: u64,
}

impl<J: Journal> Writer<J> {
    /// Takes batches until shutdown: commit (while the batch before is applied), apply,
    /// answer, snapshot now and then.
    async fn run(mut self) -> J {
        let end = loop {
            let first = match self.next_request().await {
                Next::Request(first) => first,
                Next::Applied(result) => {
                    if self.applied(result).is_err() {
                        break End { shutdown: None, failed: true };
                    }
                    continue;
                }
                Next::Idle => {
                    if let Err(why) = self.check_idle().await {
                        self.stop_on(&why);
                        break End { shutdown: None, failed: true };
                    }
                    self.idle_history().await;
                    continue;
                }
                // Every handle dropped: stop as at shutdown.
                Next::Closed => break End::default(),
            };
            let mut batch = self.take_batch(first);
            let shutdown = batch.shutdown.take();
            let failed = !batch.commands.is_empty() && self.write(batch).await.is_err();
            if failed || shutdown.is_some() {
                break End { shutdown, failed };
            }
        };
        self.finish(end).await
    }

    /// The next request, or the end of the running apply step, or idleness.
    async fn next_request(&mut self) -> Next {
        // Under load the queue is rarely empty: take from it without arming the idle timer.
        if let Ok(req) = self.rx.try_recv() {
            return Next::Request(req);
        }
        if let Some(applying) = self.applying.as_mut() {
            let joined = tokio::select! {
                biased;
                req = self.rx.recv() => return req.map_or(Next::Closed, Next::Request),
                joined = applying => joined,
            };
            self.applying = None;
            return Next::Applied(joined.unwrap_or_else(|e| Err(format!("the apply step failed: {e}"))));
        }
        match tokio::time::timeout(LEASE_CHECK_INTERVAL, self.rx.recv()).await {
            Ok(Some(req)) => Next::Request(req),
            Ok(None) => Next::Closed,
            Err(_) => Next::Idle,
        }
    }

    /// Waits for the running apply step, if any, and takes its result (see [`Self::applied`]).
    async fn settle(&mut self) -> Result<(), ()> {
        let Some(applying) = self.applying.take() else { return Ok(()) };
        let joined = applying.await.unwrap_or_else(|e| Err(format!("the apply step failed: {e}")));
        self.applied(joined)
    }

    /// An apply step ended: its events go to the history's pending events (they ride with the
    /// next commit); `Err` when it failed (the writer is stopped, its callers told).
    fn applied(&mut self, result: Result<Vec<StoredEvent>, String>) -> Result<(), ()> {
        match result {
            Ok(events) => {
                self.history.keep(events);
                Ok(())
            }
            Err(why) => {
                self.stop_on(&why);
                Err(())
            }
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
        let mut batch = Batch {
            commands: Vec::with_capacity(size),
            encoded: Vec::with_capacity(size),
            resolved: Vec::with_capacity(size),
            replies: Vec::with_capacity(size),
            shutdown: None,
        };
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                Request::Command { command, encoded, resolved, reply } => {
                    batch.commands.push(command);
                    batch.encoded.push(encoded);
                    batch.resolved.push(resolved);
                    batch.replies.push(reply);
                }
                Request::Shutdown { done } => {
                    batch.shutdown = Some(done);
                    break;
                }
            }
            if batch.commands.len() >= self.config.max_batch {
                break;
            }
            next = self.rx.try_recv().ok();
        }
        batch
    }

    /// Commits the batch (while the batch before it is applied), then starts its apply step,
    /// and snapshots when due. `Err` when the writer must stop (its callers are told).
    async fn write(&mut self, batch: Batch) -> Result<(), ()> {
        let Batch { commands, encoded, resolved, replies, .. } = batch;
        let at_ms = now_ms();
        let first = self.last_seq + 1;
        let entries: Vec<Entry> = commands
            .into_iter()
            .enumerate()
            .map(|(i, command)| Entry { seq: first + i as u64, at_ms, command })
            .collect();
        let started = Instant::now();
        // The events of the batches applied so far ride along in its transaction.
        let events = std::mem::take(&mut self.history.pending);
        let n = self.last_batch + 1;
        let committed = commit(&mut self.journal, &self.shared, n, self.last_seq, &entries, &encoded, &events).await;
        let commit_us = started.elapsed().as_micros() as u64;
        // The batch before this one is committed: its apply step ends, whatever happens here.
        let before = self.settle().await;
        if let Err(why) = committed {
            // Nothing of this batch was applied; whether it is in the journal is unknown, and
            // the next startup settles it by replaying the journal. The state says `stopped`
            // before the callers hear it.
            self.stop_on(&why);
            refuse(
                replies,
                &format!("{why}; this write may or may not have been committed: read it back after the restart"),
            );
            return Err(());
        }
        if before.is_err() {
            // The engine failed on the batch before: this one is committed but never applied.
            let why = self.shared.health().last_error.unwrap_or_default();
            refuse(replies, &format!("the writer stopped: {why}; this write was committed"));
            return Err(());
        }
        self.last_batch = n;
        self.last_seq += entries.len() as u64;
        self.since_snapshot += entries.len() as u64;
        let (shared, sink) = (self.shared.clone(), self.sink.clone());
        let batch = Committed { entries, resolved, replies, at_ms, commit_us };
        self.applying = Some(tokio::task::spawn_blocking(move || apply_and_answer(&shared, sink.as_ref(), batch)));
        if self.config.snapshot_every > 0 && self.since_snapshot >= self.config.snapshot_every {
            self.settle().await?;
            self.snapshot().await;
        }
        if self.history.prune_due() {
            self.history.prune(&mut self.journal, now_ms()).await;
        }
        Ok(())
    }

    /// Idle: the pending events in their own transaction, then a few pruning steps.
    async fn idle_history(&mut self) {
        if let Err(e) = self.history.flush(&mut self.journal).await {
            error!(error = %e, "writing the event history failed; retried with the next batch");
            return;
        }
        self.history.prune(&mut self.journal, now_ms()).await;
    }

    /// Saves a snapshot (no apply step running: the engine is at `last_seq`), once every event
    /// before it is in the durable history (recovery regenerates only the events after the
    /// snapshot it starts from).
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

    /// Shutdown (or every handle dropped, or a failure): the running apply step ends, refuse
    /// what is still queued, write the last high-water mark, snapshot, stop.
    async fn finish(mut self, mut end: End) -> J {
        end.failed |= self.settle().await.is_err();
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

/// Answers every caller of a batch that will not be applied.
fn refuse(replies: Vec<Reply>, why: &str) {
    for reply in replies {
        let _ = reply.send(Err(SubmitError::Unavailable(why.to_string())));
    }
}
