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

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use offernet_core::{Command, DomainError, Engine, Event};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{error, info, warn};

use crate::journal::{Entry, Journal, JournalError};
use crate::mark::MarkWriter;
use crate::recovery::Recovered;
use crate::retry::{commit, reconnect};

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
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: DEFAULT_MAX_BATCH,
            queue_depth: DEFAULT_QUEUE_DEPTH,
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
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

/// What the writer is doing about the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WriterState {
    /// Writing normally.
    Ok = 0,
    /// The journal failed; reconnecting with backoff. Writes are refused meanwhile.
    Retrying = 1,
    /// Connected, but another process holds the writer lease. Writes are refused.
    NotWriter = 2,
    /// Stopped on an error it cannot recover from (restart needed). Writes are refused.
    Stopped = 3,
}

impl WriterState {
    pub fn as_str(self) -> &'static str {
        match self {
            WriterState::Ok => "ok",
            WriterState::Retrying => "retrying",
            WriterState::NotWriter => "not_writer",
            WriterState::Stopped => "stopped",
        }
    }
    fn from_u8(v: u8) -> WriterState {
        match v {
            0 => WriterState::Ok,
            1 => WriterState::Retrying,
            2 => WriterState::NotWriter,
            _ => WriterState::Stopped,
        }
    }
}

/// The writer's state for health checks: the state, the last journal error, and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterHealth {
    pub state: WriterState,
    pub last_error: Option<String>,
    pub journal_errors: u64,
}

impl std::error::Error for SubmitError {}

/// Counters the server exports as metrics.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub batches: AtomicU64,
    pub commands: AtomicU64,
    pub last_batch_size: AtomicU64,
    /// Sum of commit latencies in microseconds (divide by `batches`).
    pub commit_micros: AtomicU64,
    pub snapshots: AtomicU64,
    /// Last journal sequence number committed and applied.
    pub last_seq: AtomicU64,
    /// Journal errors seen by the writer (failed commits, reconnection attempts, pings).
    pub journal_errors: AtomicU64,
    /// The last value written to the high-water mark file.
    pub high_water_mark: AtomicU64,
    /// The engine's last event sequence number after the last applied batch (written beside
    /// the high-water mark, so that a repair never reuses event numbers clients saw).
    pub last_event_seq: AtomicU64,
}

/// What readers share with the writer: the committed engine state and the counters.
pub struct Shared {
    pub engine: RwLock<Engine>,
    pub stats: WriterStats,
    state: AtomicU8,
    pub(crate) last_error: Mutex<Option<String>>,
    /// Set by `shutdown`: a writer waiting for the journal to come back gives up.
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    pub fn state(&self) -> WriterState {
        WriterState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub fn health(&self) -> WriterHealth {
        WriterHealth {
            state: self.state(),
            last_error: self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            journal_errors: self.stats.journal_errors.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set_state(&self, s: WriterState) {
        let old = WriterState::from_u8(self.state.swap(s as u8, Ordering::AcqRel));
        if old != s {
            info!(from = old.as_str(), to = s.as_str(), "writer state");
        }
    }

    /// Counts a journal error and moves to `retrying` (or `not_writer` for a lease refusal).
    pub(crate) fn journal_error(&self, e: &JournalError) {
        self.stats.journal_errors.fetch_add(1, Ordering::Relaxed);
        warn!(error = %e, "journal error; the writer refuses writes until the journal answers again");
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        let s = if matches!(e, JournalError::NotWriter(_)) { WriterState::NotWriter } else { WriterState::Retrying };
        self.set_state(s);
    }
}

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

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Receives the events of every applied batch, in order, before the callers are answered.
pub type EventSink = Arc<dyn Fn(&[Event]) + Send + Sync>;

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

/// [`spawn`], with a sink that sees every event in sequence order.
pub fn spawn_with_sink<J: Journal>(
    journal: J,
    recovered: Recovered,
    config: WriterConfig,
    sink: Option<EventSink>,
) -> (WriterHandle, tokio::task::JoinHandle<J>) {
    let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
    let event_seq = recovered.engine.last_seq();
    let shared = Arc::new(Shared {
        engine: RwLock::new(recovered.engine),
        stats: WriterStats::default(),
        state: AtomicU8::new(WriterState::Ok as u8),
        last_error: Mutex::new(None),
        stop: watch::channel(false).0,
    });
    shared.stats.last_seq.store(recovered.last_seq, Ordering::Relaxed);
    shared.stats.last_event_seq.store(event_seq, Ordering::Relaxed);
    let mark = journal
        .high_water_mark_file()
        .map(|path| MarkWriter::start(path, recovered.report.high_water_mark.unwrap_or(0), shared.clone()));
    let task =
        tokio::spawn(run(journal, rx, shared.clone(), config, recovered.last_seq, recovered.last_batch, sink, mark));
    (WriterHandle { tx, shared }, task)
}

async fn snapshot<J: Journal>(journal: &mut J, shared: &Shared, seq: u64) {
    let bytes = tokio::task::block_in_place(|| {
        let engine = shared.engine.read().unwrap_or_else(|p| p.into_inner());
        engine.snapshot_bytes()
    });
    match journal.save_snapshot(seq, &bytes).await {
        Ok(()) => {
            shared.stats.snapshots.fetch_add(1, Ordering::Relaxed);
            info!(seq, bytes = bytes.len(), "snapshot saved");
        }
        // A failed snapshot costs only restart time; the journal still has everything.
        Err(e) => error!(seq, error = %e, "snapshot failed"),
    }
}

type Reply = oneshot::Sender<Result<Outcome, SubmitError>>;

/// Stops for good on an error the writer cannot recover from: refuses everything queued.
fn stop_on(shared: &Shared, rx: &mut mpsc::Receiver<Request>, why: &str) {
    error!(error = why, "the writer stops");
    *shared.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.to_string());
    shared.set_state(WriterState::Stopped);
    rx.close();
    while let Ok(req) = rx.try_recv() {
        if let Request::Command { reply, .. } = req {
            let _ =
                reply.send(Err(SubmitError::Unavailable(format!("the writer stopped: {why}; nothing was written"))));
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<J: Journal>(
    mut journal: J,
    mut rx: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    config: WriterConfig,
    mut last_seq: u64,
    mut last_batch: u64,
    sink: Option<EventSink>,
    mark: Option<MarkWriter>,
) -> J {
    let mut since_snapshot = 0u64;
    let mut snapshot_seq = last_seq;
    let mut requests: Vec<(Command, Reply)> = Vec::new();
    let mut shutdown: Option<oneshot::Sender<()>> = None;
    let mut failed = false;
    while shutdown.is_none() {
        // Under load the queue is rarely empty: take from it without arming the idle timer.
        let queued = rx.try_recv().ok().map(Some);
        let next = match queued {
            Some(q) => Ok(q),
            None => tokio::time::timeout(LEASE_CHECK_INTERVAL, rx.recv()).await,
        };
        let first = match next {
            Ok(Some(first)) => first,
            Ok(None) => break,
            Err(_) => {
                // Idle: is the connection (and on PostgreSQL the lease it holds) still there?
                if let Err(e) = journal.ping().await {
                    shared.journal_error(&e);
                    let mut backoff = RETRY_FIRST;
                    match reconnect(&mut journal, &shared, &mut backoff, last_seq, None).await {
                        Ok(_) => shared.set_state(WriterState::Ok),
                        Err(why) => {
                            stop_on(&shared, &mut rx, &why);
                            failed = true;
                            break;
                        }
                    }
                }
                continue;
            }
        };
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                Request::Command { command, reply } => requests.push((command, reply)),
                Request::Shutdown { done } => {
                    shutdown = Some(done);
                    break;
                }
            }
            if requests.len() >= config.max_batch {
                break;
            }
            next = rx.try_recv().ok();
        }
        if requests.is_empty() {
            continue;
        }
        let at_ms = now_ms();
        let entries: Vec<Entry> = requests
            .iter()
            .enumerate()
            .map(|(i, (c, _))| Entry { seq: last_seq + 1 + i as u64, at_ms, command: c.clone() })
            .collect();
        let started = Instant::now();
        if let Err(why) = commit(&mut journal, &shared, last_batch + 1, last_seq, &entries).await {
            // Nothing of this batch was applied; whether it is in the journal is unknown, and
            // the next startup settles it by replaying the journal. The state says `stopped`
            // before the callers hear it.
            stop_on(&shared, &mut rx, &why);
            for (_, reply) in requests.drain(..) {
                let _ = reply.send(Err(SubmitError::Unavailable(format!(
                    "{why}; this write may or may not have been committed: read it back after the restart"
                ))));
            }
            failed = true;
            break;
        }
        let commit_us = started.elapsed().as_micros() as u64;
        last_batch += 1;
        last_seq += entries.len() as u64;
        // Taking the write lock may wait for readers: do it off the async scheduler, so that a
        // waiting writer never stalls the runtime's other tasks, timers or IO.
        let (outcomes, event_seq): (Vec<Outcome>, u64) = tokio::task::block_in_place(|| {
            let mut engine = shared.engine.write().unwrap_or_else(|p| p.into_inner());
            let outcomes = entries.iter().map(|e| engine.apply(&e.command, e.at_ms)).collect();
            (outcomes, engine.last_seq())
        });
        let stats = &shared.stats;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.commands.fetch_add(entries.len() as u64, Ordering::Relaxed);
        stats.last_batch_size.store(entries.len() as u64, Ordering::Relaxed);
        stats.commit_micros.fetch_add(commit_us, Ordering::Relaxed);
        stats.last_event_seq.store(event_seq, Ordering::Release);
        stats.last_seq.store(last_seq, Ordering::Release);
        if let Some(sink) = &sink {
            for events in outcomes.iter().flatten() {
                sink(events);
            }
        }
        for ((_, reply), outcome) in requests.drain(..).zip(outcomes) {
            let _ = reply.send(Ok(outcome));
        }
        since_snapshot += entries.len() as u64;
        if config.snapshot_every > 0 && since_snapshot >= config.snapshot_every {
            snapshot(&mut journal, &shared, last_seq).await;
            snapshot_seq = last_seq;
            since_snapshot = 0;
        }
    }
    // Shutdown (or every handle dropped): refuse what is still queued, snapshot, stop.
    rx.close();
    while let Ok(req) = rx.try_recv() {
        if let Request::Command { reply, .. } = req {
            let _ = reply.send(Err(SubmitError::Closed));
        }
    }
    if let Some(mark) = mark {
        mark.finish();
    }
    // After a failure the journal's state is not known well enough to snapshot.
    if !failed && last_seq > snapshot_seq {
        snapshot(&mut journal, &shared, last_seq).await;
    }
    if let Some(done) = shutdown {
        let _ = done.send(());
    }
    journal
}
