//! The journal on PostgreSQL, for deployments that want a managed, replicated record.
//!
//! Same semantics as the SQLite journal. Commands are stored as text (checksummed, exactly as
//! written); the view `offernet.journal_view` shows them as JSONB for operators:
//! `SELECT seq, at, command->>'type' FROM offernet.journal_view ORDER BY seq DESC LIMIT 20;`
//!
//! One writer at a time: opening takes a session-level advisory lock on a dedicated connection
//! and holds it for the journal's life; a second process is refused with a clear message.
//!
//! The statements are `sql.rs`'s, the same as on SQLite; this file opens the connection (the
//! lease, the migrations, and `search_path` set to the schema `offernet`, so the statements
//! name the tables without it).

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgQueryResult, PgRow};
use sqlx::{Connection, Postgres, Row};

use crate::journal::{JResult, JournalError};
use crate::sql::{Dialect, SqlJournal};

/// The advisory lock key of the offernet writer lease ("offernet" in ASCII, as an i64).
pub const WRITER_LOCK_KEY: i64 = 0x6f66_6665_726e_6574;
/// How long opening waits for the writer lease before refusing: a writer that has just died (or
/// a journal just dropped) holds it until PostgreSQL notices the closed connection, which takes
/// a moment; a live writer holds it for good.
pub const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
    (
        3,
        r#"
-- The durable event history: every event the engine gave, `event` its JSON as `GET
-- …/events` shows it, `at_ms` the time of its command. Pruned by the retention setting.
CREATE TABLE IF NOT EXISTS offernet.events (
    seq      BIGINT PRIMARY KEY,
    account  TEXT   NOT NULL,
    at_ms    BIGINT NOT NULL,
    event    TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_account ON offernet.events (account, seq);
-- Per account, the newest event sequence number pruned: reads at or before it answer 410.
CREATE TABLE IF NOT EXISTS offernet.event_floors (
    account  TEXT   PRIMARY KEY,
    upto     BIGINT NOT NULL
);
"#,
    ),
    (
        4,
        r#"
-- Outbound delivery (version 4, `outbox.rs`): per consumer (`webhook:{account}/{id}` or
-- `nats`), the last event sequence number done (delivered, given up on, or not wanted).
CREATE TABLE IF NOT EXISTS offernet.outbound_progress (
    consumer TEXT    PRIMARY KEY,
    seq      BIGINT  NOT NULL
);
-- Recent delivery attempts, at most `outbox::ATTEMPTS_KEPT` per consumer.
CREATE TABLE IF NOT EXISTS offernet.outbound_attempts (
    id         BIGSERIAL PRIMARY KEY,
    consumer   TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    attempt    BIGINT  NOT NULL,
    at_ms      BIGINT  NOT NULL,
    status     BIGINT ,
    latency_ms BIGINT  NOT NULL,
    outcome    TEXT    NOT NULL,
    error      TEXT
);
CREATE INDEX IF NOT EXISTS outbound_attempts_by_consumer ON offernet.outbound_attempts (consumer, id);
-- Events given up on (`seq..=last_seq`), at most `outbox::DEAD_LETTERS_KEPT` per consumer.
CREATE TABLE IF NOT EXISTS offernet.outbound_dead (
    consumer TEXT    NOT NULL,
    seq      BIGINT  NOT NULL,
    last_seq BIGINT  NOT NULL,
    at_ms    BIGINT  NOT NULL,
    reason   TEXT    NOT NULL,
    PRIMARY KEY (consumer, seq)
);
"#,
    ),
    (
        5,
        r#"
-- The command in the compact binary form replay reads (its own checksum inside), beside the
-- readable JSON; NULL for kinds without one and for entries written before this migration.
ALTER TABLE offernet.journal ADD COLUMN IF NOT EXISTS bin BYTEA;
"#,
    ),
    (
        6,
        r#"
-- Order documents (`documents.rs`): an external marketplace's order's personal data, kept out
-- of the journal; the order command carries only `sha256`. Deleted when the retention ends.
CREATE TABLE IF NOT EXISTS offernet.order_documents (
    account    TEXT   NOT NULL,
    order_id   TEXT   NOT NULL,
    sha256     TEXT   NOT NULL,
    created_ms BIGINT NOT NULL,
    document   TEXT   NOT NULL,
    PRIMARY KEY (account, order_id, sha256)
);
"#,
    ),
];

/// The journal in a PostgreSQL database (the SQL is `sql.rs`'s; this file connects).
pub type PgJournal = SqlJournal<Postgres>;

impl SqlJournal<Postgres> {
    /// Connects, takes the writer lease (waiting up to [`LEASE_WAIT`] for a writer that is going
    /// away, then refusing), and migrates the schema.
    pub async fn open(url: &str) -> JResult<Self> {
        Self::open_with_lease_wait(url, LEASE_WAIT).await
    }

    /// [`PgJournal::open`], waiting at most `wait` for another writer to release the lease.
    pub async fn open_with_lease_wait(url: &str, wait: Duration) -> JResult<Self> {
        SqlJournal::connect(url.to_string(), wait, None).await
    }
}

impl Dialect for Postgres {
    type Target = String;

    async fn connect(url: &String, lease_wait: Duration) -> JResult<PgConnection> {
        let opts: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| JournalError::Db(e.to_string()))?;
        let mut conn = PgConnection::connect_with(&opts).await?;
        take_lease(&mut conn, lease_wait).await?;
        migrate(&mut conn).await?;
        // The journal's statements name the tables without the schema.
        sqlx::raw_sql("SET search_path TO offernet").execute(&mut conn).await?;
        Ok(conn)
    }

    fn command_text(row: &PgRow, col: usize) -> Result<Option<String>, sqlx::Error> {
        row.try_get::<Option<String>, _>(col)
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Takes the writer lease (a session advisory lock on this connection), trying for at most
/// `wait`, or refuses with [`JournalError::NotWriter`].
async fn take_lease(conn: &mut PgConnection, wait: Duration) -> JResult<()> {
    let deadline = Instant::now() + wait;
    loop {
        let got: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(WRITER_LOCK_KEY).fetch_one(&mut *conn).await?;
        if got {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(JournalError::NotWriter(
                "another offernet process holds the writer lease on this database (PostgreSQL advisory lock); \
                 only one writer at a time: stop it first"
                    .into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates the schema and applies every migration not yet recorded, each in a transaction.
async fn migrate(conn: &mut PgConnection) -> JResult<()> {
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS offernet; CREATE TABLE IF NOT EXISTS offernet.migrations (version BIGINT PRIMARY KEY)",
    )
    .execute(&mut *conn)
    .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM offernet.migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *conn)
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
    Ok(())
}
