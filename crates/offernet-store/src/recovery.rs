//! Startup: load the newest valid snapshot, replay the journal after it, and refuse (with a
//! repair plan) a damaged tail or a journal behind the high-water mark. Also the bulk import.

use std::sync::Arc;

use offernet_core::{Engine, EngineConfig};
use tracing::warn;

use crate::diagnosis::{high_water_mark, plan};
use crate::journal::*;
use crate::replay::{apply_all, first_entry, load_engine, replay_batches, SnapshotFault};
use crate::sink::EventSink;

/// A snapshot startup could not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedSnapshot {
    /// Its journal sequence number.
    pub seq: u64,
    /// Why (failed checksum, undecodable).
    pub why: String,
}

/// What startup found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot loaded (its journal sequence number), if any.
    pub snapshot: Option<u64>,
    /// Snapshots skipped, newest first.
    pub skipped_snapshots: Vec<SkippedSnapshot>,
    /// Entries replayed after the snapshot.
    pub replayed: u64,
    /// The high-water mark found in the data directory (the journal reaches it), if any.
    pub high_water_mark: Option<u64>,
    /// The event history's floor: every event after it is in the history or was replayed
    /// (unless pruned, per account); see `history.rs`.
    pub event_floor: u64,
    /// Replayed events that were not yet in the history, inserted now (those of the last
    /// batches before a crash).
    pub events_restored: u64,
}

pub struct Recovered {
    pub engine: Engine,
    /// Last journal sequence number applied (the next entry is `last_seq + 1`).
    pub last_seq: u64,
    /// Last batch number written.
    pub last_batch: u64,
    pub report: RecoveryReport,
}

/// Loads the newest snapshot that passes its checksum and decodes.
async fn newest_snapshot<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    report: &mut RecoveryReport,
) -> JResult<Option<(u64, Engine)>> {
    for meta in j.snapshots().await? {
        let why = match load_engine(j, &meta, config).await? {
            Ok(engine) => return Ok(Some((meta.seq, engine))),
            Err(SnapshotFault::Checksum) => {
                warn!(seq = meta.seq, "snapshot fails its checksum; skipped");
                "checksum mismatch".to_string()
            }
            Err(SnapshotFault::Undecodable(why)) => {
                warn!(seq = meta.seq, %why, "snapshot cannot be loaded; skipped");
                why
            }
        };
        report.skipped_snapshots.push(SkippedSnapshot { seq: meta.seq, why });
    }
    Ok(None)
}

/// Startup: the newest valid snapshot, then the journal after it. Nothing is ever deleted
/// here: a damaged or incomplete batch anywhere, or a journal that ends before the high-water
/// mark (committed entries lost from the journal), refuses to start with
/// [`JournalError::NeedsRepair`], which says what was found and what
/// `offernet journal repair --accept-loss` would do.
pub async fn recover<J: Journal>(j: &mut J, config: EngineConfig, progress: &mut dyn FnMut(u64)) -> JResult<Recovered> {
    recover_with_events(j, config, progress, None).await
}

/// [`recover`], giving the events of the replayed commands to `sink` in order: they are the
/// same events as when the commands were first applied, so clients can resume a stream across a
/// restart from any sequence number after the snapshot.
pub async fn recover_with_events<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    progress: &mut dyn FnMut(u64),
    sink: Option<Arc<dyn EventSink>>,
) -> JResult<Recovered> {
    check_max_chain(j, config.max_chain).await?;
    let mut report = RecoveryReport::default();
    let (base_seq, mut engine) = match newest_snapshot(j, config, &mut report).await? {
        Some((seq, e)) => {
            report.snapshot = Some(seq);
            (seq, e)
        }
        None => (0, Engine::new(config)),
    };
    let rules_from = crate::rules::rules_from_seq(j).await?;
    if base_seq < rules_from {
        return Err(JournalError::Incompatible(format!(
            "this build's rules start at the snapshot at {rules_from} (entries before it were accepted under older rules), \
             but the newest valid snapshot is at {base_seq}: replaying from there could change what those entries did"
        )));
    }
    let repairs = j.repairs().await?;
    let first = first_entry(j).await?;
    if first > skip_gaps(&repairs, base_seq + 1) {
        return Err(JournalError::Corrupt(format!(
            "the journal starts at entry {first} but no valid snapshot covers entries up to {}",
            first - 1
        )));
    }
    report.event_floor = crate::history::floor(j, engine.last_seq()).await?;
    // Events up to the history's end are stored; the replay regenerates the ones after it.
    let history_end = j.last_event_seq().await?;
    let mut missing: Vec<StoredEvent> = Vec::new();
    let apply = |batch: &[Entry]| {
        apply_all(&mut engine, batch, &mut |at_ms, events| {
            if let Some(sink) = sink.as_deref() {
                sink.publish(at_ms, events);
            }
            let new = events.iter().filter(|e| e.seq > history_end);
            missing.extend(new.map(|e| crate::history::stored(at_ms, e)));
        })
    };
    let replayed = replay_batches(j, base_seq, &repairs, false, apply, &mut |n| {
        report.replayed += n;
        progress(n)
    })
    .await?;
    let hwm = high_water_mark(j)?;
    report.high_water_mark = hwm;
    // The next entry follows everything ever used (including what compaction removed and
    // what a repair quarantined).
    let stored = j.last().await?;
    if replayed.damage.is_some() || hwm.is_some_and(|h| h > stored.seq) {
        let plan = plan(j, replayed.applied.seq, replayed.damage, stored, hwm).await?;
        return Err(JournalError::NeedsRepair(Box::new(plan)));
    }
    for chunk in missing.chunks(crate::history::LOAD_PAGE as usize) {
        j.insert_events(chunk).await?;
    }
    report.events_restored = missing.len() as u64;
    let (last_seq, last_batch) = (replayed.applied.seq.max(stored.seq), replayed.applied.batch.max(stored.batch));
    Ok(Recovered { engine, last_seq, last_batch, report })
}

/// Most commands per transaction of a bulk import: large enough to amortise the commit,
/// small enough to bound the memory of one transaction.
pub const IMPORT_BATCH: usize = 10_000;

/// Bulk import without the writer (nothing else may write meanwhile): journals `commands` in
/// large batches, each committed before it is applied to `recovered.engine`, with the events
/// of the batch before it (the last batch's events in a transaction of their own, so the
/// history is whole when the import ends). Returns how many the engine refused (they stay
/// journaled, as the writer would have journaled them).
pub async fn import<J: Journal>(
    j: &mut J,
    recovered: &mut Recovered,
    commands: impl IntoIterator<Item = offernet_core::Command>,
    at_ms: u64,
    progress: &mut dyn FnMut(u64),
) -> JResult<u64> {
    let mut refused = 0;
    let mut batch: Vec<Entry> = Vec::with_capacity(IMPORT_BATCH);
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut commands = commands.into_iter().peekable();
    while commands.peek().is_some() {
        batch.clear();
        for command in commands.by_ref().take(IMPORT_BATCH) {
            batch.push(Entry { seq: recovered.last_seq + 1 + batch.len() as u64, at_ms, command });
        }
        j.append_batch(recovered.last_batch + 1, &batch, &events).await?;
        events.clear();
        recovered.last_batch += 1;
        recovered.last_seq += batch.len() as u64;
        for e in &batch {
            match recovered.engine.apply(&e.command, e.at_ms) {
                Ok(evs) => events.extend(evs.iter().map(|ev| crate::history::stored(e.at_ms, ev))),
                Err(_) => refused += 1,
            }
        }
        progress(batch.len() as u64);
    }
    j.insert_events(&events).await?;
    Ok(refused)
}
