//! The journal in SQL, written once for both backends: `SqlJournal<DB>` runs the same
//! statements on SQLite (`sqlite.rs`) and PostgreSQL (`postgres.rs`) over a typed sqlx
//! connection. A backend gives only what truly differs, as its [`Dialect`]: how a connection is
//! opened (SQLite's pragmas and schema; PostgreSQL's lease, migrations and schema search path)
//! and how the `command` column reads back. The statements use `$N` placeholders, which both
//! drivers bind by number, and the tables' unqualified names (PostgreSQL's connection searches
//! the schema `offernet`).
//!
//! Why not sqlx's `Any` driver: it erases the column types into a common subset, while the
//! journal needs each backend's own (SQLite reads a damaged `command` as bytes, PostgreSQL's
//! lease and JSONB view are its own), and `dependencies.md` keeps the pools typed.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::{ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Row, Type};

use crate::crc::crc32;
use crate::journal::*;
use crate::sql_rows::{fetch_decoded, i, u};

/// Rows per INSERT statement (SQLite allows 32,766 bound parameters, PostgreSQL 65,535; 7 per
/// row).
const ROWS_PER_INSERT: usize = 1_000;
/// Snapshots are stored in chunks so that no single value nears SQLite's 1 GB limit (or
/// PostgreSQL's for a BYTEA).
const SNAPSHOT_CHUNK: usize = 16 << 20;
/// How long `reopen` waits for the old connection to close: a dead PostgreSQL connection may
/// not answer at all.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// What differs between the backends (see the module's documentation).
pub trait Dialect: Database {
    /// Where the journal is: the file's path (SQLite) or the URL (PostgreSQL).
    type Target: Send + Sync + 'static;
    /// Opens a connection ready for the journal's statements: the schema created or migrated
    /// and, where there is one, the writer lease taken (waiting at most `lease_wait`).
    fn connect(target: &Self::Target, lease_wait: Duration) -> impl Future<Output = JResult<Self::Connection>> + Send;
    /// The `command` column of a journal row as text (`None` where the query left it out).
    fn command_text(row: &Self::Row, col: usize) -> Result<Option<String>, sqlx::Error>;
    /// The rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// The journal on one SQL backend: `SqliteJournal` (`sqlite.rs`) or `PgJournal` (`postgres.rs`).
pub struct SqlJournal<DB: Dialect> {
    /// `None` only between a failed reopen and the next one.
    conn: Option<DB::Connection>,
    target: DB::Target,
    /// The data directory, home of the high-water mark (see `datadir`).
    data_dir: Option<PathBuf>,
}

impl<DB: Dialect> SqlJournal<DB> {
    /// Connects to `target` (see [`Dialect::connect`]).
    pub(crate) async fn connect(target: DB::Target, lease_wait: Duration, data_dir: Option<PathBuf>) -> JResult<Self> {
        let conn = DB::connect(&target, lease_wait).await?;
        Ok(SqlJournal { conn: Some(conn), target, data_dir })
    }

    /// Keeps the high-water mark in `dir` (the server's data directory).
    pub fn with_data_dir(mut self, dir: &std::path::Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    /// The underlying connection, for tests that damage the journal on purpose.
    pub fn connection(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("the journal is open")
    }

    fn c(&mut self) -> JResult<&mut DB::Connection> {
        self.conn.as_mut().ok_or_else(|| JournalError::Db("the journal connection is closed (reopening)".into()))
    }
}

// The types the statements bind and read, on the connection's executor, are written out
// here and on `insert_entries`: Rust does not carry a trait's where-clauses to its users.
impl<DB> Journal for SqlJournal<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Vec<u8>>: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        let q = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key.to_string());
        Ok(q.fetch_optional(self.c()?).await?)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key.to_string())
        .bind(value.to_string())
        .execute(self.c()?)
        .await?;
        Ok(())
    }

    async fn append_batch(&mut self, batch: u64, entries: &[Entry], events: &[StoredEvent]) -> JResult<()> {
        let encoded: Vec<Encoded> = entries.iter().map(|e| Encoded::new(&e.command)).collect();
        self.append_encoded(batch, entries, &encoded, events).await
    }

    async fn append_encoded(
        &mut self,
        batch: u64,
        entries: &[Entry],
        encoded: &[Encoded],
        events: &[StoredEvent],
    ) -> JResult<()> {
        let mut tx = self.c()?.begin().await?;
        insert_entries::<DB>(&mut tx, batch, entries, encoded).await?;
        // The events of earlier batches ride along: no commit of their own (`history.rs`).
        crate::sql_events::insert::<DB>(&mut tx, events).await?;
        // Durable when COMMIT returns: SQLite runs with `synchronous = FULL`, PostgreSQL with
        // `synchronous_commit = on` (the default).
        tx.commit().await?;
        Ok(())
    }

    async fn insert_events(&mut self, events: &[StoredEvent]) -> JResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.c()?.begin().await?;
        crate::sql_events::insert::<DB>(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn read_events(&mut self, after: u64, limit: u64) -> JResult<Vec<StoredEvent>> {
        crate::sql_events::read::<DB>(self.c()?, after, limit).await
    }

    async fn last_event_seq(&mut self) -> JResult<u64> {
        crate::sql_events::last_seq::<DB>(self.c()?).await
    }

    async fn event_floors(&mut self) -> JResult<Vec<(String, u64)>> {
        crate::sql_events::floors::<DB>(self.c()?).await
    }

    async fn next_event_account(&mut self, after: &str) -> JResult<Option<String>> {
        crate::sql_events::next_account::<DB>(self.c()?, after).await
    }

    async fn prune_events(&mut self, step: &PruneStep) -> JResult<u64> {
        crate::sql_events::prune::<DB>(self.c()?, step, DB::rows_affected).await
    }

    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        let query = sqlx::query(
            "SELECT seq, batch, batch_size, format, at_ms, command, crc, bin FROM journal \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        );
        read_raw::<DB>(self.c()?, query, after, limit).await
    }

    async fn read_for_replay(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        let query = sqlx::query(
            "SELECT seq, batch, batch_size, format, at_ms, CASE WHEN bin IS NULL THEN command END, crc, bin \
             FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
        );
        read_raw::<DB>(self.c()?, query, after, limit).await
    }

    async fn last(&mut self) -> JResult<JournalEnd> {
        // Batches grow with seq: the last row (found by its primary key, not a scan) has both.
        let row =
            sqlx::query("SELECT seq, batch FROM journal ORDER BY seq DESC LIMIT 1").fetch_optional(self.c()?).await?;
        let (seq, batch) = match row {
            Some(r) => (u(&r, 0)?, u(&r, 1)?),
            None => (0, 0),
        };
        // After compaction the journal may be empty while snapshots cover history; after a
        // repair the floor is above everything stored.
        let r = sqlx::query(
            "SELECT CAST((SELECT COALESCE(MAX(seq), 0) FROM snapshots) AS BIGINT), \
                    CAST((SELECT COALESCE(MAX(floor), 0) FROM repairs) AS BIGINT), \
                    CAST((SELECT COALESCE(MAX(floor_batch), 0) FROM repairs) AS BIGINT)",
        )
        .fetch_one(self.c()?)
        .await?;
        let (snap, floor, floor_batch) = (u(&r, 0)?, u(&r, 1)?, u(&r, 2)?);
        Ok(JournalEnd { seq: seq.max(snap).max(floor), batch: batch.max(floor_batch) })
    }

    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM journal").fetch_one(self.c()?).await?;
        Ok(v.map(|x| x as u64))
    }

    async fn quarantine(&mut self, repair: &Repair, then: &[Entry], then_batch: u64) -> JResult<u64> {
        let mut tx = self.c()?.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO repairs (at_ms, first_seq, floor, floor_batch, quarantined, reason) \
             VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
        )
        .bind(i(repair.at_ms))
        .bind(i(repair.first_seq))
        .bind(i(repair.floor))
        .bind(i(repair.floor_batch))
        .bind(repair.reason.clone())
        .fetch_one(&mut *tx)
        .await?;
        let moved = sqlx::query(
            "INSERT INTO quarantine (seq, batch, batch_size, format, at_ms, command, crc, repair) \
             SELECT seq, batch, batch_size, format, at_ms, command, crc, $1 FROM journal WHERE seq >= $2",
        )
        .bind(id)
        .bind(i(repair.first_seq))
        .execute(&mut *tx)
        .await?;
        let moved = DB::rows_affected(&moved);
        sqlx::query("DELETE FROM journal WHERE seq >= $1").bind(i(repair.first_seq)).execute(&mut *tx).await?;
        sqlx::query("UPDATE repairs SET quarantined = $1 WHERE id = $2")
            .bind(i(moved))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !then.is_empty() {
            let encoded: Vec<Encoded> = then.iter().map(|e| Encoded::new(&e.command)).collect();
            insert_entries::<DB>(&mut tx, then_batch, then, &encoded).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    async fn repairs(&mut self) -> JResult<Vec<Repair>> {
        let query = sqlx::query(
            "SELECT id, at_ms, first_seq, floor, floor_batch, quarantined, reason FROM repairs ORDER BY id",
        );
        fetch_decoded(self.c()?, query, |r| {
            Ok(Repair {
                id: u(r, 0)?,
                at_ms: u(r, 1)?,
                first_seq: u(r, 2)?,
                floor: u(r, 3)?,
                floor_batch: u(r, 4)?,
                quarantined: u(r, 5)?,
                reason: r.try_get(6)?,
            })
        })
        .await
    }

    /// Closes the old connection first (on PostgreSQL, if it is still alive it holds the lease,
    /// and the new one would wait for itself), then connects again. One try for the lease, no
    /// wait: if another process holds it, it may be writing, so this writer must say
    /// `not_writer` at once; the writer's retry loop tries again with backoff.
    async fn reopen(&mut self) -> JResult<()> {
        if let Some(old) = self.conn.take() {
            let _ = tokio::time::timeout(CLOSE_WAIT, old.close()).await;
        }
        self.conn = Some(DB::connect(&self.target, Duration::ZERO).await?);
        Ok(())
    }

    async fn ping(&mut self) -> JResult<()> {
        sqlx::query("SELECT 1").execute(self.c()?).await?;
        Ok(())
    }

    fn high_water_mark_file(&self) -> Option<PathBuf> {
        self.data_dir.as_deref().map(crate::datadir::high_water_mark_path)
    }

    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        let mut tx = self.c()?.begin().await?;
        sqlx::query("DELETE FROM snapshot_chunks WHERE seq = $1").bind(i(seq)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq = $1").bind(i(seq)).execute(&mut *tx).await?;
        for (idx, c) in bytes.chunks(SNAPSHOT_CHUNK).enumerate() {
            sqlx::query("INSERT INTO snapshot_chunks (seq, idx, data) VALUES ($1, $2, $3)")
                .bind(i(seq))
                .bind(idx as i64)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO snapshots (seq, format, size, crc, chunks) VALUES ($1, $2, $3, $4, $5)")
            .bind(i(seq))
            .bind(offernet_core::snapshot::SNAPSHOT_FORMAT as i64)
            .bind(bytes.len() as i64)
            .bind(crc32(bytes) as i64)
            .bind(bytes.len().div_ceil(SNAPSHOT_CHUNK) as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn snapshots(&mut self) -> JResult<Vec<SnapshotMeta>> {
        let query = sqlx::query("SELECT seq, format, size, crc FROM snapshots ORDER BY seq DESC");
        fetch_decoded(self.c()?, query, |r| {
            Ok(SnapshotMeta {
                seq: u(r, 0)?,
                format: r.try_get::<i64, _>(1)? as u32,
                size: u(r, 2)?,
                crc: r.try_get::<i64, _>(3)? as u32,
            })
        })
        .await
    }

    async fn load_snapshot(&mut self, seq: u64) -> JResult<Vec<u8>> {
        let rows = sqlx::query("SELECT data FROM snapshot_chunks WHERE seq = $1 ORDER BY idx")
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
        let r = sqlx::query("DELETE FROM journal WHERE seq <= $1").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshot_chunks WHERE seq < $1").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq < $1").bind(i(upto)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(DB::rows_affected(&r))
    }
}

/// Reads journal rows of `query` (the columns of [`RawEntry`] in order) after `after`, at most
/// `limit`.
async fn read_raw<'q, DB>(
    c: &mut DB::Connection,
    query: sqlx::query::Query<'q, DB, DB::Arguments>,
    after: u64,
    limit: u64,
) -> JResult<Vec<RawEntry>>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Option<Vec<u8>>: Decode<'a, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let query = query.bind(i(after)).bind(i(limit.min(i64::MAX as u64)));
    fetch_decoded(c, query, |r| {
        let command = DB::command_text(r, 5)?;
        Ok(RawEntry {
            seq: u(r, 0)?,
            batch: u(r, 1)?,
            batch_size: u(r, 2)?,
            format: r.try_get::<i64, _>(3)?,
            at_ms: u(r, 4)?,
            json: command.is_some(),
            command: command.unwrap_or_default(),
            crc: r.try_get::<i64, _>(6)? as u32,
            bin: r.try_get::<Option<Vec<u8>>, _>(7)?,
        })
    })
    .await
}

/// Inserts `entries` as batch `batch` (inside the caller's transaction), with their stored
/// forms `encoded` (`encoded[i]` is `entries[i]`'s).
async fn insert_entries<DB>(c: &mut DB::Connection, batch: u64, entries: &[Entry], encoded: &[Encoded]) -> JResult<()>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB> + Type<DB>,
{
    debug_assert_eq!(entries.len(), encoded.len());
    let size = entries.len() as i64;
    let rows: Vec<(&Entry, &Encoded)> = entries.iter().zip(encoded).collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut qb: QueryBuilder<DB> =
            QueryBuilder::new("INSERT INTO journal (seq, batch, batch_size, format, at_ms, command, crc, bin) ");
        qb.push_values(chunk, |mut b, (e, enc)| {
            b.push_bind(i(e.seq))
                .push_bind(i(batch))
                .push_bind(size)
                .push_bind(COMMAND_FORMAT)
                .push_bind(i(e.at_ms))
                .push_bind(enc.json.as_str())
                .push_bind(enc.crc as i64)
                .push_bind(enc.bin.as_deref());
        });
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}
