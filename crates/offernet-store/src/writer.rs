//! The single writer: drains a bounded queue into batches, commits each batch to the journal
//! in one transaction, then applies it to the engine, then answers every waiting caller.
//! Nothing is acknowledged before it is durable, and no reader ever sees a state that a crash
//! could lose (the engine changes only after the commit).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use offernet_core::{Command, DomainError, Engine, Event};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info};

use crate::journal::{Entry, Journal};
use crate::recovery::Recovered;

/// Most commands in one commit. Bounds the time readers wait for the engine lock after a
/// commit and the memory of one batch; 1,024 keeps a batch of simple commands in the low
/// milliseconds while amortising one fsync over many writes.
pub const DEFAULT_MAX_BATCH: usize = 1_024;
/// Most commands waiting for the writer. Beyond it callers get `Busy` at once (HTTP 503 with
/// Retry-After) instead of queueing without bound.
pub const DEFAULT_QUEUE_DEPTH: usize = 16_384;
/// Commands between snapshots: bounds replay at startup.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000_000;

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
    /// The writer has stopped (shutdown, or a journal failure before it).
    Closed,
    /// The journal failed to commit this command's batch; it was not applied.
    Journal(String),
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Busy => write!(f, "the write queue is full; retry shortly"),
            SubmitError::Closed => write!(f, "the writer has stopped"),
            SubmitError::Journal(m) => write!(f, "the journal failed: {m}"),
        }
    }
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
}

/// What readers share with the writer: the committed engine state and the counters.
pub struct Shared {
    pub engine: RwLock<Engine>,
    pub stats: WriterStats,
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
    /// Submits a command; answers once its batch is committed and applied.
    pub async fn submit(&self, command: Command) -> Result<Outcome, SubmitError> {
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

    /// Commands waiting in the queue now.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Drains everything queued before this call, snapshots, and stops the writer.
    pub async fn shutdown(&self) {
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
    let shared = Arc::new(Shared { engine: RwLock::new(recovered.engine), stats: WriterStats::default() });
    shared.stats.last_seq.store(recovered.last_seq, Ordering::Relaxed);
    let task = tokio::spawn(run(journal, rx, shared.clone(), config, recovered.last_seq, recovered.last_batch, sink));
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

async fn run<J: Journal>(
    mut journal: J,
    mut rx: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    config: WriterConfig,
    mut last_seq: u64,
    mut last_batch: u64,
    sink: Option<EventSink>,
) -> J {
    let mut since_snapshot = 0u64;
    let mut snapshot_seq = last_seq;
    let mut requests: Vec<(Command, oneshot::Sender<Result<Outcome, SubmitError>>)> = Vec::new();
    let mut shutdown: Option<oneshot::Sender<()>> = None;
    while shutdown.is_none() {
        let Some(first) = rx.recv().await else { break };
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
        if let Err(e) = journal.append_batch(last_batch + 1, &entries).await {
            // Fail closed: nothing of this batch was applied or acknowledged, and no later
            // command may be accepted on top of a journal we cannot write.
            error!(error = %e, "journal commit failed; the writer stops");
            for (_, reply) in requests.drain(..) {
                let _ = reply.send(Err(SubmitError::Journal(e.to_string())));
            }
            rx.close();
            while let Ok(req) = rx.try_recv() {
                if let Request::Command { reply, .. } = req {
                    let _ = reply.send(Err(SubmitError::Closed));
                }
            }
            return journal;
        }
        let commit_us = started.elapsed().as_micros() as u64;
        last_batch += 1;
        last_seq += entries.len() as u64;
        // Taking the write lock may wait for readers: do it off the async scheduler, so that a
        // waiting writer never stalls the runtime's other tasks, timers or IO.
        let outcomes: Vec<Outcome> = tokio::task::block_in_place(|| {
            let mut engine = shared.engine.write().unwrap_or_else(|p| p.into_inner());
            entries.iter().map(|e| engine.apply(&e.command, e.at_ms)).collect()
        });
        let stats = &shared.stats;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.commands.fetch_add(entries.len() as u64, Ordering::Relaxed);
        stats.last_batch_size.store(entries.len() as u64, Ordering::Relaxed);
        stats.commit_micros.fetch_add(commit_us, Ordering::Relaxed);
        stats.last_seq.store(last_seq, Ordering::Relaxed);
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
    if last_seq > snapshot_seq {
        snapshot(&mut journal, &shared, last_seq).await;
    }
    if let Some(done) = shutdown {
        let _ = done.send(());
    }
    journal
}
