//! A connection of its own beside the journal's, on either backend: what the outbound tables
//! (`outbox.rs`), the order documents (`documents.rs`) and the secrets (`secrets.rs`) hold, so
//! that their writes never queue behind the writer's batches. One statement text serves both
//! backends (both bind `$N` by number; `on!` runs it on whichever is open).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::Connection;

use crate::journal::{JResult, JournalError};

/// An open side connection.
pub(crate) enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Runs the same statement text on either backend of `$self.conn`.
macro_rules! on {
    ($self:ident, $c:ident => $e:expr) => {
        match &mut $self.conn {
            $crate::side::Conn::Sqlite($c) => $e,
            $crate::side::Conn::Pg($c) => $e,
        }
    };
}
pub(crate) use on;

/// A PostgreSQL connection to `url`, after `setup` (the search path, or a schema to make).
pub(crate) async fn pg(url: &str, setup: &'static str) -> JResult<PgConnection> {
    let opts: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| JournalError::Db(e.to_string()))?;
    let mut c = PgConnection::connect_with(&opts).await?;
    sqlx::raw_sql(setup).execute(&mut c).await?;
    Ok(c)
}

/// A SQLite connection to the file `path` in WAL mode with `synchronous`.
pub(crate) async fn sqlite(path: &Path, synchronous: SqliteSynchronous) -> JResult<SqliteConnection> {
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|e| JournalError::Db(e.to_string()))?
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(10));
    Ok(SqliteConnection::connect_with(&opts).await?)
}

/// The search path of the journal's tables on PostgreSQL.
pub(crate) const PG_JOURNAL_SCHEMA: &str = "SET search_path TO offernet";
