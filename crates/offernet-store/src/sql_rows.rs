//! Row helpers shared by the journal's SQL (`sql.rs`) and the event history's
//! (`sql_events.rs`): unsigned numbers stored as BIGINT, and a query's rows decoded.

use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, Row, Type};

use crate::journal::JResult;

pub(crate) fn i(v: u64) -> i64 {
    v as i64
}

/// A BIGINT (INTEGER) column read back as the unsigned number [`i`] stored.
pub(crate) fn u<R: Row>(r: &R, col: usize) -> Result<u64, sqlx::Error>
where
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(r.try_get::<i64, _>(col)? as u64)
}

/// Runs `query` and decodes every row it returns with `decode`; a row that does not decode
/// fails the whole read.
pub(crate) async fn fetch_decoded<DB, T>(
    conn: &mut DB::Connection,
    query: sqlx::query::Query<'_, DB, DB::Arguments>,
    decode: impl Fn(&DB::Row) -> Result<T, sqlx::Error>,
) -> JResult<Vec<T>>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(decode).collect::<Result<Vec<_>, sqlx::Error>>().map_err(Into::into)
}
