//! The writer's way back from a journal error: wait with backoff, reopen (retaking the lease),
//! and settle the ambiguous commit before anything else is written.

use std::time::Duration;

use tracing::info;

use crate::journal::{encode_command, Encoded, Entry, Journal, StoredEvent};
use crate::shared::{Shared, WriterState};

/// First wait before reconnecting after a journal error; doubled after every failed attempt.
/// Short, because the common cause (PostgreSQL dropping an idle connection) heals at once.
pub const RETRY_FIRST: Duration = Duration::from_millis(50);
/// Longest wait between reconnection attempts: a full disk or a database that is down is
/// retried every 2 s, and a writer comes back within 2 s of the journal doing so.
pub const RETRY_MAX: Duration = Duration::from_secs(2);
/// Waits (with backoff, giving up on shutdown), reopens the journal (retaking the lease) until
/// it answers, and then says whether `batch`, whose commit failed, is in the journal: `false`
/// when the journal ends at `last_seq` (not committed), `true` when it ends with exactly this
/// batch (committed, the reply was lost). Anything else means the journal moved under this
/// writer (another writer, or lost entries): an error it cannot recover from.
pub(crate) async fn reconnect<J: Journal>(
    journal: &mut J,
    shared: &Shared,
    backoff: &mut Duration,
    last_seq: u64,
    batch: Option<&[Entry]>,
) -> Result<bool, String> {
    let mut stop = shared.stop.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(*backoff) => {}
            _ = stop.wait_for(|s| *s) => {
                return Err("the server is shutting down while the journal is unavailable".into());
            }
        }
        *backoff = (*backoff * 2).min(RETRY_MAX);
        if let Err(e) = journal.reopen().await {
            shared.journal_error(&e);
            continue;
        }
        let stored = match journal.last().await {
            Ok(end) => end.seq,
            Err(e) => {
                shared.journal_error(&e);
                continue;
            }
        };
        if stored == last_seq {
            return Ok(false);
        }
        if let Some(b) = batch.filter(|b| stored == last_seq + b.len() as u64) {
            match journal.read_after(last_seq, b.len() as u64).await {
                Ok(raw)
                    if raw.len() == b.len()
                        && raw
                            .iter()
                            .zip(b)
                            .all(|(r, e)| r.seq == e.seq && r.command == encode_command(&e.command)) =>
                {
                    return Ok(true)
                }
                Ok(_) => {}
                Err(e) => {
                    shared.journal_error(&e);
                    continue;
                }
            }
        }
        return Err(format!(
            "after reconnecting, the journal ends at entry {stored} but this writer has applied up to entry {last_seq}{}: another writer wrote to it, or it lost entries; restart offernet to recover from the journal",
            batch.map_or(String::new(), |b| format!(" (plus a batch of {} whose commit failed)", b.len()))
        ));
    }
}

/// Commits `entries` (stored as `encoded`) as batch `batch` (with `events`, earlier batches' events for the history),
/// retrying through journal errors until it is in the
/// journal (then `Ok`), or until the writer must stop (`Err`: the batch's fate is then unknown
/// to the callers, and the next startup replays it if it was committed).
pub(crate) async fn commit<J: Journal>(
    journal: &mut J,
    shared: &Shared,
    batch: u64,
    last_seq: u64,
    entries: &[Entry],
    encoded: &[Encoded],
    events: &[StoredEvent],
) -> Result<(), String> {
    let mut backoff = RETRY_FIRST;
    loop {
        match journal.append_encoded(batch, entries, encoded, events).await {
            Ok(()) => break,
            Err(e) => shared.journal_error(&e),
        }
        if reconnect(journal, shared, &mut backoff, last_seq, Some(entries)).await? {
            info!(batch, "the failed commit had landed; applying it");
            break;
        }
    }
    shared.set_state(WriterState::Ok);
    Ok(())
}
