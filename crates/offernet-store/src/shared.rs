//! What the writer shares with its users: the committed engine, its state for health checks,
//! and its counters. The writer (`writer.rs`), its retry loop (`retry.rs`) and the high-water
//! mark thread (`mark.rs`) all work on it.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Mutex, RwLock, TryLockError};

use offernet_core::{Command, DomainError, Engine, Event, Resolved};
use tokio::sync::{oneshot, watch};
use tracing::{info, warn};

use crate::journal::JournalError;

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

/// Where the writer sends a command's result.
pub(crate) type Reply = oneshot::Sender<Result<Outcome, SubmitError>>;

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

/// Counters the server exports as metrics.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub batches: AtomicU64,
    pub commands: AtomicU64,
    /// Commands that came with their account and SKU found by their caller
    /// (`Engine::resolve`), for the writer to use instead of searching.
    pub resolved: AtomicU64,
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
    last_error: Mutex<Option<String>>,
    /// Set by `shutdown`: a writer waiting for the journal to come back gives up.
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    /// The command's account and SKU found in the caller's task (`Engine::resolve`), if the
    /// engine is free now: the writer does not search for them, and a caller never waits.
    pub(crate) fn resolve(&self, command: &Command) -> Option<Resolved> {
        match self.engine.try_read() {
            Ok(engine) => engine.resolve(command),
            // As `WriterHandle::read` does: a panicked apply step stopped the writer already.
            Err(TryLockError::Poisoned(p)) => p.into_inner().resolve(command),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// A writer's shared part, in the `ok` state, over the recovered engine.
    pub(crate) fn new(engine: Engine) -> Shared {
        Shared {
            engine: RwLock::new(engine),
            stats: WriterStats::default(),
            state: AtomicU8::new(WriterState::Ok as u8),
            last_error: Mutex::new(None),
            stop: watch::channel(false).0,
        }
    }

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

    /// Stops for good on an error the writer cannot recover from (restart needed).
    pub(crate) fn stopped(&self, why: &str) {
        tracing::error!(error = why, "the writer stops");
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.to_string());
        self.set_state(WriterState::Stopped);
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
