//! The durable event history's SQL (tables `events` and `event_floors`), the same on both
//! backends like the rest of `sql.rs`, whose `Journal` implementation calls these. The policy
//! (when to write, what to prune) is `history.rs`'s; here are only the statements.

use sqlx::{ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, QueryBuilder, Row, Type};

use crate::journal::{JResult, PruneStep, StoredEvent};
use crate::sql_rows::{fetch_decoded, i, u};

/// How many rows a statement changed (the backend's `Dialect::rows_affected`).
pub(crate) type RowsAffected<DB> = fn(&<DB as Database>::QueryResult) -> u64;

/// Event rows per INSERT statement (4 bound parameters each, far below both backends' limits).
const EVENT_ROWS_PER_INSERT: usize = 1_000;

/// Inserts `events` (inside the caller's transaction), leaving any sequence number already
/// stored as it is.
pub(crate) async fn insert<DB>(c: &mut DB::Connection, events: &[StoredEvent]) -> JResult<()>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    for chunk in events.chunks(EVENT_ROWS_PER_INSERT) {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("INSERT INTO events (seq, account, at_ms, event) ");
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(i(e.seq)).push_bind(e.account.clone()).push_bind(i(e.at_ms)).push_bind(e.json.clone());
        });
        qb.push(" ON CONFLICT (seq) DO NOTHING");
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// Stored events after `after`, at most `limit`, in order.
pub(crate) async fn read<DB>(c: &mut DB::Connection, after: u64, limit: u64) -> JResult<Vec<StoredEvent>>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let query = sqlx::query("SELECT seq, account, at_ms, event FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(i(after))
        .bind(i(limit.min(i64::MAX as u64)));
    fetch_decoded(c, query, |r| {
        Ok(StoredEvent { seq: u(r, 0)?, account: r.try_get(1)?, at_ms: u(r, 2)?, json: r.try_get(3)? })
    })
    .await
}

/// The newest stored event's sequence number, 0 when there is none.
pub(crate) async fn last_seq<DB>(c: &mut DB::Connection) -> JResult<u64>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let v: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events").fetch_one(c).await?;
    Ok(v as u64)
}

/// Every account's pruning floor.
pub(crate) async fn floors<DB>(c: &mut DB::Connection) -> JResult<Vec<(String, u64)>>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let query = sqlx::query("SELECT account, upto FROM event_floors ORDER BY account");
    fetch_decoded(c, query, |r| Ok((r.try_get(0)?, u(r, 1)?))).await
}

/// The first account after `after` with stored events (an index seek on `events_by_account`).
pub(crate) async fn next_account<DB>(c: &mut DB::Connection, after: &str) -> JResult<Option<String>>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let q = sqlx::query_scalar("SELECT MIN(account) FROM events WHERE account > $1").bind(after.to_string());
    Ok(q.fetch_one(c).await?)
}

/// One pruning step in one transaction (see [`PruneStep`]); the events deleted.
pub(crate) async fn prune<DB>(c: &mut DB::Connection, step: &PruneStep, rows: RowsAffected<DB>) -> JResult<u64>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let mut tx = c.begin().await?;
    let upto = match step {
        PruneStep::Account { account, keep, chunk } => {
            // The newest event to delete: the one just older than the newest `keep`, then at
            // most `chunk` from the oldest up to it.
            let upto: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(seq) FROM (SELECT seq FROM events WHERE account = $1 AND seq <= \
                 (SELECT seq FROM events WHERE account = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2) \
                 ORDER BY seq LIMIT $3) oldest",
            )
            .bind(account.clone())
            .bind(i(*keep))
            .bind(i(*chunk))
            .fetch_one(&mut *tx)
            .await?;
            upto
        }
        PruneStep::Age { before_ms, chunk } => {
            let rows = sqlx::query(
                "SELECT seq, at_ms FROM events WHERE seq < (SELECT MAX(seq) FROM events) ORDER BY seq LIMIT $1",
            )
            .bind(i(*chunk))
            .fetch_all(&mut *tx)
            .await?;
            // The oldest events made before the cut, up to the first one made after it.
            let mut upto = None;
            for r in &rows {
                if u(r, 1)? >= *before_ms {
                    break;
                }
                upto = Some(r.try_get::<i64, _>(0)?);
            }
            upto
        }
    };
    let Some(upto) = upto else { return Ok(0) };
    // One account's events, or (by age; no account id is empty) every account's.
    let account = match step {
        PruneStep::Account { account, .. } => account.clone(),
        PruneStep::Age { .. } => String::new(),
    };
    // Each account's floor first (the newest of its events about to go), then the delete.
    sqlx::query(
        "INSERT INTO event_floors (account, upto) SELECT account, MAX(seq) FROM events \
         WHERE seq <= $1 AND ($2 = '' OR account = $2) GROUP BY account ON CONFLICT (account) DO UPDATE \
         SET upto = CASE WHEN excluded.upto > event_floors.upto THEN excluded.upto ELSE event_floors.upto END",
    )
    .bind(upto)
    .bind(account.clone())
    .execute(&mut *tx)
    .await?;
    let r = sqlx::query("DELETE FROM events WHERE seq <= $1 AND ($2 = '' OR account = $2)")
        .bind(upto)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows(&r))
}
