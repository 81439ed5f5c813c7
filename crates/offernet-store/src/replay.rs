//! Reading history back: the journal batch by batch (checking every entry), and snapshots
//! (checking their checksum). Shared by startup (`recovery.rs`), `verify.rs` and `rules.rs`.

use offernet_core::{Engine, EngineConfig, Event};

use crate::crc::crc32;
use crate::journal::*;

/// Entries read per page while replaying.
const REPLAY_PAGE: u64 = 20_000;

/// A damaged entry found while reading the journal.
#[derive(Clone, Debug)]
pub(crate) struct Damage {
    pub(crate) seq: u64,
    pub(crate) batch: u64,
    pub(crate) why: String,
}

/// How far a replay got: the last entry and batch applied, and the damage it stopped at.
pub(crate) struct Replayed {
    pub(crate) applied: JournalEnd,
    pub(crate) damage: Option<Damage>,
}

/// The entries of the batch being read, applied once it is whole.
struct Pending {
    entries: Vec<Entry>,
    batch: u64,
    size: u64,
}

impl Pending {
    /// Applies the whole pending batch (recording it in `applied`), or says why it is not whole.
    fn finish(
        &mut self,
        apply: &mut impl FnMut(&[Entry]),
        progress: &mut dyn FnMut(u64),
        applied: &mut JournalEnd,
    ) -> Option<Damage> {
        let last = self.entries.last()?;
        if self.entries.len() as u64 != self.size {
            let why = format!("batch {} has {} of its {} entries", self.batch, self.entries.len(), self.size);
            return Some(Damage { seq: self.entries[0].seq, batch: self.batch, why });
        }
        *applied = JournalEnd { seq: last.seq, batch: self.batch };
        apply(&self.entries);
        progress(self.entries.len() as u64);
        self.entries.clear();
        None
    }
}

/// Checks one stored entry (`expected` is the sequence number it must have) and decodes it.
fn check_entry(raw: RawEntry, expected: u64, batch: u64) -> Result<Entry, Damage> {
    if raw.seq != expected {
        return Err(Damage { seq: expected, batch, why: format!("entry {expected} is missing") });
    }
    if crc32(raw.command.as_bytes()) != raw.crc {
        return Err(Damage { seq: raw.seq, batch: raw.batch, why: "checksum mismatch".into() });
    }
    match decode_command(raw.format, &raw.command) {
        Ok(command) => Ok(Entry { seq: raw.seq, at_ms: raw.at_ms, command }),
        Err(why) => Err(Damage { seq: raw.seq, batch: raw.batch, why }),
    }
}

/// Reads the journal after `from` batch by batch, calling `apply` for every whole, valid batch.
/// Stops at the first damage and returns it, with the last seq and batch applied. The gaps
/// left by repairs are skipped (their sequence numbers are used for good, not missing).
pub(crate) async fn replay_batches<J: Journal>(
    j: &mut J,
    from: u64,
    repairs: &[Repair],
    mut apply: impl FnMut(&[Entry]),
    progress: &mut dyn FnMut(u64),
) -> JResult<Replayed> {
    let mut cursor = from;
    let mut expected = skip_gaps(repairs, from + 1);
    let mut pending = Pending { entries: Vec::new(), batch: 0, size: 0 };
    let mut applied = JournalEnd { seq: from, batch: 0 };
    loop {
        let page = j.read_after(cursor, REPLAY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for raw in page {
            cursor = raw.seq;
            if raw.batch != pending.batch {
                if let Some(damage) = pending.finish(&mut apply, progress, &mut applied) {
                    return Ok(Replayed { applied, damage: Some(damage) });
                }
                pending.batch = raw.batch;
                pending.size = raw.batch_size;
            }
            match check_entry(raw, expected, pending.batch) {
                Ok(entry) => pending.entries.push(entry),
                Err(damage) => return Ok(Replayed { applied, damage: Some(damage) }),
            }
            expected = skip_gaps(repairs, expected + 1);
        }
    }
    let damage = pending.finish(&mut apply, progress, &mut applied);
    Ok(Replayed { applied, damage })
}

/// Applies replayed entries to `engine`, giving each command's time and events to `on_events`.
pub(crate) fn apply_all(engine: &mut Engine, entries: &[Entry], on_events: &mut dyn FnMut(u64, &[Event])) {
    for e in entries {
        // Refused commands were refused when first applied too: the engine is deterministic,
        // and so are the events of the accepted ones.
        if let Ok(events) = engine.apply(&e.command, e.at_ms) {
            on_events(e.at_ms, &events);
        }
    }
}

/// The sequence number of the first stored entry; after a compaction that left no entry, the
/// one after the newest snapshot.
pub(crate) async fn first_entry<J: Journal>(j: &mut J) -> JResult<u64> {
    match j.first_seq().await? {
        Some(f) => Ok(f),
        None => Ok(j.last().await?.seq + 1),
    }
}

/// Why a stored snapshot cannot be used.
pub(crate) enum SnapshotFault {
    /// Its size or checksum is not what was stored with it.
    Checksum,
    /// It passes its checksum but does not decode.
    Undecodable(String),
}

/// Loads a stored snapshot into an engine, checking its size and checksum first.
pub(crate) async fn load_engine<J: Journal>(
    j: &mut J,
    meta: &SnapshotMeta,
    config: EngineConfig,
) -> JResult<Result<Engine, SnapshotFault>> {
    let bytes = j.load_snapshot(meta.seq).await?;
    if bytes.len() as u64 != meta.size || crc32(&bytes) != meta.crc {
        return Ok(Err(SnapshotFault::Checksum));
    }
    Ok(Engine::from_snapshot_bytes(config, &bytes).map_err(SnapshotFault::Undecodable))
}

/// Whether a stored snapshot passes its checksum and loads.
pub(crate) async fn valid_snapshot<J: Journal>(j: &mut J, meta: &SnapshotMeta, config: EngineConfig) -> JResult<bool> {
    Ok(load_engine(j, meta, config).await?.is_ok())
}
