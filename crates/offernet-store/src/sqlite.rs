//! The embedded default journal: one SQLite file in the data directory, WAL mode, and
//! `synchronous = FULL` so that a commit is durable when it returns.
//!
//! The journal is readable with the `sqlite3` shell:
//! `SELECT seq, at_ms, json_extract(command, '$.type') FROM journal ORDER BY seq DESC LIMIT 20;`

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};

use crate::crc::crc32;
use crate::journal::*;

/// Schema version of this file's tables (not of the command format). Version 2 added
/// `quarantine` and `repairs`; a version-1 file is upgraded in place (the tables are created),
/// and an older offernet refuses a version-2 file rather than misread a repaired journal.
const SCHEMA_VERSION: i64 = 2;
/// Rows per INSERT statement (SQLite allows 32,766 bound parameters; 7 per row).
const ROWS_PER_INSERT: usize = 1_000;
/// Snapshots are stored in chunks so that no single value nears SQLite's 1 GB limit.
const SNAPSHOT_CHUNK: usize = 16 << 20;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per command, in order. `command` is JSON of format `format`; `crc` is the CRC-32
-- of `command`; a batch is one commit of `batch_size` rows.
CREATE TABLE IF NOT EXISTS journal (
    seq        INTEGER PRIMARY KEY,
    batch      INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    format     INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    command    TEXT    NOT NULL,
    crc        INTEGER NOT NULL
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
"#;

pub struct SqliteJournal {
    /// `None` only between a failed reopen and the next one.
    conn: Option<SqliteConnection>,
    path: PathBuf,
}

impl SqliteJournal {
    /// Opens (creating if needed, mode 0600) the journal file `path`.
    pub async fn open(path: &Path) -> JResult<Self> {
        let conn = Self::connect(path).await?;
        Ok(SqliteJournal { conn: Some(conn), path: path.to_path_buf() })
    }

    async fn connect(path: &Path) -> JResult<SqliteConnection> {
        crate::datadir::create_private_file(path)
            .map_err(|e| JournalError::Db(format!("creating {}: {e}", path.display())))?;
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| JournalError::Db(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(5));
        let mut conn = SqliteConnection::connect_with(&opts).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'schema_version'").fetch_optional(&mut conn).await?;
        match version {
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
                    .bind(SCHEMA_VERSION.to_string())
                    .execute(&mut conn)
                    .await?;
            }
            // Version 1 lacks only the tables the schema has just created.
            Some(v) if v == "1" => {
                sqlx::query("UPDATE meta SET value = ? WHERE key = 'schema_version'")
                    .bind(SCHEMA_VERSION.to_string())
                    .execute(&mut conn)
                    .await?;
            }
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(JournalError::Incompatible(format!(
                    "journal schema version {v}, this build reads {SCHEMA_VERSION}"
                )))
            }
        }
        Ok(conn)
    }

    /// The underlying connection, for tests that damage the file on purpose.
    pub fn connection(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("the journal is open")
    }

    fn c(&mut self) -> JResult<&mut SqliteConnection> {
        self.conn.as_mut().ok_or_else(|| JournalError::Db("the journal connection is closed (reopening)".into()))
    }
}

fn i(v: u64) -> i64 {
    v as i64
}

impl Journal for SqliteJournal {
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(key).fetch_optional(self.c()?).await?)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.c()?)
        .await?;
        Ok(())
    }

    async fn append_batch(&mut self, batch: u64, entries: &[Entry]) -> JResult<()> {
        let mut tx = self.c()?.begin().await?;
        insert_entries(&mut tx, batch, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        let rows = sqlx::query(
            "SELECT seq, batch, batch_size, format, at_ms, command, crc FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(i(after))
        .bind(i(limit))
        .fetch_all(self.c()?)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(RawEntry {
                    seq: r.try_get::<i64, _>(0)? as u64,
                    batch: r.try_get::<i64, _>(1)? as u64,
                    batch_size: r.try_get::<i64, _>(2)? as u64,
                    format: r.try_get::<i64, _>(3)?,
                    at_ms: r.try_get::<i64, _>(4)? as u64,
                    // A damaged value may not even be text: read bytes, judge later.
                    command: String::from_utf8_lossy(&r.try_get::<Vec<u8>, _>(5)?).into_owned(),
                    crc: r.try_get::<i64, _>(6)? as u32,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn last(&mut self) -> JResult<(u64, u64)> {
        // Batches grow with seq: the last row (found by its primary key, not a scan) has both.
        let row =
            sqlx::query("SELECT seq, batch FROM journal ORDER BY seq DESC LIMIT 1").fetch_optional(self.c()?).await?;
        let (seq, batch): (i64, i64) = match row {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, 0),
        };
        // After compaction the journal may be empty while snapshots cover history; after a
        // repair the floor is above everything stored.
        let r = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM snapshots), \
                    (SELECT COALESCE(MAX(floor), 0) FROM repairs), (SELECT COALESCE(MAX(floor_batch), 0) FROM repairs)",
        )
        .fetch_one(self.c()?)
        .await?;
        let (snap, floor, floor_batch): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        Ok((seq.max(snap).max(floor) as u64, batch.max(floor_batch) as u64))
    }

    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM journal").fetch_one(self.c()?).await?;
        Ok(v.map(|x| x as u64))
    }

    async fn quarantine(&mut self, repair: &Repair, then: &[Entry], then_batch: u64) -> JResult<u64> {
        let mut tx = self.c()?.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO repairs (at_ms, first_seq, floor, floor_batch, quarantined, reason) VALUES (?, ?, ?, ?, 0, ?) RETURNING id",
        )
        .bind(i(repair.at_ms))
        .bind(i(repair.first_seq))
        .bind(i(repair.floor))
        .bind(i(repair.floor_batch))
        .bind(&repair.reason)
        .fetch_one(&mut *tx)
        .await?;
        let moved = sqlx::query(
            "INSERT INTO quarantine (seq, batch, batch_size, format, at_ms, command, crc, repair) \
             SELECT seq, batch, batch_size, format, at_ms, command, crc, ? FROM journal WHERE seq >= ?",
        )
        .bind(id)
        .bind(i(repair.first_seq))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM journal WHERE seq >= ?").bind(i(repair.first_seq)).execute(&mut *tx).await?;
        sqlx::query("UPDATE repairs SET quarantined = ? WHERE id = ?")
            .bind(moved as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !then.is_empty() {
            insert_entries(&mut tx, then_batch, then).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    async fn repairs(&mut self) -> JResult<Vec<Repair>> {
        let rows = sqlx::query(
            "SELECT id, at_ms, first_seq, floor, floor_batch, quarantined, reason FROM repairs ORDER BY id",
        )
        .fetch_all(self.c()?)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Repair {
                    id: r.try_get::<i64, _>(0)? as u64,
                    at_ms: r.try_get::<i64, _>(1)? as u64,
                    first_seq: r.try_get::<i64, _>(2)? as u64,
                    floor: r.try_get::<i64, _>(3)? as u64,
                    floor_batch: r.try_get::<i64, _>(4)? as u64,
                    quarantined: r.try_get::<i64, _>(5)? as u64,
                    reason: r.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn reopen(&mut self) -> JResult<()> {
        if let Some(old) = self.conn.take() {
            let _ = old.close().await;
        }
        self.conn = Some(Self::connect(&self.path).await?);
        Ok(())
    }

    async fn ping(&mut self) -> JResult<()> {
        sqlx::query("SELECT 1").execute(self.c()?).await?;
        Ok(())
    }

    fn high_water_mark_file(&self) -> Option<PathBuf> {
        Some(crate::datadir::high_water_mark_path(self.path.parent().unwrap_or(Path::new("."))))
    }

    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        let mut tx = self.c()?.begin().await?;
        sqlx::query("DELETE FROM snapshot_chunks WHERE seq = ?").bind(i(seq)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq = ?").bind(i(seq)).execute(&mut *tx).await?;
        let chunks: Vec<&[u8]> = bytes.chunks(SNAPSHOT_CHUNK).collect();
        for (idx, c) in chunks.iter().enumerate() {
            sqlx::query("INSERT INTO snapshot_chunks (seq, idx, data) VALUES (?, ?, ?)")
                .bind(i(seq))
                .bind(idx as i64)
                .bind(*c)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO snapshots (seq, format, size, crc, chunks) VALUES (?, ?, ?, ?, ?)")
            .bind(i(seq))
            .bind(offernet_core::snapshot::SNAPSHOT_FORMAT as i64)
            .bind(bytes.len() as i64)
            .bind(crc32(bytes) as i64)
            .bind(chunks.len() as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn snapshots(&mut self) -> JResult<Vec<SnapshotMeta>> {
        let rows =
            sqlx::query("SELECT seq, format, size, crc FROM snapshots ORDER BY seq DESC").fetch_all(self.c()?).await?;
        rows.into_iter()
            .map(|r| {
                Ok(SnapshotMeta {
                    seq: r.try_get::<i64, _>(0)? as u64,
                    format: r.try_get::<i64, _>(1)? as u32,
                    size: r.try_get::<i64, _>(2)? as u64,
                    crc: r.try_get::<i64, _>(3)? as u32,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn load_snapshot(&mut self, seq: u64) -> JResult<Vec<u8>> {
        let rows = sqlx::query("SELECT data FROM snapshot_chunks WHERE seq = ? ORDER BY idx")
            .bind(i(seq))
            .fetch_all(self.c()?)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            out.extend_from_slice(&r.try_get::<Vec<u8>, _>(0)?);
        }
        Ok(out)
    }

    async fn compact(&mut self, upto: u64) -> JResult<u64> {
        let mut tx = self.c()?.begin().await?;
        let r = sqlx::query("DELETE FROM journal WHERE seq <= ?").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshot_chunks WHERE seq < ?").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq < ?").bind(i(upto)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }
}

/// Inserts `entries` as batch `batch` (inside the caller's transaction).
async fn insert_entries(c: &mut SqliteConnection, batch: u64, entries: &[Entry]) -> JResult<()> {
    let size = entries.len() as i64;
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO journal (seq, batch, batch_size, format, at_ms, command, crc) ");
        qb.push_values(chunk, |mut b, e| {
            let json = encode_command(&e.command);
            let crc = crc32(json.as_bytes());
            b.push_bind(i(e.seq))
                .push_bind(i(batch))
                .push_bind(size)
                .push_bind(COMMAND_FORMAT)
                .push_bind(i(e.at_ms))
                .push_bind(json)
                .push_bind(crc as i64);
        });
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}
