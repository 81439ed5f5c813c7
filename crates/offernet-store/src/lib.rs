//! offernet-store: durability for the engine.
//!
//! - [`journal`]: the `Journal` trait and the entry format (versioned, readable JSON).
//! - [`sqlite`]: the embedded default backend, one SQLite file in WAL mode.
//! - [`postgres`]: the same journal on PostgreSQL, with a writer lease (advisory lock).
//! - [`any`]: either backend, chosen at startup.
//! - [`writer`]: the single writer with group commit and backpressure.
//! - [`recovery`]: startup (newest valid snapshot + replay, damaged tail handling), `verify`
//!   and `compact`.

pub mod any;
pub mod crc;
pub mod journal;
pub mod postgres;
pub mod recovery;
pub mod sqlite;
pub mod writer;

pub use any::AnyJournal;
pub use journal::{Entry, Journal, JournalError, COMMAND_FORMAT};
pub use postgres::PgJournal;
pub use recovery::{compact, import, recover, recover_with_events, verify, Recovered, RecoveryReport, VerifyReport};
pub use sqlite::SqliteJournal;
pub use writer::{spawn, spawn_with_sink, EventSink, Outcome, SubmitError, WriterConfig, WriterHandle};

/// The journal file's name inside the data directory.
pub const JOURNAL_FILE: &str = "journal.sqlite";
