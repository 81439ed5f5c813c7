//! The outbound side's durable state (schema version 4; tables `outbound_progress`,
//! `outbound_attempts`, `outbound_dead`, and the journal id in `meta`): how far each consumer
//! (a webhook subscription, the NATS publisher) has delivered, the recent attempts of each
//! (bounded), the events given up on, and each subscription's pending redelivery (two
//! `outbound_progress` rows, [`Replay`]: no table of its own, so no schema change). Kept in the journal's database on a connection of
//! its own, so the delivery worker never touches the writer's connection or its pipeline.
//!
//! SQLite: the same file, `synchronous = NORMAL` on this connection (WAL): a progress row
//! survives a crash of the process; a power loss may roll back the last ones, which repeats
//! deliveries (the same `webhook-id` / `Nats-Msg-Id`) and loses none, as at-least-once allows.

use std::path::Path;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::{Connection, Row};

use crate::journal::{JResult, Journal, JournalError, StoredEvent};
use crate::side::{self, on, Conn};

/// Attempts kept per consumer (older ones are deleted as new ones come): what `GET
/// …/deliveries` can show, and a bound on the table whatever the failures.
pub const ATTEMPTS_KEPT: u64 = 1_000;
/// Dead letters kept per consumer (the oldest deleted beyond it).
pub const DEAD_LETTERS_KEPT: u64 = 10_000;
/// The `meta` key of the journal's random id (`Nats-Msg-Id` = `{journal id}:{sequence}`).
pub const JOURNAL_ID_KEY: &str = "journal_id";

/// The journal's random id, made (16 random bytes as hex) when the journal first starts with a
/// build that has it and never changed after: two journals publishing to one stream never
/// give the same message id.
pub async fn journal_id<J: Journal>(j: &mut J) -> JResult<String> {
    if let Some(id) = j.meta(JOURNAL_ID_KEY).await? {
        return Ok(id);
    }
    let mut buf = [0u8; 16];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| JournalError::Db(format!("reading /dev/urandom for the journal id: {e}")))?;
    let id: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    j.set_meta(JOURNAL_ID_KEY, &id).await?;
    Ok(id)
}

/// One delivery attempt as `GET …/deliveries` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: u64,
    pub seq: u64,
    /// 1 for the first try of this event.
    pub attempt: u32,
    pub at_ms: u64,
    /// The destination's HTTP status; `None` when it gave none (connect error, timeout).
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// `delivered`, `retry` (will be tried again), `dead` (given up: a dead letter).
    pub outcome: String,
    pub error: Option<String>,
}

/// A subscription's pending redelivery (`POST …/redeliver`): its events `first..=last`,
/// replayed in order, every one up to `done` already sent (`done = first - 1` before the
/// first). Kept as two `outbound_progress` rows, `replay:{consumer}` = `done` and
/// `replay-end:{consumer}` = `last`, so a kill -9 resumes it where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replay {
    pub done: u64,
    pub last: u64,
}

/// The `outbound_progress` key of a consumer's redelivery progress, and of its last event.
pub fn replay_key(consumer: &str) -> String {
    format!("replay:{consumer}")
}
fn replay_end_key(consumer: &str) -> String {
    format!("replay-end:{consumer}")
}

/// An event given up on, or a range of them (events that fell out of the retention).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub seq: u64,
    /// The last event of the range (`seq` for one event).
    pub last_seq: u64,
    pub at_ms: u64,
    pub reason: String,
}

/// The outbound tables on a connection of their own.
pub struct Outbox {
    conn: Conn,
}

const INSERT_ATTEMPT: &str =
    "INSERT INTO outbound_attempts (consumer, seq, attempt, at_ms, status, latency_ms, outcome, error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const TRIM_ATTEMPTS: &str = "DELETE FROM outbound_attempts WHERE consumer = $1 AND id <= \
     (SELECT id FROM outbound_attempts WHERE consumer = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)";
const SET_PROGRESS: &str = "INSERT INTO outbound_progress (consumer, seq) VALUES ($1, $2) \
     ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq";
const INSERT_DEAD: &str =
    "INSERT INTO outbound_dead (consumer, seq, last_seq, at_ms, reason) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (consumer, seq) DO NOTHING";
const TRIM_DEAD: &str = "DELETE FROM outbound_dead WHERE consumer = $1 AND seq <= \
     (SELECT seq FROM outbound_dead WHERE consumer = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)";

fn i(v: u64) -> i64 {
    v as i64
}

impl Outbox {
    /// Opens a second connection to the journal's database (`database` as `--database`, else
    /// the SQLite file in `data_dir`). The journal, opened first, made the tables.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> JResult<Outbox> {
        let conn = match database {
            Some(url) => Conn::Pg(side::pg(url, side::PG_JOURNAL_SCHEMA).await?),
            None => Conn::Sqlite(
                side::sqlite(&data_dir.join(crate::datadir::JOURNAL_FILE), SqliteSynchronous::Normal).await?,
            ),
        };
        Ok(Outbox { conn })
    }

    /// Every consumer's progress: (consumer, last sequence number done).
    pub async fn progress(&mut self) -> JResult<Vec<(String, u64)>> {
        let q = "SELECT consumer, seq FROM outbound_progress ORDER BY consumer";
        let rows = on!(self, c => sqlx::query(q).fetch_all(&mut *c).await?.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        Ok(rows)
    }

    /// Records that `consumer` is done with every event up to `seq`.
    pub async fn set_progress(&mut self, consumer: &str, seq: u64) -> JResult<()> {
        on!(self, c => {
            sqlx::query(SET_PROGRESS).bind(consumer).bind(i(seq)).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// One attempt, the attempts beyond `ATTEMPTS_KEPT` deleted, and (when given) the
    /// consumer's progress, in one transaction.
    pub async fn record(&mut self, consumer: &str, a: &Attempt, progress: Option<u64>) -> JResult<()> {
        on!(self, c => {
            let mut tx = c.begin().await?;
            sqlx::query(INSERT_ATTEMPT)
                .bind(consumer)
                .bind(i(a.seq))
                .bind(i64::from(a.attempt))
                .bind(i(a.at_ms))
                .bind(a.status.map(i64::from))
                .bind(i(a.latency_ms))
                .bind(a.outcome.as_str())
                .bind(a.error.as_deref())
                .execute(&mut *tx)
                .await?;
            sqlx::query(TRIM_ATTEMPTS).bind(consumer).bind(i(ATTEMPTS_KEPT)).execute(&mut *tx).await?;
            if let Some(seq) = progress {
                sqlx::query(SET_PROGRESS).bind(consumer).bind(i(seq)).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Events `first..=last` of `consumer` given up on, for `reason`, and its progress moved
    /// to `last`, in one transaction (a range: events that fell out of the retention).
    pub async fn dead_letter(
        &mut self,
        consumer: &str,
        first: u64,
        last: u64,
        at_ms: u64,
        reason: &str,
    ) -> JResult<()> {
        self.dead_letter_with(consumer, first, last, at_ms, reason, Some(consumer)).await
    }

    /// [`Outbox::dead_letter`] moving the progress row `progress_key`, or none (a redelivery's
    /// dead letters leave the live progress alone; the redelivery moves its own after them).
    pub async fn dead_letter_with(
        &mut self,
        consumer: &str,
        first: u64,
        last: u64,
        at_ms: u64,
        reason: &str,
        progress_key: Option<&str>,
    ) -> JResult<()> {
        on!(self, c => {
            let mut tx = c.begin().await?;
            sqlx::query(INSERT_DEAD)
                .bind(consumer)
                .bind(i(first))
                .bind(i(last))
                .bind(i(at_ms))
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            sqlx::query(TRIM_DEAD).bind(consumer).bind(i(DEAD_LETTERS_KEPT)).execute(&mut *tx).await?;
            if let Some(key) = progress_key {
                sqlx::query(SET_PROGRESS).bind(key).bind(i(last)).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The attempts of `consumer`, newest first, skipping `offset`, at most `limit`.
    pub async fn attempts(&mut self, consumer: &str, offset: u64, limit: u64) -> JResult<Vec<Attempt>> {
        let q = "SELECT id, seq, attempt, at_ms, status, latency_ms, outcome, error FROM outbound_attempts \
                 WHERE consumer = $1 ORDER BY id DESC LIMIT $2 OFFSET $3";
        let rows = on!(self, c => sqlx::query(q).bind(consumer).bind(i(limit)).bind(i(offset)).fetch_all(&mut *c).await?
            .iter()
            .map(|r| Ok(Attempt {
                id: r.try_get::<i64, _>(0)? as u64,
                seq: r.try_get::<i64, _>(1)? as u64,
                attempt: r.try_get::<i64, _>(2)? as u32,
                at_ms: r.try_get::<i64, _>(3)? as u64,
                status: r.try_get::<Option<i64>, _>(4)?.map(|s| s as u16),
                latency_ms: r.try_get::<i64, _>(5)? as u64,
                outcome: r.try_get(6)?,
                error: r.try_get(7)?,
            }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        Ok(rows)
    }

    /// The dead letters of `consumer`, newest first, at most `limit`.
    pub async fn dead_letters(&mut self, consumer: &str, limit: u64) -> JResult<Vec<DeadLetter>> {
        let q = "SELECT seq, last_seq, at_ms, reason FROM outbound_dead WHERE consumer = $1 ORDER BY seq DESC LIMIT $2";
        let rows = on!(self, c => sqlx::query(q).bind(consumer).bind(i(limit)).fetch_all(&mut *c).await?
            .iter()
            .map(|r| Ok(DeadLetter {
                seq: r.try_get::<i64, _>(0)? as u64,
                last_seq: r.try_get::<i64, _>(1)? as u64,
                at_ms: r.try_get::<i64, _>(2)? as u64,
                reason: r.try_get(3)?,
            }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        Ok(rows)
    }

    /// Everything of a consumer that is gone (a deleted subscription), its redelivery too.
    pub async fn forget(&mut self, consumer: &str) -> JResult<()> {
        let (replay, end) = (replay_key(consumer), replay_end_key(consumer));
        on!(self, c => {
            let mut tx = c.begin().await?;
            for q in [
                "DELETE FROM outbound_progress WHERE consumer = $1",
                "DELETE FROM outbound_attempts WHERE consumer = $1",
                "DELETE FROM outbound_dead WHERE consumer = $1",
            ] {
                sqlx::query(q).bind(consumer).execute(&mut *tx).await?;
            }
            for key in [&replay, &end] {
                sqlx::query("DELETE FROM outbound_progress WHERE consumer = $1").bind(key).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every pending redelivery: (consumer, its state), from the `replay:` rows with their
    /// `replay-end:` partner (a lone row, which the one transaction that writes both never
    /// leaves, is ignored).
    pub async fn replays(&mut self) -> JResult<Vec<(String, Replay)>> {
        let rows = self.progress().await?;
        let ends: std::collections::HashMap<&str, u64> =
            rows.iter().filter_map(|(k, v)| Some((k.strip_prefix("replay-end:")?, *v))).collect();
        Ok(rows
            .iter()
            .filter_map(|(k, done)| {
                let consumer = k.strip_prefix("replay:")?;
                let last = *ends.get(consumer)?;
                Some((consumer.to_string(), Replay { done: *done, last }))
            })
            .collect())
    }

    /// Stores `consumer`'s redelivery (both rows, in one transaction).
    pub async fn set_replay(&mut self, consumer: &str, r: Replay) -> JResult<()> {
        let (replay, end) = (replay_key(consumer), replay_end_key(consumer));
        on!(self, c => {
            let mut tx = c.begin().await?;
            sqlx::query(SET_PROGRESS).bind(&replay).bind(i(r.done)).execute(&mut *tx).await?;
            sqlx::query(SET_PROGRESS).bind(&end).bind(i(r.last)).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// `consumer`'s redelivery is done: its rows deleted.
    pub async fn end_replay(&mut self, consumer: &str) -> JResult<()> {
        let (replay, end) = (replay_key(consumer), replay_end_key(consumer));
        on!(self, c => {
            let mut tx = c.begin().await?;
            for key in [&replay, &end] {
                sqlx::query("DELETE FROM outbound_progress WHERE consumer = $1").bind(key).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Events of the durable history after `after`, at most `limit` (the NATS publisher's
    /// read when it is behind what the in-memory log holds).
    pub async fn read_events(&mut self, after: u64, limit: u64) -> JResult<Vec<StoredEvent>> {
        match &mut self.conn {
            Conn::Sqlite(c) => crate::sql_events::read::<sqlx::Sqlite>(c, after, limit).await,
            Conn::Pg(c) => crate::sql_events::read::<sqlx::Postgres>(c, after, limit).await,
        }
    }
}

#[cfg(test)]
mod tests;
