//! The embedded default journal: one SQLite file in the data directory, WAL mode, and
//! `synchronous = FULL` so that a commit is durable when it returns.
//!
//! The journal is readable with the `sqlite3` shell:
//! `SELECT seq, at_ms, json_extract(command, '$.type') FROM journal ORDER BY seq DESC LIMIT 20;`

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};

use crate::crc::crc32;
use crate::journal::*;

/// Schema version of this file's tables (not of the command format).
const SCHEMA_VERSION: i64 = 1;
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
"#;

pub struct SqliteJournal {
    conn: SqliteConnection,
}

impl SqliteJournal {
    /// Opens (creating if needed) the journal file `path`.
    pub async fn open(path: &Path) -> JResult<Self> {
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
            Some(v) if v == SCHEMA_VERSION.to_string() => {}
            Some(v) => {
                return Err(JournalError::Incompatible(format!(
                    "journal schema version {v}, this build reads {SCHEMA_VERSION}"
                )))
            }
        }
        Ok(SqliteJournal { conn })
    }

    /// The underlying connection, for tests that damage the file on purpose.
    pub fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

fn i(v: u64) -> i64 {
    v as i64
}

impl Journal for SqliteJournal {
    async fn check_max_chain(&mut self, max_chain: u8) -> JResult<()> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'max_chain'").fetch_optional(&mut self.conn).await?;
        match stored {
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('max_chain', ?)")
                    .bind(max_chain.to_string())
                    .execute(&mut self.conn)
                    .await?;
                Ok(())
            }
            Some(v) if v == max_chain.to_string() => Ok(()),
            Some(v) => Err(JournalError::Incompatible(format!(
                "this journal was written with max_chain {v}; start with --max-chain {v} (offers depend on it)"
            ))),
        }
    }

    async fn append_batch(&mut self, batch: u64, entries: &[Entry]) -> JResult<()> {
        let mut tx = self.conn.begin().await?;
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
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        let rows = sqlx::query(
            "SELECT seq, batch, batch_size, format, at_ms, command, crc FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(i(after))
        .bind(i(limit))
        .fetch_all(&mut self.conn)
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
        let row = sqlx::query("SELECT seq, batch FROM journal ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut self.conn)
            .await?;
        let (seq, batch): (i64, i64) = match row {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, 0),
        };
        // After compaction the journal may be empty while snapshots cover history.
        let snap: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM snapshots").fetch_one(&mut self.conn).await?;
        Ok((seq.max(snap) as u64, batch as u64))
    }

    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM journal").fetch_one(&mut self.conn).await?;
        Ok(v.map(|x| x as u64))
    }

    async fn drop_from_batch(&mut self, batch: u64) -> JResult<u64> {
        let r = sqlx::query("DELETE FROM journal WHERE batch >= ?").bind(i(batch)).execute(&mut self.conn).await?;
        Ok(r.rows_affected())
    }

    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        let mut tx = self.conn.begin().await?;
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
        let rows = sqlx::query("SELECT seq, format, size, crc FROM snapshots ORDER BY seq DESC")
            .fetch_all(&mut self.conn)
            .await?;
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
            .fetch_all(&mut self.conn)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            out.extend_from_slice(&r.try_get::<Vec<u8>, _>(0)?);
        }
        Ok(out)
    }

    async fn compact(&mut self, upto: u64) -> JResult<u64> {
        let mut tx = self.conn.begin().await?;
        let r = sqlx::query("DELETE FROM journal WHERE seq <= ?").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshot_chunks WHERE seq < ?").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq < ?").bind(i(upto)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }
}
