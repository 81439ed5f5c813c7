//! What startup found when the journal cannot be trusted to its end: the high-water mark kept
//! in the data directory, the words for a journal behind it, and the [`RepairPlan`] built from a
//! damaged replay (see `repair.rs` for the repair itself).

use crate::datadir::Marks;
use crate::journal::{JResult, Journal, JournalEnd, JournalError};
use crate::plan::{EntryRange, RepairPlan};
use crate::replay::Damage;

/// Entries read per page while counting the entries a repair would move.
const COUNT_PAGE: u64 = 20_000;

/// The high-water mark that goes with `j` (none without a data directory or before the first
/// commit).
pub fn high_water_mark<J: Journal>(j: &J) -> JResult<Option<u64>> {
    Ok(marks(j)?.map(|m| m.seq))
}

/// The high-water mark file's numbers: the last committed sequence number and, when written,
/// the last event number (`datadir::read_marks`).
pub(crate) fn marks<J: Journal>(j: &J) -> JResult<Option<Marks>> {
    match j.high_water_mark_file() {
        Some(p) => crate::datadir::read_marks(&p).map_err(JournalError::Corrupt),
        None => Ok(None),
    }
}

/// The words for a journal that ends before the high-water mark.
pub fn behind_mark<J: Journal>(j: &J, last: u64, hwm: u64) -> String {
    let file = j.high_water_mark_file().map(|p| p.display().to_string()).unwrap_or_default();
    format!(
        "the journal ends at entry {last}, but the high-water mark ({file}) says entry {hwm} was committed: \
         {} committed (acknowledged) entries {}..={hwm} are missing from the journal (a damaged or deleted SQLite \
         -wal file, a journal file copied without its -wal, or a database restored from an older backup)",
        hwm - last,
        last + 1
    )
}

/// Builds the plan for a journal whose replay stopped after entry `applied`, at `damage` if any.
/// `stored` is the journal's end ([`Journal::last`]), `hwm` the high-water mark.
pub(crate) async fn plan<J: Journal>(
    j: &mut J,
    applied: u64,
    damage: Option<Damage>,
    stored: JournalEnd,
    hwm: Option<u64>,
) -> JResult<RepairPlan> {
    let quarantine = stored_after(j, applied).await?;
    let mut found = Vec::new();
    if let Some(d) = &damage {
        let later = match quarantine {
            Some(q) => {
                format!("; entries {}..={} ({} entries) are stored from batch {} on", q.first, q.last, q.count, d.batch)
            }
            None => String::new(),
        };
        found.push(format!(
            "journal entry {} (batch {}) is damaged: {}; the journal replays whole only up to entry {applied}{later}",
            d.seq, d.batch, d.why
        ));
    }
    if let Some(h) = hwm.filter(|h| *h > stored.seq) {
        found.push(behind_mark(j, stored.seq, h));
    }
    Ok(RepairPlan {
        found: found.join("; and "),
        applied,
        quarantine,
        high_water_mark: hwm,
        floor: stored.seq.max(hwm.unwrap_or(0)),
        floor_batch: stored.batch,
    })
}

/// The entries stored after `applied` (those a repair would quarantine), counted page by page.
async fn stored_after<J: Journal>(j: &mut J, applied: u64) -> JResult<Option<EntryRange>> {
    let mut range: Option<EntryRange> = None;
    let mut cursor = applied;
    loop {
        let page = j.read_after(cursor, COUNT_PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        let r = range.get_or_insert(EntryRange { first: page[0].seq, last: 0, count: 0 });
        r.last = last.seq;
        r.count += page.len() as u64;
    }
    Ok(range)
}
