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

use offernet_core::{Command, EngineConfig};

use crate::diagnosis::marks;
use crate::journal::{now_ms, Entry, JResult, Journal, JournalError, Repair};
use crate::plan::RepairPlan;
use crate::recovery::recover;

/// What `journal repair` found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepairOutcome {
    /// The journal starts cleanly: nothing to repair.
    Healthy,
    /// `accept_loss` was not given: the plan, nothing changed.
    Planned(RepairPlan),
    /// Done: the plan, and how many entries were moved to the quarantine table.
    Repaired { plan: RepairPlan, moved: u64 },
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
    let at_ms = now_ms();
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
    // The durable event history may hold events of the given-up history beyond the mark's
    // number (the mark is written every 100 ms): the next event is numbered above those too.
    let history_end = j.last_event_seq().await?;
    let then: Vec<Entry> = marks(j)?
        .and_then(|m| m.event_seq)
        .into_iter()
        .chain((history_end > 0).then_some(history_end))
        .max()
        .map(|events| Entry { seq: plan.floor + 1, at_ms, command: Command::SkipEventSeq { seq: events } })
        .into_iter()
        .collect();
    let moved = j.quarantine(&record, &then, plan.floor_batch + 1).await?;
    Ok(RepairOutcome::Repaired { plan, moved })
}
