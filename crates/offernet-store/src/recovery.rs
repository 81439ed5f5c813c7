//! Startup and operator checks: load the newest valid snapshot, replay the journal after it,
//! handle a damaged tail, and verify or compact history.

use offernet_core::{Engine, EngineConfig};
use tracing::warn;

use crate::crc::crc32;
use crate::journal::*;

/// Entries read per page while replaying.
const REPLAY_PAGE: u64 = 20_000;

/// What startup found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The snapshot loaded (its journal sequence number), if any.
    pub snapshot: Option<u64>,
    /// Snapshots skipped, with the reason (failed checksum, undecodable).
    pub skipped_snapshots: Vec<(u64, String)>,
    /// Entries replayed after the snapshot.
    pub replayed: u64,
    /// The high-water mark found in the data directory (the journal reaches it), if any.
    pub high_water_mark: Option<u64>,
}

pub struct Recovered {
    pub engine: Engine,
    /// Last journal sequence number applied (the next entry is `last_seq + 1`).
    pub last_seq: u64,
    /// Last batch number written.
    pub last_batch: u64,
    pub report: RecoveryReport,
}

/// A damaged entry found while reading the journal.
pub(crate) struct Damage {
    pub(crate) seq: u64,
    pub(crate) batch: u64,
    pub(crate) why: String,
}

/// Applies a whole pending batch, or says why it is not whole.
fn finish_batch(
    pending: &mut Vec<Entry>,
    (batch, size): (u64, u64),
    apply: &mut impl FnMut(&[Entry]),
    progress: &mut dyn FnMut(u64),
    last_applied: &mut (u64, u64),
) -> Option<Damage> {
    if pending.is_empty() {
        return None;
    }
    if pending.len() as u64 != size {
        let why = format!("batch {batch} has {} of its {size} entries", pending.len());
        return Some(Damage { seq: pending[0].seq, batch, why });
    }
    apply(pending);
    *last_applied = (pending.last().unwrap().seq, batch);
    progress(pending.len() as u64);
    pending.clear();
    None
}

/// Reads the journal after `from` batch by batch, calling `apply` for every whole, valid batch.
/// Stops at the first damage and returns it, with the last seq and batch applied. The gaps
/// left by repairs are skipped (their sequence numbers are used for good, not missing).
async fn replay_batches<J: Journal>(
    j: &mut J,
    from: u64,
    repairs: &[Repair],
    mut apply: impl FnMut(&[Entry]),
    progress: &mut dyn FnMut(u64),
) -> JResult<((u64, u64), Option<Damage>)> {
    let mut cursor = from;
    let mut expected = skip_gaps(repairs, from + 1);
    let mut pending: Vec<Entry> = Vec::new();
    let (mut pending_batch, mut pending_size) = (0u64, 0u64);
    let mut last_applied = (from, 0u64);
    loop {
        let page = j.read_after(cursor, REPLAY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for raw in page {
            cursor = raw.seq;
            if raw.batch != pending_batch {
                let done = (pending_batch, pending_size);
                if let Some(d) = finish_batch(&mut pending, done, &mut apply, progress, &mut last_applied) {
                    return Ok((last_applied, Some(d)));
                }
                pending_batch = raw.batch;
                pending_size = raw.batch_size;
            }
            let damage = if raw.seq != expected {
                Some(Damage { seq: expected, batch: pending_batch, why: format!("entry {expected} is missing") })
            } else if crc32(raw.command.as_bytes()) != raw.crc {
                Some(Damage { seq: raw.seq, batch: raw.batch, why: "checksum mismatch".into() })
            } else {
                match decode_command(raw.format, &raw.command) {
                    Ok(command) => {
                        pending.push(Entry { seq: raw.seq, at_ms: raw.at_ms, command });
                        None
                    }
                    Err(why) => Some(Damage { seq: raw.seq, batch: raw.batch, why }),
                }
            };
            if let Some(d) = damage {
                return Ok((last_applied, Some(d)));
            }
            expected = skip_gaps(repairs, expected + 1);
        }
    }
    let damage = finish_batch(&mut pending, (pending_batch, pending_size), &mut apply, progress, &mut last_applied);
    Ok((last_applied, damage))
}

fn apply_all(engine: &mut Engine, entries: &[Entry], sink: Option<&crate::writer::EventSink>) {
    for e in entries {
        // Refused commands were refused when first applied too: the engine is deterministic,
        // and so are the events of the accepted ones.
        if let Ok(events) = engine.apply(&e.command, e.at_ms) {
            if let Some(sink) = sink {
                sink(&events);
            }
        }
    }
}

/// The sequence number of the first stored entry; after a compaction that left no entry, the
/// one after the newest snapshot.
async fn first_entry<J: Journal>(j: &mut J) -> JResult<u64> {
    match j.first_seq().await? {
        Some(f) => Ok(f),
        None => Ok(j.last().await?.seq + 1),
    }
}

/// Whether a stored snapshot passes its checksum and loads.
pub(crate) async fn valid_snapshot<J: Journal>(j: &mut J, meta: &SnapshotMeta, config: EngineConfig) -> JResult<bool> {
    let bytes = j.load_snapshot(meta.seq).await?;
    Ok(bytes.len() as u64 == meta.size
        && crc32(&bytes) == meta.crc
        && Engine::from_snapshot_bytes(config, &bytes).is_ok())
}

/// Loads the newest snapshot that passes its checksum and decodes.
async fn newest_snapshot<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    report: &mut RecoveryReport,
) -> JResult<Option<(u64, Engine)>> {
    for meta in j.snapshots().await? {
        let bytes = j.load_snapshot(meta.seq).await?;
        if bytes.len() as u64 != meta.size || crc32(&bytes) != meta.crc {
            warn!(seq = meta.seq, "snapshot fails its checksum; skipped");
            report.skipped_snapshots.push((meta.seq, "checksum mismatch".into()));
            continue;
        }
        match Engine::from_snapshot_bytes(config, &bytes) {
            Ok(e) => return Ok(Some((meta.seq, e))),
            Err(why) => {
                warn!(seq = meta.seq, %why, "snapshot cannot be loaded; skipped");
                report.skipped_snapshots.push((meta.seq, why));
            }
        }
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
    sink: Option<crate::writer::EventSink>,
) -> JResult<Recovered> {
    crate::journal::check_max_chain(j, config.max_chain).await?;
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
    let mut replayed = 0u64;
    let outcome =
        replay_batches(j, base_seq, &repairs, |batch| apply_all(&mut engine, batch, sink.as_ref()), &mut |n| {
            replayed += n;
            progress(n)
        })
        .await?;
    report.replayed = replayed;
    let (applied, damage) = outcome;
    let hwm = crate::repair::high_water_mark(j)?;
    report.high_water_mark = hwm;
    // The next entry follows everything ever used (including what compaction removed and
    // what a repair quarantined).
    let JournalEnd { seq: stored_last, batch: stored_batch } = j.last().await?;
    if damage.is_some() || hwm.is_some_and(|h| h > stored_last) {
        let plan = crate::repair::plan(j, applied.0, damage, (stored_last, stored_batch), hwm).await?;
        return Err(JournalError::NeedsRepair(Box::new(plan)));
    }
    Ok(Recovered { engine, last_seq: applied.0.max(stored_last), last_batch: applied.1.max(stored_batch), report })
}

/// The outcome of `journal verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The snapshot verification started from (after compaction), if any.
    pub base: Option<u64>,
    /// Entries replayed.
    pub entries: u64,
    /// Snapshots compared with the replay and found equal.
    pub snapshots_ok: Vec<u64>,
    /// The first problem, by journal sequence number, if any.
    pub divergence: Option<(u64, String)>,
}

/// Replays the whole journal (from the oldest snapshot if it was compacted) and compares every
/// later snapshot with the replayed state at its sequence number.
pub async fn verify<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    progress: &mut dyn FnMut(u64),
) -> JResult<VerifyReport> {
    crate::journal::check_max_chain(j, config.max_chain).await?;
    let mut snaps = j.snapshots().await?;
    snaps.reverse(); // oldest first
    let repairs = j.repairs().await?;
    let first = first_entry(j).await?;
    let mut report = VerifyReport { base: None, entries: 0, snapshots_ok: Vec::new(), divergence: None };
    // Entries accepted under older rules are not replayed: verification starts at the snapshot
    // this build's rules start from (`rules`), or after compaction at the oldest snapshot.
    let rules_from = crate::rules::rules_start(j, config).await?;
    let older_rules_stored = rules_from > 0 && first <= rules_from;
    // With older rules' entries stored, the base is the oldest valid snapshot at or after the
    // point this build's rules start from.
    let mut rules_base = None;
    if older_rules_stored {
        for s in snaps.iter().filter(|s| s.seq >= rules_from) {
            if valid_snapshot(j, s, config).await? {
                rules_base = Some(s.clone());
                break;
            }
        }
    }
    let (base_seq, mut engine) = if older_rules_stored || first > skip_gaps(&repairs, 1) {
        let found = if older_rules_stored {
            rules_base.as_ref()
        } else {
            snaps.iter().find(|s| skip_gaps(&repairs, s.seq + 1) == first)
        };
        let Some(base) = found.cloned() else {
            report.divergence = Some(if older_rules_stored {
                (rules_from, format!("no valid snapshot at or after {rules_from}, where this build's rules start"))
            } else {
                (first, format!("the journal starts at entry {first} and no snapshot covers 1..{}", first - 1))
            });
            return Ok(report);
        };
        let bytes = j.load_snapshot(base.seq).await?;
        if crc32(&bytes) != base.crc {
            report.divergence = Some((base.seq, "the base snapshot fails its checksum".into()));
            return Ok(report);
        }
        match Engine::from_snapshot_bytes(config, &bytes) {
            Ok(e) => {
                report.base = Some(base.seq);
                (base.seq, e)
            }
            Err(why) => {
                report.divergence = Some((base.seq, format!("the base snapshot cannot be loaded: {why}")));
                return Ok(report);
            }
        }
    } else {
        (0, Engine::new(config))
    };
    // Snapshots to check, with their bytes loaded lazily as replay reaches them.
    let mut to_check: Vec<SnapshotMeta> = snaps.into_iter().filter(|s| s.seq > base_seq).collect();
    to_check.reverse(); // pop() yields the oldest
    let mut pending_check: Vec<(u64, Vec<u8>, u32)> = Vec::new();
    for s in to_check.iter().rev() {
        pending_check.push((s.seq, j.load_snapshot(s.seq).await?, s.crc));
    }
    pending_check.reverse();
    let mut entries = 0u64;
    let mut divergence: Option<(u64, String)> = None;
    let mut ok = Vec::new();
    let outcome = replay_batches(
        j,
        base_seq,
        &repairs,
        |batch| {
            apply_all(&mut engine, batch, None);
            let at = batch.last().unwrap().seq;
            while let Some((seq, _, _)) = pending_check.last() {
                if *seq > at {
                    break;
                }
                let (seq, bytes, crc) = pending_check.pop().unwrap();
                if seq < at {
                    divergence.get_or_insert((seq, "snapshot is not at a batch boundary".into()));
                } else if crc32(&bytes) != crc {
                    divergence.get_or_insert((seq, "snapshot fails its checksum".into()));
                } else if engine.snapshot_bytes() != bytes {
                    divergence.get_or_insert((seq, "snapshot differs from the replayed state".into()));
                } else {
                    ok.push(seq);
                }
            }
        },
        &mut |n| {
            entries += n;
            progress(n)
        },
    )
    .await?;
    report.entries = entries;
    report.snapshots_ok = ok;
    if let (_, Some(d)) = outcome {
        report.divergence = Some((d.seq, format!("entry damaged: {}", d.why)));
    } else if let Some(d) = divergence {
        report.divergence = Some(d);
    } else if let Some((seq, _, _)) = pending_check.last() {
        report.divergence = Some((*seq, "snapshot beyond the end of the journal".into()));
    } else {
        let last = j.last().await?.seq;
        if let Some(hwm) = crate::repair::high_water_mark(j)?.filter(|h| *h > last) {
            report.divergence = Some((last + 1, crate::repair::behind_mark(j, last, hwm)));
        }
    }
    Ok(report)
}

/// How many verified snapshots compaction keeps: the newest, and one before it, so that if the
/// newest is ever damaged, startup can still load the older one and replay the entries after it
/// (compaction drops only the entries the OLDER kept snapshot covers).
pub const KEEP_VERIFIED_SNAPSHOTS: usize = 2;

/// After `verify` has checked every snapshot, drops the entries covered by the second newest
/// verified snapshot (the base a later `verify` starts from) and the snapshots before it, so the
/// [`KEEP_VERIFIED_SNAPSHOTS`] newest verified snapshots are kept with every entry after the
/// older one. Returns (base snapshot, entries dropped), or `None` when fewer than two verified
/// snapshots exist (nothing can be dropped while keeping both).
pub async fn compact<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    progress: &mut dyn FnMut(u64),
) -> JResult<Result<Option<(u64, u64)>, VerifyReport>> {
    let report = verify(j, config, progress).await?;
    if report.divergence.is_some() {
        return Ok(Err(report));
    }
    let mut ok = report.snapshots_ok.clone();
    ok.sort_unstable_by(|a, b| b.cmp(a));
    // The base of the verification counts as verified too (it is where replay started).
    ok.extend(report.base);
    ok.dedup();
    let Some(&upto) = ok.get(KEEP_VERIFIED_SNAPSHOTS - 1) else {
        return Ok(Ok(None));
    };
    let dropped = j.compact(upto).await?;
    Ok(Ok(Some((upto, dropped))))
}

/// Most commands per transaction of a bulk import: large enough to amortise the commit,
/// small enough to bound the memory of one transaction.
pub const IMPORT_BATCH: usize = 10_000;

/// Bulk import without the writer (nothing else may write meanwhile): journals `commands` in
/// large batches, each committed before it is applied to `recovered.engine`. Returns how many
/// the engine refused (they stay journaled, as the writer would have journaled them).
pub async fn import<J: Journal>(
    j: &mut J,
    recovered: &mut Recovered,
    commands: impl IntoIterator<Item = offernet_core::Command>,
    at_ms: u64,
    progress: &mut dyn FnMut(u64),
) -> JResult<u64> {
    let mut refused = 0;
    let mut batch: Vec<Entry> = Vec::with_capacity(IMPORT_BATCH);
    let mut commands = commands.into_iter().peekable();
    while commands.peek().is_some() {
        batch.clear();
        for command in commands.by_ref().take(IMPORT_BATCH) {
            batch.push(Entry { seq: recovered.last_seq + 1 + batch.len() as u64, at_ms, command });
        }
        j.append_batch(recovered.last_batch + 1, &batch).await?;
        recovered.last_batch += 1;
        recovered.last_seq += batch.len() as u64;
        for e in &batch {
            refused += recovered.engine.apply(&e.command, e.at_ms).is_err() as u64;
        }
        progress(batch.len() as u64);
    }
    Ok(refused)
}
