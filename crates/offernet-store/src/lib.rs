//! offernet-store: durability for the engine.
//!
//! - [`journal`]: the `Journal` trait and the entry format (versioned, readable JSON).
//! - [`sql`]: the journal's SQL, written once over both backends (`SqlJournal<DB: Dialect>`).
//! - [`sqlite`]: the embedded default backend, one SQLite file in WAL mode.
//! - [`postgres`]: the same journal on PostgreSQL, with a writer lease (advisory lock).
//! - [`any`]: either backend, chosen at startup.
//! - [`writer`]: the single writer with group commit and backpressure.
//! - [`recovery`]: startup (newest valid snapshot + replay; a damaged tail or a journal behind
//!   the high-water mark refuses to start), `verify` and `compact`.
//! - [`repair`]: the plan startup prints when it refuses, and `journal repair --accept-loss`.
//! - [`datadir`]: the data directory's lock, modes, writability check and high-water mark.
//! - [`rules`]: the engine's rules version a journal is written under; older journals are
//!   upgraded only from a snapshot that covers them.

pub mod any;
pub mod crc;
pub mod datadir;
pub mod journal;
mod mark;
pub mod postgres;
pub mod recovery;
pub mod repair;
mod retry;
pub mod rules;
pub mod sql;
pub mod sqlite;
pub mod writer;

pub use any::AnyJournal;
pub use datadir::DataDirLock;
pub use journal::{Entry, Journal, JournalEnd, JournalError, Repair, COMMAND_FORMAT};
pub use postgres::PgJournal;
pub use recovery::{compact, import, recover, recover_with_events, verify, Recovered, RecoveryReport, VerifyReport};
pub use repair::{repair, RepairOutcome, RepairPlan};
pub use rules::check_rules;
pub use sql::{Dialect, SqlJournal};
pub use sqlite::SqliteJournal;
pub use writer::{
    spawn, spawn_with_sink, EventSink, Outcome, SubmitError, WriterConfig, WriterHandle, WriterHealth, WriterState,
};

/// The journal file's name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.sqlite";
