//! Reading history back: the journal batch by batch (checking every entry), and snapshots
//! (checking their checksum). Shared by startup (`recovery.rs`), `verify.rs` and `rules.rs`.

use offernet_core::{Engine, EngineConfig, Event};

use crate::binary::BinError;
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
/// An entry with a binary form is decoded from it (checked by its own checksum); its JSON was
/// then not read at all (`raw.json` false) unless `full` (`verify`): then the JSON is checked
/// by `crc`, decoded, and must say the same command. An entry without one is decoded from its
/// JSON, checked by `crc` first.
fn check_entry(raw: RawEntry, expected: u64, batch: u64, full: bool) -> Result<Entry, Damage> {
    if raw.seq != expected {
        return Err(Damage { seq: expected, batch, why: format!("entry {expected} is missing") });
    }
    let damage = |why: String| Damage { seq: raw.seq, batch: raw.batch, why };
    let from_bin = match raw.bin.as_deref().map(crate::binary::decode) {
        None => None,
        Some(Ok(command)) => Some(command),
        Some(Err(BinError::Damaged(why) | BinError::Unknown(why))) => return Err(damage(why)),
    };
    let command = match from_bin {
        Some(command) if !full => command,
        from_bin => {
            if !raw.json {
                return Err(damage("the entry's JSON was not read and it has no binary form".into()));
            }
            if crc32(raw.command.as_bytes()) != raw.crc {
                return Err(damage("checksum mismatch".into()));
            }
            let from_json = decode_command(raw.format, &raw.command).map_err(damage)?;
            if from_bin.is_some_and(|b| b != from_json) {
                return Err(damage("the binary form says another command than the JSON".into()));
            }
            from_json
        }
    };
    Ok(Entry { seq: raw.seq, at_ms: raw.at_ms, command })
}

/// Where a replay is: the entry expected next, the batch being gathered, what was applied.
struct Walk<'r> {
    repairs: &'r [Repair],
    full: bool,
    expected: u64,
    pending: Pending,
    applied: JournalEnd,
}

impl Walk<'_> {
    /// Checks, decodes and applies one page of entries, in order; the damage it stopped at.
    fn page(
        &mut self,
        page: Vec<RawEntry>,
        apply: &mut impl FnMut(&[Entry]),
        progress: &mut dyn FnMut(u64),
    ) -> Option<Damage> {
        for raw in page {
            if raw.batch != self.pending.batch {
                if let Some(damage) = self.pending.finish(apply, progress, &mut self.applied) {
                    return Some(damage);
                }
                self.pending.batch = raw.batch;
                self.pending.size = raw.batch_size;
            }
            match check_entry(raw, self.expected, self.pending.batch, self.full) {
                Ok(entry) => self.pending.entries.push(entry),
                Err(damage) => return Some(damage),
            }
            self.expected = skip_gaps(self.repairs, self.expected + 1);
        }
        None
    }
}

/// One page of entries after `after`. With `full` every entry comes with its JSON; otherwise
/// an entry with a binary form comes without it ([`Journal::read_for_replay`]). An entry whose
/// binary form is of a layout or kind this build does not know is replayed from its JSON: a
/// page holding one is read again with the JSON (rare: entries written by a newer build).
async fn read_page<J: Journal>(j: &mut J, after: u64, full: bool) -> JResult<Vec<RawEntry>> {
    let unknown = |raw: &RawEntry| raw.bin.as_deref().is_some_and(|b| !crate::binary::known(b));
    let mut page =
        if full { j.read_after(after, REPLAY_PAGE).await? } else { j.read_for_replay(after, REPLAY_PAGE).await? };
    if page.iter().any(|raw| unknown(raw) && !raw.json) {
        page = j.read_after(after, REPLAY_PAGE).await?;
    }
    for raw in &mut page {
        if unknown(raw) {
            raw.bin = None;
        }
    }
    Ok(page)
}

/// Reads the journal after `from` batch by batch, calling `apply` for every whole, valid batch.
/// Stops at the first damage and returns it, with the last seq and batch applied. The gaps
/// left by repairs are skipped (their sequence numbers are used for good, not missing).
/// `full`: decode the JSON of every entry too and check it against the binary form (`verify`);
/// otherwise an entry with a binary form is decoded from it alone and its JSON is not read
/// (startup). Each page is read
/// while the one before it is decoded and applied (SQLite's worker thread, or PostgreSQL,
/// fetches the rows meanwhile).
pub(crate) async fn replay_batches<J: Journal>(
    j: &mut J,
    from: u64,
    repairs: &[Repair],
    full: bool,
    mut apply: impl FnMut(&[Entry]),
    progress: &mut dyn FnMut(u64),
) -> JResult<Replayed> {
    let pending = Pending { entries: Vec::new(), batch: 0, size: 0 };
    let applied = JournalEnd { seq: from, batch: 0 };
    let mut walk = Walk { repairs, full, expected: skip_gaps(repairs, from + 1), pending, applied };
    let mut page = read_page(j, from, full).await?;
    while let Some(last) = page.last().map(|r| r.seq) {
        let (next, damage) = tokio::join!(read_page(j, last, full), async { walk.page(page, &mut apply, progress) });
        if let Some(damage) = damage {
            return Ok(Replayed { applied: walk.applied, damage: Some(damage) });
        }
        page = next?;
    }
    let damage = walk.pending.finish(&mut apply, progress, &mut walk.applied);
    Ok(Replayed { applied: walk.applied, damage })
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
