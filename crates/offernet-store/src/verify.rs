//! Operator checks of history: `verify` (replay everything and compare every snapshot with the
//! replayed state) and `compact` (drop what verified snapshots cover).

use offernet_core::{Engine, EngineConfig};

use crate::crc::crc32;
use crate::diagnosis::{behind_mark, high_water_mark};
use crate::journal::*;
use crate::replay::{apply_all, first_entry, load_engine, replay_batches, valid_snapshot, SnapshotFault};

/// The first problem `verify` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The journal sequence number (of the entry or snapshot) where it is.
    pub seq: u64,
    pub why: String,
}

impl Divergence {
    fn at(seq: u64, why: impl Into<String>) -> Divergence {
        Divergence { seq, why: why.into() }
    }
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
    /// The first problem, if any.
    pub divergence: Option<Divergence>,
}

/// Where verification starts: the snapshot (with its engine) or the empty engine at 0.
struct Base {
    seq: u64,
    snapshot: Option<u64>,
    engine: Engine,
}

/// The base of verification. Entries accepted under older rules are not replayed: it starts at
/// the snapshot this build's rules start from (`rules`), or after compaction at the snapshot
/// the stored entries follow.
async fn base<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    snaps: &[SnapshotMeta],
    repairs: &[Repair],
) -> JResult<Result<Base, Divergence>> {
    let first = first_entry(j).await?;
    let rules_from = crate::rules::rules_start(j, config).await?;
    let older_rules_stored = rules_from > 0 && first <= rules_from;
    if !older_rules_stored && first <= skip_gaps(repairs, 1) {
        return Ok(Ok(Base { seq: 0, snapshot: None, engine: Engine::new(config) }));
    }
    let mut found = None;
    if older_rules_stored {
        // The oldest valid snapshot at or after the point this build's rules start from.
        for s in snaps.iter().filter(|s| s.seq >= rules_from) {
            if valid_snapshot(j, s, config).await? {
                found = Some(s.clone());
                break;
            }
        }
    } else {
        found = snaps.iter().find(|s| skip_gaps(repairs, s.seq + 1) == first).cloned();
    }
    let Some(meta) = found else {
        return Ok(Err(if older_rules_stored {
            Divergence::at(
                rules_from,
                format!("no valid snapshot at or after {rules_from}, where this build's rules start"),
            )
        } else {
            Divergence::at(
                first,
                format!("the journal starts at entry {first} and no snapshot covers 1..{}", first - 1),
            )
        }));
    };
    Ok(match load_engine(j, &meta, config).await? {
        Ok(engine) => Ok(Base { seq: meta.seq, snapshot: Some(meta.seq), engine }),
        Err(SnapshotFault::Checksum) => Err(Divergence::at(meta.seq, "the base snapshot fails its checksum")),
        Err(SnapshotFault::Undecodable(why)) => {
            Err(Divergence::at(meta.seq, format!("the base snapshot cannot be loaded: {why}")))
        }
    })
}

/// The snapshots after the base, compared with the replayed state as replay reaches them.
struct SnapshotChecks {
    /// Not reached yet, newest first (`pop` yields the oldest), with their bytes.
    pending: Vec<(SnapshotMeta, Vec<u8>)>,
    ok: Vec<u64>,
    divergence: Option<Divergence>,
}

impl SnapshotChecks {
    async fn load<J: Journal>(j: &mut J, snaps: Vec<SnapshotMeta>, base: u64) -> JResult<SnapshotChecks> {
        let mut pending = Vec::new();
        for s in snaps.into_iter().filter(|s| s.seq > base).rev() {
            let bytes = j.load_snapshot(s.seq).await?;
            pending.push((s, bytes));
        }
        Ok(SnapshotChecks { pending, ok: Vec::new(), divergence: None })
    }

    /// Compares every snapshot up to entry `at` (the end of a batch just applied).
    fn reached(&mut self, engine: &Engine, at: u64) {
        while self.pending.last().is_some_and(|(s, _)| s.seq <= at) {
            let (s, bytes) = self.pending.pop().expect("just checked");
            let problem = if s.seq < at {
                Some("snapshot is not at a batch boundary")
            } else if crc32(&bytes) != s.crc {
                Some("snapshot fails its checksum")
            } else if !engine.snapshot_matches(&bytes) {
                Some("snapshot differs from the replayed state")
            } else {
                None
            };
            match problem {
                Some(why) => _ = self.divergence.get_or_insert(Divergence::at(s.seq, why)),
                None => self.ok.push(s.seq),
            }
        }
    }
}

/// Replays the whole journal (from the oldest snapshot if it was compacted) and compares every
/// later snapshot with the replayed state at its sequence number.
pub async fn verify<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    progress: &mut dyn FnMut(u64),
) -> JResult<VerifyReport> {
    check_max_chain(j, config.max_chain).await?;
    let mut snaps = j.snapshots().await?;
    snaps.reverse(); // oldest first
    let repairs = j.repairs().await?;
    let mut report = VerifyReport { base: None, entries: 0, snapshots_ok: Vec::new(), divergence: None };
    let Base { seq: base_seq, snapshot, mut engine } = match base(j, config, &snaps, &repairs).await? {
        Ok(base) => base,
        Err(d) => {
            report.divergence = Some(d);
            return Ok(report);
        }
    };
    report.base = snapshot;
    let mut checks = SnapshotChecks::load(j, snaps, base_seq).await?;
    let mut entries = 0u64;
    let apply = |batch: &[Entry]| {
        apply_all(&mut engine, batch, &mut |_, _| {});
        checks.reached(&engine, batch.last().expect("a batch is never empty").seq);
    };
    let replayed = replay_batches(j, base_seq, &repairs, true, apply, &mut |n| {
        entries += n;
        progress(n)
    })
    .await?;
    report.entries = entries;
    report.snapshots_ok = checks.ok;
    report.divergence = if let Some(d) = replayed.damage {
        Some(Divergence::at(d.seq, format!("entry damaged: {}", d.why)))
    } else if let Some(d) = checks.divergence {
        Some(d)
    } else if let Some((s, _)) = checks.pending.last() {
        Some(Divergence::at(s.seq, "snapshot beyond the end of the journal"))
    } else {
        let last = j.last().await?.seq;
        high_water_mark(j)?.filter(|h| *h > last).map(|hwm| Divergence::at(last + 1, behind_mark(j, last, hwm)))
    };
    Ok(report)
}

/// How many verified snapshots compaction keeps: the newest, and one before it, so that if the
/// newest is ever damaged, startup can still load the older one and replay the entries after it
/// (compaction drops only the entries the OLDER kept snapshot covers).
pub const KEEP_VERIFIED_SNAPSHOTS: usize = 2;

/// What `compact` dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// The snapshot the dropped entries are covered by (kept, with the newer ones).
    pub base: u64,
    /// Entries dropped.
    pub dropped: u64,
}

/// After `verify` has checked every snapshot, drops the entries covered by the second newest
/// verified snapshot (the base a later `verify` starts from) and the snapshots before it, so the
/// [`KEEP_VERIFIED_SNAPSHOTS`] newest verified snapshots are kept with every entry after the
/// older one. Returns what it dropped, or `None` when fewer than two verified snapshots exist
/// (nothing can be dropped while keeping both); a failed verification is the `Err`.
pub async fn compact<J: Journal>(
    j: &mut J,
    config: EngineConfig,
    progress: &mut dyn FnMut(u64),
) -> JResult<Result<Option<Compacted>, VerifyReport>> {
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
    Ok(Ok(Some(Compacted { base: upto, dropped })))
}
