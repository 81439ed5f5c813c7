//! What startup does when the journal cannot be trusted to its end, and what
//! `offernet journal repair --accept-loss` does about it.
//!
//! Startup never deletes a journal entry. A damaged or incomplete batch, or a journal that ends
//! before the high-water mark (entries that were committed, and so acknowledged, are gone from
//! the journal), refuses to start with a [`RepairPlan`]: what was found, and what repair would
//! do. Repair, only when the operator accepts the loss, moves everything after the last whole
//! batch into the quarantine table (kept and readable, never replayed) and records a floor: the
//! highest sequence number ever used (stored, quarantined, or named by the high-water mark), so
//! the next entry is above it and no sequence number is ever reused.

use std::time::{SystemTime, UNIX_EPOCH};

use offernet_core::{Command, EngineConfig};

use crate::journal::*;
use crate::recovery::{recover, Damage};

/// Entries read per page while counting the entries a repair would move.
const COUNT_PAGE: u64 = 20_000;

/// What startup found, and what repair would do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairPlan {
    /// What was found, in words, with sequence numbers, batch and why.
    pub found: String,
    /// The last entry that replays whole: the state after a repair is the state at this entry.
    pub applied: u64,
    /// The stored entries after `applied` that would be moved: (first, last, count).
    pub quarantine: Option<(u64, u64, u64)>,
    /// The high-water mark in the data directory, if any.
    pub high_water_mark: Option<u64>,
    /// The highest sequence number ever used: the next entry is `floor + 1`.
    pub floor: u64,
    /// The highest batch number ever used.
    pub floor_batch: u64,
}

impl RepairPlan {
    /// What `journal repair --accept-loss` would do, in words.
    pub fn describe_repair(&self) -> String {
        let moved = match self.quarantine {
            Some((a, b, n)) => format!(
                "move entries {a}..={b} ({n} entries) to the quarantine table (kept, readable, never replayed), "
            ),
            None => "move nothing (no entry after it is stored), ".to_string(),
        };
        format!(
            "`offernet journal repair --accept-loss` would {moved}keep the state as of entry {}, and continue at \
             entry {} so that no sequence number is reused{}",
            self.applied,
            self.floor + 1,
            // Numbers above everything stored (named by the high-water mark) are skipped too.
            match self.quarantine.map_or(self.applied, |(_, last, _)| last) {
                stored if self.floor > stored => {
                    format!(" (numbers {}..={}, committed but missing, are skipped for good)", stored + 1, self.floor)
                }
                _ => String::new(),
            }
        )
    }
}

impl std::fmt::Display for RepairPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "offernet refuses to start: {}. Nothing was changed or deleted. If you can, stop here and restore the \
             data directory (or database) from a backup; otherwise {}.",
            self.found,
            self.describe_repair()
        )
    }
}

/// The high-water mark that goes with `j` (none without a data directory or before the first
/// commit).
pub fn high_water_mark<J: Journal>(j: &J) -> JResult<Option<u64>> {
    Ok(marks(j)?.map(|(seq, _)| seq))
}

/// The high-water mark file's numbers: the last committed sequence number and, when written,
/// the last event number (`datadir::read_marks`).
fn marks<J: Journal>(j: &J) -> JResult<Option<(u64, Option<u64>)>> {
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
pub(crate) async fn plan<J: Journal>(
    j: &mut J,
    applied: u64,
    damage: Option<Damage>,
    (stored_last, stored_batch): (u64, u64),
    hwm: Option<u64>,
) -> JResult<RepairPlan> {
    // Count what is stored after the last whole batch (it would be quarantined).
    let mut quarantine: Option<(u64, u64, u64)> = None;
    let mut cursor = applied;
    loop {
        let page = j.read_after(cursor, COUNT_PAGE).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        let (first, _, n) = quarantine.unwrap_or((page[0].seq, 0, 0));
        quarantine = Some((first, last.seq, n + page.len() as u64));
    }
    let mut found = Vec::new();
    if let Some(d) = &damage {
        let later = match quarantine {
            Some((a, b, n)) => format!("; entries {a}..={b} ({n} entries) are stored from batch {} on", d.batch),
            None => String::new(),
        };
        found.push(format!(
            "journal entry {} (batch {}) is damaged: {}; the journal replays whole only up to entry {applied}{later}",
            d.seq, d.batch, d.why
        ));
    }
    if let Some(h) = hwm.filter(|h| *h > stored_last) {
        found.push(behind_mark(j, stored_last, h));
    }
    Ok(RepairPlan {
        found: found.join("; and "),
        applied,
        quarantine,
        high_water_mark: hwm,
        floor: stored_last.max(hwm.unwrap_or(0)),
        floor_batch: stored_batch,
    })
}

/// What `journal repair` found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepairOutcome {
    /// The journal starts cleanly: nothing to repair.
    Healthy,
    /// `accept_loss` was not given: the plan, nothing changed.
    Planned(RepairPlan),
    /// Done: the plan and the entries moved to the quarantine table.
    Repaired(RepairPlan, u64),
}

/// `offernet journal repair`: finds what startup would refuse and, only with `accept_loss`,
/// quarantines the damaged tail and records the floor (in one transaction).
pub async fn repair<J: Journal>(j: &mut J, config: EngineConfig, accept_loss: bool) -> JResult<RepairOutcome> {
    // A journal of older rules that is not yet taken over is refused here too.
    crate::rules::rules_start(j, config).await?;
    let plan = match recover(j, config, &mut |_| {}).await {
        Ok(_) => return Ok(RepairOutcome::Healthy),
        Err(JournalError::NeedsRepair(plan)) => *plan,
        Err(e) => return Err(e),
    };
    if !accept_loss {
        return Ok(RepairOutcome::Planned(plan));
    }
    let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let record = Repair {
        id: 0,
        at_ms,
        first_seq: plan.applied + 1,
        floor: plan.floor,
        floor_batch: plan.floor_batch,
        quarantined: 0,
        reason: plan.found.clone(),
    };
    // Clients may have seen events of the history given up, numbered up to the mark's event
    // number: a journaled `SkipEventSeq` makes the next event be numbered above it (replay
    // applies it in order, like any command), so no event number is ever reused either. It is
    // written in the same transaction as the quarantine: a repair happens whole or not at all.
    let then: Vec<Entry> = marks(j)?
        .and_then(|(_, events)| events)
        .map(|events| Entry { seq: plan.floor + 1, at_ms, command: Command::SkipEventSeq { seq: events } })
        .into_iter()
        .collect();
    let moved = j.quarantine(&record, &then, plan.floor_batch + 1).await?;
    Ok(RepairOutcome::Repaired(plan, moved))
}
