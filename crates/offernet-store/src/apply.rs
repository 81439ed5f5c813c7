//! The writer's apply step: a committed batch applied to the engine, counted, its events given
//! to the sink and made ready for the durable history, and its callers answered. It runs on a
//! blocking thread (`spawn_blocking`) while the writer task commits the next batch, so commits
//! and applies overlap; the writer starts it only after the batch's commit returned and only
//! after the previous batch's apply step ended, so batches are applied, published and answered
//! in order, and nothing is visible or answered before its commit.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use offernet_core::Resolved;

use crate::journal::{Entry, StoredEvent};
use crate::shared::{Outcome, Reply, Shared, SubmitError};
use crate::sink::EventSink;

/// A committed batch, ready to be applied.
pub(crate) struct Committed {
    pub(crate) entries: Vec<Entry>,
    /// What the callers resolved of each entry's command (`Engine::resolve`; `None` where
    /// they did not), handed to `apply_resolved`: the same result as without.
    pub(crate) resolved: Vec<Option<Resolved>>,
    pub(crate) replies: Vec<Reply>,
    /// The time given to the batch's commands.
    pub(crate) at_ms: u64,
    /// How long its commit took.
    pub(crate) commit_us: u64,
}

/// Applies `batch`, counts it, publishes its events and answers its callers. Returns its
/// events for the durable history, or, when the engine panicked (an invariant assertion), why:
/// then the writer is already `stopped` and the callers were told their write was committed.
pub(crate) fn apply_and_answer(
    shared: &Shared,
    sink: Option<&Arc<dyn EventSink>>,
    batch: Committed,
) -> Result<Vec<StoredEvent>, String> {
    let Committed { entries, resolved, replies, at_ms, commit_us } = batch;
    let (outcomes, event_seq) = match apply(shared, &entries, &resolved) {
        Ok(applied) => applied,
        Err(why) => {
            // The batch is durable but the engine broke an invariant applying it: its state is
            // not to be trusted, so nothing more is written or snapshotted (`stopped`, health
            // 503) and the callers hear why. The panic names the invariant.
            shared.stopped(&why);
            for reply in replies {
                let _ = reply.send(Err(SubmitError::Unavailable(format!("{why}; this write was committed"))));
            }
            return Err(why);
        }
    };
    let last_seq = entries.last().map_or(0, |e| e.seq);
    let by_callers = resolved.iter().filter(|r| r.is_some()).count() as u64;
    record(shared, entries.len() as u64, by_callers, commit_us, event_seq, last_seq);
    let mut stored = Vec::new();
    for events in outcomes.iter().flatten() {
        if let Some(sink) = sink {
            sink.publish(at_ms, events);
        }
        stored.extend(events.iter().map(|e| crate::history::stored(at_ms, e)));
    }
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        let _ = reply.send(Ok(outcome));
    }
    Ok(stored)
}

/// Applies a committed batch to the engine under its write lock; returns the outcomes and the
/// engine's last event number after it, or, when the engine panicked, why.
fn apply(shared: &Shared, entries: &[Entry], resolved: &[Option<Resolved>]) -> Result<(Vec<Outcome>, u64), String> {
    assert_eq!(entries.len(), resolved.len(), "one `resolved` per entry");
    let mut engine = shared.engine.write().unwrap_or_else(|p| p.into_inner());
    // One unwind guard for the batch; `at` names the entry being applied if it panics.
    let mut at = 0;
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut outcomes = Vec::with_capacity(entries.len());
        for (e, r) in entries.iter().zip(resolved) {
            at = e.seq;
            outcomes.push(engine.apply_resolved(&e.command, *r, e.at_ms));
        }
        outcomes
    }));
    let outcomes = applied.map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        format!("the engine failed applying journal entry {at}: {what}")
    })?;
    Ok((outcomes, engine.last_seq()))
}

/// Counts the batch: its `commands`, of which `resolved` came resolved by their callers;
/// `last_seq` is stored last (the high-water mark thread reads it).
fn record(shared: &Shared, commands: u64, resolved: u64, commit_us: u64, event_seq: u64, last_seq: u64) {
    let stats = &shared.stats;
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.commands.fetch_add(commands, Ordering::Relaxed);
    stats.resolved.fetch_add(resolved, Ordering::Relaxed);
    stats.last_batch_size.store(commands, Ordering::Relaxed);
    stats.commit_micros.fetch_add(commit_us, Ordering::Relaxed);
    stats.last_event_seq.store(event_seq, Ordering::Release);
    stats.last_seq.store(last_seq, Ordering::Release);
}
