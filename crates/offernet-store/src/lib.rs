//! offernet-store: durability for the engine.
//!
//! - [`journal`]: the `Journal` trait and the entry format (versioned, readable JSON);
//!   [`error`]: what journal operations fail with.
//! - [`sql`]: the journal's SQL, written once over both backends (`SqlJournal<DB: Dialect>`);
//!   [`sqlite`] (the embedded default, one file in WAL mode) and [`postgres`] (with a writer
//!   lease) keep only how they open, their schema and what truly differs; [`any`]: either one,
//!   chosen at startup.
//! - [`writer`]: the single writer with group commit and backpressure; `shared` (its state and
//!   counters), `retry` (its way back from journal errors), `mark` (the high-water mark thread),
//!   [`sink`] (where its events go).
//! - [`recovery`]: startup (newest valid snapshot + replay; a damaged tail or a journal behind
//!   the high-water mark refuses to start) and the bulk import, over `replay` (reading batches
//!   and snapshots back) and `diagnosis` (the high-water mark, the repair plan).
//! - [`history`]: the durable event history (when the writer writes events, the retention and
//!   its pruning, loading it at startup) over `sql_events` (its statements).
//! - [`verify`]: `verify` and `compact`.
//! - [`outbox`]: outbound delivery's durable state (progress per consumer, attempts, dead
//!   letters, the journal id), on a connection of its own.
//! - [`secrets`]: integrations' app keys and tokens, outside the journal (`secrets.db`, or the
//!   PostgreSQL schema `offernet_secrets`).
//! - [`plan`]: the repair plan startup gives when it refuses; [`repair`]: `journal repair
//!   --accept-loss`.
//! - [`datadir`]: the data directory's lock, modes, writability check and high-water mark.
//! - [`rules`]: the engine's rules version a journal is written under; older journals are
//!   upgraded only from a snapshot that covers them.
//! - [`crc`]: the CRC-32 of entries and snapshots.

pub mod any;
mod apply;
pub mod binary;
pub mod crc;
pub mod datadir;
mod diagnosis;
pub mod documents;
pub mod error;
pub mod history;
pub mod journal;
mod mark;
pub mod outbox;
pub mod plan;
pub mod postgres;
pub mod recovery;
pub mod repair;
mod replay;
mod retry;
pub mod rules;
pub mod secrets;
mod shared;
mod side;
pub mod sink;
pub mod sql;
mod sql_events;
mod sql_rows;
pub mod sqlite;
pub mod verify;
pub mod writer;

pub use any::AnyJournal;
pub use datadir::DataDirLock;
pub use documents::{DocumentKey, Documents};
pub use history::Retention;
pub use journal::{Encoded, Entry, Journal, JournalEnd, JournalError, PruneStep, Repair, StoredEvent, COMMAND_FORMAT};
pub use outbox::{journal_id, Attempt, DeadLetter, Outbox, Replay};
pub use plan::{EntryRange, RepairPlan};
pub use postgres::PgJournal;
pub use recovery::{import, recover, recover_with_events, Recovered, RecoveryReport, SkippedSnapshot};
pub use repair::{repair, RepairOutcome};
pub use rules::check_rules;
pub use secrets::{Credentials, Secrets, StoredKey};
pub use sink::EventSink;
pub use sql::{Dialect, SqlJournal};
pub use sqlite::SqliteJournal;
pub use verify::{compact, verify, Compacted, Divergence, VerifyReport};
pub use writer::{
    spawn, spawn_with_sink, Outcome, SubmitError, WriterConfig, WriterHandle, WriterHealth, WriterState, WriterStats,
};

pub use datadir::JOURNAL_FILE;
