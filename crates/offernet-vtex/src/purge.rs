//! Retention of order documents (vtex-compat.md §2.1 item 3): a document is deleted
//! `document_retention_days` after its order closed (cancelled, invoiced, expired), and a
//! document no order names (a refused placement, a racing retry's) after a day. Runs in the
//! process that holds the writer, every [`PURGE_EVERY`], and reads the engine only to decide.

use std::sync::Arc;
use std::time::Duration;

use offernet_core::{Engine, OrderAnswer};
use offernet_store::documents::{DocumentKey, ORPHAN_RETENTION_MS};
use offernet_store::{Documents, WriterHandle};

/// How often the purge runs: retention is counted in days, so an hour late is nothing.
pub const PURGE_EVERY: Duration = Duration::from_secs(3_600);

/// Whether document `k` is due for deletion at `now_ms` with a retention of `days`.
pub fn expired(engine: &Engine, k: &DocumentKey, days: u32, now_ms: u64) -> bool {
    let order = match engine.order_view(&k.account, &k.order_id) {
        Ok(OrderAnswer::Marketplace(o)) => Some(o),
        _ => None,
    };
    match order.filter(|o| o.document_sha256.as_deref() == Some(k.sha256.as_str())) {
        None => now_ms.saturating_sub(k.created_ms) >= ORPHAN_RETENTION_MS,
        Some(o) => o.closed_ms.is_some_and(|c| now_ms.saturating_sub(c) >= u64::from(days) * 86_400_000),
    }
}

/// One pass: deletes what is due; returns how many documents were deleted.
pub async fn purge_once(
    writer: &WriterHandle,
    documents: &tokio::sync::Mutex<Documents>,
    days: u32,
    now_ms: u64,
) -> u64 {
    let mut docs = documents.lock().await;
    match docs.purge(|k| writer.read(|e| expired(e, k, days, now_ms))).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "purging order documents (retried at the next pass)");
            0
        }
    }
}

/// Purges at startup and every [`PURGE_EVERY`] until `stopping` turns true.
pub fn spawn(
    writer: WriterHandle,
    documents: Arc<tokio::sync::Mutex<Documents>>,
    days: u32,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let n = purge_once(&writer, &documents, days, now).await;
            if n > 0 {
                tracing::info!(deleted = n, "order documents past their retention deleted");
            }
        }
    });
}
