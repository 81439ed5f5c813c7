//! Order documents (schema version 6; table `order_documents`): the personal data of an order
//! placed by an external marketplace (customer, address, chosen delivery option, VTEX's raw
//! item prices), kept beside the journal and never in it (vtex-compat.md §2.1 item 3). The
//! server writes a document durably *before* it submits the order command, which carries only
//! the document's SHA-256; so the journal, snapshots and replay never hold personal data, and a
//! document can be deleted when its retention ends without touching history.
//!
//! Rows are keyed by (marketplace account, order id, SHA-256): two attempts of one order with
//! different documents (a retry racing another) each keep their row, and the order's own hash
//! says which one is its document. The others are orphans, deleted after
//! [`ORPHAN_RETENTION_MS`]; a closed order's document after the retention setting
//! (`--document-retention-days`, default [`DEFAULT_RETENTION_DAYS`]).
//!
//! A connection of its own to the journal's database (SQLite: the same file with `synchronous
//! = FULL`, as the journal: a document is durable when `put` returns).

use std::path::Path;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::Row;

use crate::journal::{JResult, JournalError};
use crate::side::{self, on, Conn};

/// How long a document is kept after its order closed, unless configured.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Longest retention accepted (10 years): a bound, not a recommendation.
pub const MAX_RETENTION_DAYS: u32 = 3_650;
/// A document no order names (its placement was refused, or a racing retry's) is deleted
/// after a day: long enough for a marketplace's retries to find their order placed.
pub const ORPHAN_RETENTION_MS: u64 = 24 * 60 * 60 * 1000;
/// Largest document stored: VTEX bodies are limited to 1 MiB, and a document holds a part.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Rows one purge pass examines (the pass repeats until fewer come back).
pub const PURGE_PAGE: u32 = 1_000;

/// A stored document's key and times, as the purge sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentKey {
    pub account: String,
    pub order_id: String,
    pub sha256: String,
    pub created_ms: u64,
}

/// The `order_documents` table on a connection of its own.
pub struct Documents {
    conn: Conn,
}

const INSERT: &str = "INSERT INTO order_documents (account, order_id, sha256, created_ms, document) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, order_id, sha256) DO NOTHING";
const GET: &str = "SELECT document FROM order_documents WHERE account = $1 AND order_id = $2 AND sha256 = $3";
const PAGE: &str = "SELECT account, order_id, sha256, created_ms FROM order_documents \
     WHERE (account, order_id, sha256) > ($1, $2, $3) ORDER BY account, order_id, sha256 LIMIT $4";
const DELETE: &str = "DELETE FROM order_documents WHERE account = $1 AND order_id = $2 AND sha256 = $3";

impl Documents {
    /// Opens a connection to the journal's database (`database` as `--database`, else the
    /// SQLite file in `data_dir`). The journal, opened first, made the table.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> JResult<Documents> {
        let conn = match database {
            Some(url) => Conn::Pg(side::pg(url, side::PG_JOURNAL_SCHEMA).await?),
            None => {
                Conn::Sqlite(side::sqlite(&data_dir.join(crate::datadir::JOURNAL_FILE), SqliteSynchronous::Full).await?)
            }
        };
        Ok(Documents { conn })
    }

    /// Stores `document` (JSON text) of order `order_id` of `account` under its SHA-256,
    /// durably; the same document again is a no-op.
    pub async fn put(
        &mut self,
        account: &str,
        order_id: &str,
        sha256: &str,
        at_ms: u64,
        document: &str,
    ) -> JResult<()> {
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(JournalError::Db(format!("an order document is at most {MAX_DOCUMENT_BYTES} bytes")));
        }
        on!(self, c => {
            sqlx::query(INSERT).bind(account).bind(order_id).bind(sha256).bind(at_ms as i64).bind(document)
                .execute(&mut *c).await?;
        });
        Ok(())
    }

    /// The document of order `order_id` of `account` with hash `sha256`, if stored.
    pub async fn get(&mut self, account: &str, order_id: &str, sha256: &str) -> JResult<Option<String>> {
        let row = on!(self, c => sqlx::query(GET).bind(account).bind(order_id).bind(sha256)
            .fetch_optional(&mut *c).await?
            .map(|r| r.try_get::<String, _>(0)).transpose()?);
        Ok(row)
    }

    /// Deletes every document for which `expired(key)` says so, a page at a time; returns how
    /// many were deleted. The caller decides from the engine's state (the order's hash, when it
    /// closed) and the clock.
    pub async fn purge(&mut self, mut expired: impl FnMut(&DocumentKey) -> bool) -> JResult<u64> {
        let mut after = (String::new(), String::new(), String::new());
        let mut deleted = 0;
        loop {
            let page: Vec<DocumentKey> = on!(self, c => sqlx::query(PAGE)
                .bind(&after.0).bind(&after.1).bind(&after.2).bind(i64::from(PURGE_PAGE))
                .fetch_all(&mut *c).await?.iter()
                .map(|r| Ok(DocumentKey {
                    account: r.try_get(0)?,
                    order_id: r.try_get(1)?,
                    sha256: r.try_get(2)?,
                    created_ms: r.try_get::<i64, _>(3)? as u64,
                }))
                .collect::<Result<Vec<_>, sqlx::Error>>()?);
            for k in page.iter().filter(|k| expired(k)) {
                on!(self, c => {
                    sqlx::query(DELETE).bind(&k.account).bind(&k.order_id).bind(&k.sha256).execute(&mut *c).await?;
                });
                deleted += 1;
            }
            match page.last() {
                Some(k) if page.len() == PURGE_PAGE as usize => {
                    after = (k.account.clone(), k.order_id.clone(), k.sha256.clone())
                }
                _ => return Ok(deleted),
            }
        }
    }
}
