//! The embedded default journal: one SQLite file in the data directory, WAL mode, and
//! `synchronous = FULL` so that a commit is durable when it returns.
//!
//! The journal is readable with the `sqlite3` shell:
//! `SELECT seq, at_ms, json_extract(command, '$.type') FROM journal ORDER BY seq DESC LIMIT 20;`

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteQueryResult, SqliteRow};
use sqlx::{Connection, Row, Sqlite};

use crate::journal::{JResult, JournalError};
use crate::sql::{Dialect, SqlJournal};

/// Schema version of this file's tables (not of the command format). Version 2 added
/// `quarantine` and `repairs`, version 3 the durable event history (`events`, `event_floors`),
/// version 4 outbound delivery (`outbound_progress`, `outbound_attempts`, `outbound_dead`),
/// version 5 the journal's `bin` column (the binary form of a command, `binary.rs`), version 6
/// the order documents (`order_documents`, `documents.rs`); an older
/// file is upgraded in place (the tables are created, the column added), and an older offernet
/// refuses a newer file rather than misread a repaired journal, write without recording events
/// or write entries without their binary form.
const SCHEMA_VERSION: i64 = 6;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per command, in order. `command` is JSON of format `format`; `crc` is the CRC-32
-- of `command`; a batch is one commit of `batch_size` rows. `bin` is the same command in the
-- compact binary form replay reads (with its own checksum), NULL for kinds without one.
CREATE TABLE IF NOT EXISTS journal (
    seq        INTEGER PRIMARY KEY,
    batch      INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    format     INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    command    TEXT    NOT NULL,
    crc        INTEGER NOT NULL,
    bin        BLOB
);
CREATE TABLE IF NOT EXISTS snapshots (
    seq    INTEGER PRIMARY KEY,
    format INTEGER NOT NULL,
    size   INTEGER NOT NULL,
    crc    INTEGER NOT NULL,
    chunks INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_chunks (
    seq  INTEGER NOT NULL,
    idx  INTEGER NOT NULL,
    data BLOB    NOT NULL,
    PRIMARY KEY (seq, idx)
);
-- Entries moved out of the journal by `offernet journal repair --accept-loss`: kept as they
-- were found (readable), never replayed. `repair` is the `repairs.id` that moved them.
CREATE TABLE IF NOT EXISTS quarantine (
    seq        INTEGER PRIMARY KEY,
    batch      INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    format     INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    command    BLOB    NOT NULL,
    crc        INTEGER NOT NULL,
    repair     INTEGER NOT NULL
);
-- Every repair: sequence numbers first_seq..=floor are used for good and never reused.
CREATE TABLE IF NOT EXISTS repairs (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    first_seq   INTEGER NOT NULL,
    floor       INTEGER NOT NULL,
    floor_batch INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    reason      TEXT    NOT NULL
);
-- The durable event history: every event the engine gave, `event` its JSON as `GET
-- …/events` shows it, `at_ms` the time of its command. Pruned by the retention setting.
CREATE TABLE IF NOT EXISTS events (
    seq     INTEGER PRIMARY KEY,
    account TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL,
    event   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_account ON events (account, seq);
-- Per account, the newest event sequence number pruned: reads at or before it answer 410.
CREATE TABLE IF NOT EXISTS event_floors (
    account TEXT    PRIMARY KEY,
    upto    INTEGER NOT NULL
);
-- Outbound delivery (version 4, `outbox.rs`): per consumer (`webhook:{account}/{id}` or
-- `nats`), the last event sequence number done (delivered, given up on, or not wanted).
CREATE TABLE IF NOT EXISTS outbound_progress (
    consumer TEXT    PRIMARY KEY,
    seq      INTEGER NOT NULL
);
-- Recent delivery attempts, at most `outbox::ATTEMPTS_KEPT` per consumer.
CREATE TABLE IF NOT EXISTS outbound_attempts (
    id         INTEGER PRIMARY KEY,
    consumer   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    attempt    INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    status     INTEGER,
    latency_ms INTEGER NOT NULL,
    outcome    TEXT    NOT NULL,
    error      TEXT
);
CREATE INDEX IF NOT EXISTS outbound_attempts_by_consumer ON outbound_attempts (consumer, id);
-- Events given up on (`seq..=last_seq`), at most `outbox::DEAD_LETTERS_KEPT` per consumer.
CREATE TABLE IF NOT EXISTS outbound_dead (
    consumer TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    at_ms    INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    PRIMARY KEY (consumer, seq)
);
-- Order documents (version 6, `documents.rs`): an external marketplace's order's personal
-- data, kept out of the journal; the order command carries only `sha256`. Deleted when the
-- retention ends.
CREATE TABLE IF NOT EXISTS order_documents (
    account    TEXT    NOT NULL,
    order_id   TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    document   TEXT    NOT NULL,
    PRIMARY KEY (account, order_id, sha256)
);
"#;

/// The journal in one SQLite file (the SQL is `sql.rs`'s; this file opens the file).
pub type SqliteJournal = SqlJournal<Sqlite>;

impl SqlJournal<Sqlite> {
    /// Opens (creating if needed, mode 0600) the journal file `path`; the high-water mark lives
    /// beside it.
    pub async fn open(path: &Path) -> JResult<Self> {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        SqlJournal::connect(path.to_path_buf(), Duration::ZERO, Some(dir)).await
    }
}

impl Dialect for Sqlite {
    type Target = PathBuf;

    /// Creates the file private, opens it in WAL mode with `synchronous = FULL` (a commit is
    /// durable when it returns), and creates or upgrades the schema. SQLite has no lease: the
    /// data directory's lock keeps other writers out.
    async fn connect(path: &PathBuf, _lease_wait: Duration) -> JResult<SqliteConnection> {
        crate::datadir::create_private_file(path)
            .map_err(|e| JournalError::Db(format!("creating {}: {e}", path.display())))?;
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| JournalError::Db(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            // Rows the connection's worker thread reads ahead of the caller: a whole replay page,
            // so the next page is read while the last one is applied (`replay.rs`).
            .row_buffer_size(20_000);
        let mut conn = SqliteConnection::connect_with(&opts).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
        migrate(&mut conn).await?;
        Ok(conn)
    }

    /// A damaged value may not even be text: read bytes, judge later (by the checksum).
    fn command_text(row: &SqliteRow, col: usize) -> Result<Option<String>, sqlx::Error> {
        let bytes = row.try_get::<Option<Vec<u8>>, _>(col)?;
        Ok(bytes.map(|b| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())))
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Records the schema version in a new file, upgrades a version-1 to 5 file (which lacks
/// tables [`SCHEMA`] has just created, and the journal's `bin` column, added here: its old
/// entries keep `bin` NULL and replay from their JSON), and refuses a newer one.
async fn migrate(conn: &mut SqliteConnection) -> JResult<()> {
    let version: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'schema_version'").fetch_optional(&mut *conn).await?;
    match version {
        None => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
                .bind(SCHEMA_VERSION.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Some(v) if v == "1" || v == "2" || v == "3" || v == "4" => {
            let mut tx = conn.begin().await?;
            sqlx::query("ALTER TABLE journal ADD COLUMN bin BLOB").execute(&mut *tx).await?;
            sqlx::query("UPDATE meta SET value = ? WHERE key = 'schema_version'")
                .bind(SCHEMA_VERSION.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        // Version 5 lacks only the order documents, which `SCHEMA` has just created.
        Some(v) if v == "5" => {
            sqlx::query("UPDATE meta SET value = ? WHERE key = 'schema_version'")
                .bind(SCHEMA_VERSION.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Some(v) if v == SCHEMA_VERSION.to_string() => {}
        Some(v) => {
            return Err(JournalError::Incompatible(format!(
                "journal schema version {v}, this build reads {SCHEMA_VERSION}"
            )))
        }
    }
    Ok(())
}
