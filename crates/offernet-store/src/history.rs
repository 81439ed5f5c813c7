//! The durable event history: every event the engine gives is kept in the journal's database
//! (table `events`), so that `GET …/events?after=` answers the same events across restarts and
//! crashes, for as long as the retention setting keeps them.
//!
//! When events are written: the writer cannot write a batch's events in the batch's own
//! transaction (they exist only once the batch is committed and applied), so they ride along
//! with the next batch's transaction (no commit of their own), or are written in their own
//! transaction when the writer is idle, before every snapshot and at shutdown.
//!
//! **Invariant**: the history holds every event up to at least the newest snapshot. A crash
//! loses at most the events of the last batches, which recovery regenerates (it replays from
//! that snapshot; the engine is deterministic, so they are the same events) and inserts then
//! (insert-or-ignore by sequence number).
//!
//! Retention ([`Retention`]): at most `max_events` per account, and with an age, only events
//! younger than it. Pruning runs in bounded steps ([`PRUNE_CHUNK`] events, [`PRUNE_STEPS`]
//! steps at a time) when the writer is idle and every [`PRUNE_EVERY_BATCHES`] batches under
//! load; each step records the account's floor (`event_floors`), below which reads answer 410.

use std::fmt;
use std::str::FromStr;

use offernet_core::Event;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::journal::{JResult, Journal, PruneStep, StoredEvent};

/// Events kept per account by default (`--event-retention`): about 50 MB of JSON for an
/// account whose offers change often, loaded into memory at startup.
pub const DEFAULT_EVENT_RETENTION: u64 = 100_000;
/// Retention by age (`Nd`) still keeps at most this many events per account: the history is
/// held in memory, and its size must not depend on traffic alone.
pub const MAX_EVENTS_BY_AGE: u64 = DEFAULT_EVENT_RETENTION;
/// Longest retention by age (about ten years), so that the cut-off time cannot overflow.
pub const MAX_RETENTION_DAYS: u64 = 3_650;
/// Most events one pruning step deletes: one short transaction.
pub const PRUNE_CHUNK: u64 = 10_000;
/// Pruning steps taken at a time (an idle tick, or every [`PRUNE_EVERY_BATCHES`] batches).
pub const PRUNE_STEPS: usize = 8;
/// Under load the writer is never idle: it prunes every this many batches.
pub const PRUNE_EVERY_BATCHES: u64 = 256;
/// Events read per query when the history is loaded at startup.
pub const LOAD_PAGE: u64 = 10_000;
/// The `meta` key of the history's floor: every event after it is in the history (unless an
/// account's floor says it was pruned). Set once, when a journal written before the history
/// existed is first opened by a build that keeps it: the events before its newest snapshot
/// were never kept.
const FLOOR_KEY: &str = "events_floor";
const DAY_MS: u64 = 86_400_000;

/// How long events are kept: `N` (events per account) or `Nd` (days, and at most
/// [`MAX_EVENTS_BY_AGE`] per account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub max_events: u64,
    pub max_age_ms: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_events: DEFAULT_EVENT_RETENTION, max_age_ms: None }
    }
}

impl Retention {
    /// The oldest event time kept at `now_ms`, if retention is by age.
    pub fn cutoff_ms(&self, now_ms: u64) -> Option<u64> {
        self.max_age_ms.map(|age| now_ms.saturating_sub(age))
    }
}

impl FromStr for Retention {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("event retention is a number of events per account (`100000`) or of days (`30d`), got `{s}`");
        let t = s.trim();
        if let Some(days) = t.strip_suffix('d') {
            let days: u64 = days.parse().map_err(|_| bad())?;
            if days == 0 || days > MAX_RETENTION_DAYS {
                return Err(format!("event retention in days is 1 to {MAX_RETENTION_DAYS}, got `{s}`"));
            }
            return Ok(Retention { max_events: MAX_EVENTS_BY_AGE, max_age_ms: Some(days * DAY_MS) });
        }
        let n: u64 = t.parse().map_err(|_| bad())?;
        if n == 0 {
            return Err("event retention must keep at least 1 event per account".into());
        }
        Ok(Retention { max_events: n, max_age_ms: None })
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max_age_ms {
            Some(ms) => write!(f, "{}d", ms / DAY_MS),
            None => write!(f, "{}", self.max_events),
        }
    }
}

/// In a config file: a number (`event_retention = 321`) or a string (`"30d"` or `"321"`).
impl Serialize for Retention {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.max_age_ms {
            Some(_) => s.serialize_str(&self.to_string()),
            None => s.serialize_u64(self.max_events),
        }
    }
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An event as the history stores it: its JSON exactly as `GET …/events` shows it.
pub fn stored(at_ms: u64, e: &Event) -> StoredEvent {
    StoredEvent {
        seq: e.seq,
        account: e.account.to_string(),
        at_ms,
        json: serde_json::to_string(e).expect("events always serialize"),
    }
}

/// The writer's part: events applied but not yet in the history, and the pruning cursor.
pub(crate) struct History {
    /// Events of applied batches not yet written (at most those of the last batch, unless a
    /// write failed): they go with the next batch's commit or in their own transaction.
    pub(crate) pending: Vec<StoredEvent>,
    retention: Retention,
    /// The account pruned last: pruning visits the accounts in turn.
    cursor: String,
    /// Events were recorded since the last whole round of pruning by count: without new
    /// events there is nothing to prune by count, and an idle writer does not scan again.
    dirty: bool,
    /// A round of pruning by count is under way (`cursor` is where it is).
    in_round: bool,
    batches: u64,
}

impl History {
    pub(crate) fn new(retention: Retention) -> History {
        History { pending: Vec::new(), retention, cursor: String::new(), dirty: true, in_round: false, batches: 0 }
    }

    /// Keeps the events of an applied batch (made by the apply step, `apply.rs`, in sequence
    /// order) until they are written.
    pub(crate) fn keep(&mut self, events: Vec<StoredEvent>) {
        self.dirty |= !events.is_empty();
        self.pending.extend(events);
    }

    /// Writes the pending events in their own transaction.
    pub(crate) async fn flush<J: Journal>(&mut self, j: &mut J) -> JResult<()> {
        if !self.pending.is_empty() {
            j.insert_events(&self.pending).await?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Counts a batch: true every [`PRUNE_EVERY_BATCHES`] batches.
    pub(crate) fn prune_due(&mut self) -> bool {
        self.batches += 1;
        self.batches.is_multiple_of(PRUNE_EVERY_BATCHES)
    }

    /// Up to [`PRUNE_STEPS`] bounded pruning steps; a failure is logged (the next commit
    /// meets the journal's trouble, if it lasts).
    pub(crate) async fn prune<J: Journal>(&mut self, j: &mut J, now_ms: u64) {
        // The age cutoff is fixed for the call and nothing is written between steps: once an
        // age step deletes nothing, the later ones would not either.
        let mut by_age = true;
        for _ in 0..PRUNE_STEPS {
            match self.prune_step(j, now_ms, &mut by_age).await {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    warn!(error = %e, "pruning the event history failed; retried later");
                    break;
                }
            }
        }
    }

    /// One step: the oldest events past the age (while `by_age`), else the next account's
    /// events past the count. `false` when a whole round found nothing to do.
    async fn prune_step<J: Journal>(&mut self, j: &mut J, now_ms: u64, by_age: &mut bool) -> JResult<bool> {
        if let Some(before_ms) = self.retention.cutoff_ms(now_ms).filter(|_| *by_age) {
            if j.prune_events(&PruneStep::Age { before_ms, chunk: PRUNE_CHUNK }).await? > 0 {
                return Ok(true);
            }
            *by_age = false;
        }
        if !self.in_round {
            if !self.dirty {
                return Ok(false);
            }
            // This round covers every event recorded so far; later ones mark the next.
            (self.dirty, self.in_round) = (false, true);
        }
        let account = match j.next_event_account(&self.cursor).await? {
            Some(a) => a,
            None => {
                // A round is over: the next starts from the first account, once there are new
                // events.
                self.cursor.clear();
                self.in_round = false;
                return Ok(false);
            }
        };
        let keep = self.retention.max_events;
        let n = j.prune_events(&PruneStep::Account { account: account.clone(), keep, chunk: PRUNE_CHUNK }).await?;
        // An account with more to prune is visited again at once; else the next one.
        if n < PRUNE_CHUNK {
            self.cursor = account;
        }
        Ok(true)
    }
}

/// The history's floor (see [`FLOOR_KEY`]), set to `snapshot_event_seq` (the engine's event
/// number at the snapshot recovery starts from) the first time.
pub(crate) async fn floor<J: Journal>(j: &mut J, snapshot_event_seq: u64) -> JResult<u64> {
    match j.meta(FLOOR_KEY).await? {
        Some(v) => v.parse().map_err(|_| crate::journal::JournalError::Corrupt(format!("meta {FLOOR_KEY} = {v}"))),
        None => {
            j.set_meta(FLOOR_KEY, &snapshot_event_seq.to_string()).await?;
            Ok(snapshot_event_seq)
        }
    }
}

/// What startup reads from the history for the server's event log (the history's floor comes
/// from recovery, [`crate::RecoveryReport::event_floor`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Per account, the newest event pruned.
    pub account_floors: Vec<(String, u64)>,
}

/// Reads the history for startup: the floors, and every stored event (oldest first), given to
/// `each`. The events are not collected here: `each` keeps at most the retention per account
/// (and drops those past the age, noting that they are gone). Pruning keeps the table near
/// the retention, so this reads about what the server keeps anyway.
pub async fn load<J: Journal>(j: &mut J, each: &mut dyn FnMut(StoredEvent)) -> JResult<Loaded> {
    let account_floors = j.event_floors().await?;
    let mut after = 0;
    loop {
        let page = j.read_events(after, LOAD_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        page.into_iter().for_each(&mut *each);
    }
    Ok(Loaded { account_floors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_events_or_days() {
        assert_eq!("321".parse::<Retention>().unwrap(), Retention { max_events: 321, max_age_ms: None });
        let days: Retention = "30d".parse().unwrap();
        assert_eq!(days, Retention { max_events: MAX_EVENTS_BY_AGE, max_age_ms: Some(30 * DAY_MS) });
        assert_eq!(days.to_string(), "30d");
        for bad in ["0", "0d", "-1", "3.5d", "d", "1w", "", "3651d"] {
            assert!(bad.parse::<Retention>().is_err(), "{bad}");
        }
    }
}
