//! What a journal operation can fail with.

use crate::plan::RepairPlan;

#[derive(Debug)]
pub enum JournalError {
    /// The database said no (IO, lock, full disk, …).
    Db(String),
    /// The stored data is not what we wrote.
    Corrupt(String),
    /// Refused by configuration (another format, another max_chain).
    Incompatible(String),
    /// Another process holds the writer lease (PostgreSQL advisory lock).
    NotWriter(String),
    /// Startup found a damaged or incomplete tail, or a journal that ends before the
    /// high-water mark: it refuses rather than lose or reuse anything. The plan says what
    /// `offernet journal repair --accept-loss` would do.
    NeedsRepair(Box<RepairPlan>),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Db(m) => write!(f, "journal database error: {m}"),
            JournalError::Corrupt(m) => write!(f, "journal corrupt: {m}"),
            JournalError::Incompatible(m) => write!(f, "journal incompatible: {m}"),
            JournalError::NotWriter(m) => write!(f, "not the writer: {m}"),
            JournalError::NeedsRepair(plan) => write!(f, "{plan}"),
        }
    }
}

impl std::error::Error for JournalError {}

impl From<sqlx::Error> for JournalError {
    fn from(e: sqlx::Error) -> Self {
        JournalError::Db(e.to_string())
    }
}

/// The result of a journal operation.
pub type JResult<T> = Result<T, JournalError>;
