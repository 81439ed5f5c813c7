//! The journal on PostgreSQL, for deployments that want a managed, replicated record.
//!
//! Same semantics as the SQLite journal. Commands are stored as text (checksummed, exactly as
//! written); the view `offernet.journal_view` shows them as JSONB for operators:
//! `SELECT seq, at, command->>'type' FROM offernet.journal_view ORDER BY seq DESC LIMIT 20;`
//!
//! One writer at a time: opening takes a session-level advisory lock on a dedicated connection
//! and holds it for the journal's life; a second process is refused with a clear message.

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgRow};
use sqlx::{Connection, QueryBuilder, Row};

use crate::crc::crc32;
use crate::journal::*;

/// The advisory lock key of the offernet writer lease ("offernet" in ASCII, as an i64).
pub const WRITER_LOCK_KEY: i64 = 0x6f66_6665_726e_6574;
/// How long opening waits for the writer lease before refusing: a writer that has just died (or
/// a journal just dropped) holds it until PostgreSQL notices the closed connection, which takes
/// a moment; a live writer holds it for good.
pub const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
const ROWS_PER_INSERT: usize = 1_000;
const SNAPSHOT_CHUNK: usize = 16 << 20;

/// Schema migrations, applied in order, each once (recorded in `offernet.migrations`).
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE IF NOT EXISTS offernet.meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS offernet.journal (
    seq          BIGINT PRIMARY KEY,
    batch        BIGINT NOT NULL,
    batch_size   BIGINT NOT NULL,
    format       BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    command      TEXT   NOT NULL,
    crc          BIGINT NOT NULL
);
-- For operators: the journal with commands as JSONB and times as timestamps.
CREATE OR REPLACE VIEW offernet.journal_view AS
    SELECT seq, batch, to_timestamp(at_ms / 1000.0) AS at, command::jsonb AS command FROM offernet.journal;
CREATE TABLE IF NOT EXISTS offernet.snapshots (
    seq    BIGINT PRIMARY KEY,
    format BIGINT NOT NULL,
    size   BIGINT NOT NULL,
    crc    BIGINT NOT NULL,
    chunks BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS offernet.snapshot_chunks (
    seq  BIGINT NOT NULL,
    idx  BIGINT NOT NULL,
    data BYTEA  NOT NULL,
    PRIMARY KEY (seq, idx)
);
"#,
    ),
    (
        2,
        r#"
-- Entries moved out of the journal by `offernet journal repair --accept-loss`: kept as they
-- were found (readable), never replayed. `repair` is the `repairs.id` that moved them.
CREATE TABLE IF NOT EXISTS offernet.quarantine (
    seq          BIGINT PRIMARY KEY,
    batch        BIGINT NOT NULL,
    batch_size   BIGINT NOT NULL,
    format       BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    command      TEXT   NOT NULL,
    crc          BIGINT NOT NULL,
    repair       BIGINT NOT NULL
);
-- Every repair: sequence numbers first_seq..=floor are used for good and never reused.
CREATE TABLE IF NOT EXISTS offernet.repairs (
    id           BIGSERIAL PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    first_seq    BIGINT NOT NULL,
    floor        BIGINT NOT NULL,
    floor_batch  BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    reason       TEXT   NOT NULL
);
"#,
    ),
];

pub struct PgJournal {
    /// `None` only between a failed reopen and the next one.
    conn: Option<PgConnection>,
    url: String,
    /// The data directory, home of the high-water mark (see `datadir`).
    data_dir: Option<std::path::PathBuf>,
}

fn i(v: u64) -> i64 {
    v as i64
}

/// A BIGINT column read back as the unsigned number [`i`] stored.
fn u(r: &PgRow, col: usize) -> Result<u64, sqlx::Error> {
    Ok(r.try_get::<i64, _>(col)? as u64)
}

/// Runs `query` and decodes every row it returns with `decode`; a row that does not decode
/// fails the whole read.
async fn fetch_decoded<T>(
    conn: &mut PgConnection,
    query: sqlx::query::Query<'_, sqlx::Postgres, PgArguments>,
    decode: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> JResult<Vec<T>> {
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(decode).collect::<Result<Vec<_>, sqlx::Error>>().map_err(Into::into)
}

impl PgJournal {
    /// Connects, takes the writer lease (waiting up to [`LEASE_WAIT`] for a writer that is going
    /// away, then refusing), and migrates the schema.
    pub async fn open(url: &str) -> JResult<Self> {
        Self::open_with_lease_wait(url, LEASE_WAIT).await
    }

    /// [`PgJournal::open`], waiting at most `wait` for another writer to release the lease.
    pub async fn open_with_lease_wait(url: &str, wait: std::time::Duration) -> JResult<Self> {
        let conn = Self::connect(url, wait).await?;
        Ok(PgJournal { conn: Some(conn), url: url.to_string(), data_dir: None })
    }

    /// Keeps the high-water mark in `dir` (the server's data directory).
    pub fn with_data_dir(mut self, dir: &std::path::Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    async fn connect(url: &str, wait: std::time::Duration) -> JResult<PgConnection> {
        let opts: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| JournalError::Db(e.to_string()))?;
        let mut conn = PgConnection::connect_with(&opts).await?;
        let deadline = std::time::Instant::now() + wait;
        let got = loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(WRITER_LOCK_KEY)
                .fetch_one(&mut conn)
                .await?;
            if got || std::time::Instant::now() >= deadline {
                break got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        if !got {
            return Err(JournalError::NotWriter(
                "another offernet process holds the writer lease on this database (PostgreSQL advisory lock); \
                 only one writer at a time: stop it first"
                    .into(),
            ));
        }
        sqlx::raw_sql("CREATE SCHEMA IF NOT EXISTS offernet; CREATE TABLE IF NOT EXISTS offernet.migrations (version BIGINT PRIMARY KEY)")
            .execute(&mut conn)
            .await?;
        for (version, sql) in MIGRATIONS {
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM offernet.migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut conn)
                .await?;
            if done.is_none() {
                let mut tx = conn.begin().await?;
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO offernet.migrations (version) VALUES ($1)")
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(conn)
    }

    pub fn connection(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("the journal is open")
    }

    fn c(&mut self) -> JResult<&mut PgConnection> {
        self.conn.as_mut().ok_or_else(|| JournalError::Db("the journal connection is closed (reopening)".into()))
    }
}

impl Journal for PgJournal {
    async fn meta(&mut self, key: &str) -> JResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM offernet.meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.c()?)
            .await?)
    }

    async fn set_meta(&mut self, key: &str, value: &str) -> JResult<()> {
        sqlx::query(
            "INSERT INTO offernet.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
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
        // COMMIT returns once the WAL record is flushed (synchronous_commit = on, the default).
        tx.commit().await?;
        Ok(())
    }

    async fn read_after(&mut self, after: u64, limit: u64) -> JResult<Vec<RawEntry>> {
        let query = sqlx::query(
            "SELECT seq, batch, batch_size, format, at_ms, command, crc FROM offernet.journal \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(i(after))
        .bind(i(limit.min(i64::MAX as u64)));
        fetch_decoded(self.c()?, query, |r| {
            Ok(RawEntry {
                seq: u(r, 0)?,
                batch: u(r, 1)?,
                batch_size: u(r, 2)?,
                format: r.try_get::<i64, _>(3)?,
                at_ms: u(r, 4)?,
                command: r.try_get::<String, _>(5)?,
                crc: r.try_get::<i64, _>(6)? as u32,
            })
        })
        .await
    }

    async fn last(&mut self) -> JResult<(u64, u64)> {
        let row = sqlx::query("SELECT seq, batch FROM offernet.journal ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.c()?)
            .await?;
        let (seq, batch): (i64, i64) = match row {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, 0),
        };
        let r = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM offernet.snapshots)::BIGINT, \
                    (SELECT COALESCE(MAX(floor), 0) FROM offernet.repairs)::BIGINT, \
                    (SELECT COALESCE(MAX(floor_batch), 0) FROM offernet.repairs)::BIGINT",
        )
        .fetch_one(self.c()?)
        .await?;
        let (snap, floor, floor_batch): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        Ok((seq.max(snap).max(floor) as u64, batch.max(floor_batch) as u64))
    }

    async fn first_seq(&mut self) -> JResult<Option<u64>> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM offernet.journal").fetch_one(self.c()?).await?;
        Ok(v.map(|x| x as u64))
    }

    async fn quarantine(&mut self, repair: &Repair, then: &[Entry], then_batch: u64) -> JResult<u64> {
        let mut tx = self.c()?.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO offernet.repairs (at_ms, first_seq, floor, floor_batch, quarantined, reason) \
             VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
        )
        .bind(i(repair.at_ms))
        .bind(i(repair.first_seq))
        .bind(i(repair.floor))
        .bind(i(repair.floor_batch))
        .bind(&repair.reason)
        .fetch_one(&mut *tx)
        .await?;
        let moved = sqlx::query(
            "INSERT INTO offernet.quarantine (seq, batch, batch_size, format, at_ms, command, crc, repair) \
             SELECT seq, batch, batch_size, format, at_ms, command, crc, $1 FROM offernet.journal WHERE seq >= $2",
        )
        .bind(id)
        .bind(i(repair.first_seq))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM offernet.journal WHERE seq >= $1").bind(i(repair.first_seq)).execute(&mut *tx).await?;
        sqlx::query("UPDATE offernet.repairs SET quarantined = $1 WHERE id = $2")
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
        let query = sqlx::query(
            "SELECT id, at_ms, first_seq, floor, floor_batch, quarantined, reason FROM offernet.repairs ORDER BY id",
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

    /// Reconnects and retakes the writer lease. The old connection is closed first: if it is
    /// still alive it holds the lease, and the new one would wait for itself.
    async fn reopen(&mut self) -> JResult<()> {
        if let Some(old) = self.conn.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), old.close()).await;
        }
        // One try for the lease, no wait: if another process holds it, it may be writing, so
        // this writer must say `not_writer` (and the server stop serving reads) at once; the
        // writer's retry loop tries again with backoff.
        self.conn = Some(Self::connect(&self.url, std::time::Duration::ZERO).await?);
        Ok(())
    }

    async fn ping(&mut self) -> JResult<()> {
        sqlx::query("SELECT 1").execute(self.c()?).await?;
        Ok(())
    }

    fn high_water_mark_file(&self) -> Option<std::path::PathBuf> {
        self.data_dir.as_deref().map(crate::datadir::high_water_mark_path)
    }

    async fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> JResult<()> {
        let mut tx = self.c()?.begin().await?;
        sqlx::query("DELETE FROM offernet.snapshot_chunks WHERE seq = $1").bind(i(seq)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM offernet.snapshots WHERE seq = $1").bind(i(seq)).execute(&mut *tx).await?;
        let chunks: Vec<&[u8]> = bytes.chunks(SNAPSHOT_CHUNK).collect();
        for (idx, c) in chunks.iter().enumerate() {
            sqlx::query("INSERT INTO offernet.snapshot_chunks (seq, idx, data) VALUES ($1, $2, $3)")
                .bind(i(seq))
                .bind(idx as i64)
                .bind(*c)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO offernet.snapshots (seq, format, size, crc, chunks) VALUES ($1, $2, $3, $4, $5)")
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
        let query = sqlx::query("SELECT seq, format, size, crc FROM offernet.snapshots ORDER BY seq DESC");
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
        let rows = sqlx::query("SELECT data FROM offernet.snapshot_chunks WHERE seq = $1 ORDER BY idx")
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
        let r = sqlx::query("DELETE FROM offernet.journal WHERE seq <= $1").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM offernet.snapshot_chunks WHERE seq < $1").bind(i(upto)).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM offernet.snapshots WHERE seq < $1").bind(i(upto)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }
}

/// Inserts `entries` as batch `batch` (inside the caller's transaction).
async fn insert_entries(c: &mut PgConnection, batch: u64, entries: &[Entry]) -> JResult<()> {
    let size = entries.len() as i64;
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let mut qb: QueryBuilder<sqlx::Postgres> =
            QueryBuilder::new("INSERT INTO offernet.journal (seq, batch, batch_size, format, at_ms, command, crc) ");
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
