//! The journal: what every backend stores, and the format of its entries.

use std::future::Future;

use offernet_core::Command;

pub use crate::error::{JResult, JournalError};

/// The format of the command JSON written now. Old entries carry the version they were
/// written with and are read through [`decode_command`], so the command format can evolve
/// without breaking old journals (`tests/fixtures/journal-v1.sql` is a journal of format 1).
pub const COMMAND_FORMAT: i64 = 1;

/// One journaled command. Every command the writer accepted is journaled, including those the
/// engine refuses: the engine is deterministic, so replay refuses them again, and journaling
/// before applying is what lets the engine apply a batch only after its commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the journal: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// The command's time (ms since the Unix epoch), the only clock the engine sees.
    pub at_ms: u64,
    pub command: Command,
}

/// Now, in ms since the Unix epoch: the time the writer gives a batch's commands.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A stored entry as read back, before decoding.
#[derive(Clone, Debug)]
pub struct RawEntry {
    pub seq: u64,
    pub batch: u64,
    pub batch_size: u64,
    pub format: i64,
    pub at_ms: u64,
    /// The JSON; empty when it was not read (`json` false).
    pub command: String,
    /// Whether the JSON was read: [`Journal::read_for_replay`] leaves it out of entries with a
    /// binary form (which has its own checksum).
    pub json: bool,
    /// The CRC-32 of the JSON.
    pub crc: u32,
    /// The binary form (`binary.rs`, checksummed itself), when the command's kind has one.
    pub bin: Option<Vec<u8>>,
}

/// The highest sequence number and batch number ever used (see [`Journal::last`]): the next
/// entry is `seq + 1`, in batch `batch + 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalEnd {
    pub seq: u64,
    pub batch: u64,
}

/// One event as the durable history keeps it (table `events`): its sequence number, the
/// account it is for, the time of the command that made it, and its JSON exactly as
/// `GET …/events` shows it (so a read after a restart answers the same bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub account: String,
    pub at_ms: u64,
    pub json: String,
}

/// One bounded step of pruning the durable event history (see `history.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PruneStep {
    /// Delete at most `chunk` of `account`'s events older than its newest `keep`.
    Account { account: String, keep: u64, chunk: u64 },
    /// Delete at most `chunk` of the oldest events made before `before_ms`, never the newest
    /// event of all (it says where the history ends).
    Age { before_ms: u64, chunk: u64 },
}

/// Metadata of a stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The journal sequence number it covers (entries 1..=seq applied).
    pub seq: u64,
    pub format: u32,
    pub size: u64,
    pub crc: u32,
}

/// Reads a command written in any format this build knows.
pub fn decode_command(format: i64, json: &str) -> Result<Command, String> {
    match format {
        // Format 1: `Command` serialized by serde_json, tagged by `type`.
        1 => serde_json::from_str(json).map_err(|e| format!("format 1 command: {e}")),
        f if f > COMMAND_FORMAT => Err(format!("command format {f} was written by a newer offernet")),
        f => Err(format!("unknown command format {f}")),
    }
}

pub fn encode_command(cmd: &Command) -> String {
    serde_json::to_string(cmd).expect("commands always serialize")
}

/// A command's stored forms: its JSON (format [`COMMAND_FORMAT`]) with the JSON's CRC-32, and
/// its binary form where its kind has one (`binary.rs`). The writer's callers make it before
/// the command is queued (`WriterHandle::submit`), so the writer task only binds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub json: String,
    pub crc: u32,
    pub bin: Option<Vec<u8>>,
}

impl Encoded {
    pub fn new(cmd: &Command) -> Encoded {
        let json = encode_command(cmd);
        let crc = crate::crc::crc32(json.as_bytes());
        Encoded { json, crc, bin: crate::binary::encode(cmd) }
    }
}

/// A repair done by `offernet journal repair --accept-loss`: the entries `first_seq..` that
/// were moved to the quarantine table, and the floor: every sequence number up to `floor` is
/// used for good (quarantined, or acknowledged once per the high-water mark), so the next entry
/// is at least `floor + 1`. Replay skips the gap `first_seq..=floor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    pub id: u64,
    pub at_ms: u64,
    /// The first sequence number that is no longer in the journal.
    pub first_seq: u64,
    /// The highest sequence number ever used when the repair was made.
    pub floor: u64,
    /// The highest batch number ever used when the repair was made.
    pub floor_batch: u64,
    /// Entries moved to the quarantine table.
    pub quarantined: u64,
    pub reason: String,
}

/// The sequence number replay expects after the repairs' gaps: `seq` itself unless a repair's
/// gap covers it, else the first one after that gap (repeatedly).
pub fn skip_gaps(repairs: &[Repair], mut seq: u64) -> u64 {
    while let Some(r) = repairs.iter().find(|r| r.first_seq <= seq && seq <= r.floor) {
        seq = r.floor + 1;
    }
    seq
}

/// What a journal backend does. One durable transaction per `append_batch`.
pub trait Journal: Send + 'static {
    /// A value of the journal's `meta` table (its settings: `max_chain`, `rules_version`, …).
    fn meta(&mut self, key: &str) -> impl Future<Output = JResult<Option<String>>> + Send;
    /// Sets a value of the journal's `meta` table (durable when it returns).
    fn set_meta(&mut self, key: &str, value: &str) -> impl Future<Output = JResult<()>> + Send;
    /// Appends one batch in one transaction, with `events` (those of earlier batches not yet
    /// in the durable history, inserted unless already there); durable when it returns `Ok`.
    fn append_batch(
        &mut self,
        batch: u64,
        entries: &[Entry],
        events: &[StoredEvent],
    ) -> impl Future<Output = JResult<()>> + Send;
    /// [`Journal::append_batch`] with each entry's stored forms already made (`encoded[i]` is
    /// `entries[i]`'s): the writer's path, so that encoding happens before the queue. A journal
    /// that wraps another (a test double) may leave it to `append_batch`, which encodes again.
    fn append_encoded(
        &mut self,
        batch: u64,
        entries: &[Entry],
        encoded: &[Encoded],
        events: &[StoredEvent],
    ) -> impl Future<Output = JResult<()>> + Send {
        let _ = encoded;
        self.append_batch(batch, entries, events)
    }
    /// Inserts events into the durable history in one transaction; an event whose sequence
    /// number is already there is left as it is (replay regenerates the same events).
    fn insert_events(&mut self, events: &[StoredEvent]) -> impl Future<Output = JResult<()>> + Send;
    /// Stored events with `seq > after`, in order, at most `limit`.
    fn read_events(&mut self, after: u64, limit: u64) -> impl Future<Output = JResult<Vec<StoredEvent>>> + Send;
    /// The newest stored event's sequence number (0 when none).
    fn last_event_seq(&mut self) -> impl Future<Output = JResult<u64>> + Send;
    /// The accounts whose older events were pruned, each with the newest sequence number pruned.
    fn event_floors(&mut self) -> impl Future<Output = JResult<Vec<(String, u64)>>> + Send;
    /// The first account after `after` (by name) that has stored events, if any.
    fn next_event_account(&mut self, after: &str) -> impl Future<Output = JResult<Option<String>>> + Send;
    /// One bounded pruning step in one transaction, recording each account's new floor;
    /// returns the events deleted.
    fn prune_events(&mut self, step: &PruneStep) -> impl Future<Output = JResult<u64>> + Send;
    /// Entries with `seq > after`, in order, at most `limit`.
    fn read_after(&mut self, after: u64, limit: u64) -> impl Future<Output = JResult<Vec<RawEntry>>> + Send;
    /// [`Self::read_after`] for replay: the JSON of an entry that has a binary form may be left
    /// out (`json` false, `command` empty), so that replay reads only the few bytes it decodes.
    fn read_for_replay(&mut self, after: u64, limit: u64) -> impl Future<Output = JResult<Vec<RawEntry>>> + Send {
        self.read_after(after, limit)
    }
    /// The highest sequence number and batch number ever used (0, 0 when empty): the stored
    /// entries, snapshots (after compaction) and repair floors.
    fn last(&mut self) -> impl Future<Output = JResult<JournalEnd>> + Send;
    /// The first sequence number still stored (after compaction), or `None` when empty.
    fn first_seq(&mut self) -> impl Future<Output = JResult<Option<u64>>> + Send;
    /// In one transaction: moves the entries with `seq >= repair.first_seq` to the quarantine
    /// table (kept, readable, never replayed), records `repair`, and appends `then` (if any) as
    /// batch `then_batch`. Returns the entries moved.
    fn quarantine(
        &mut self,
        repair: &Repair,
        then: &[Entry],
        then_batch: u64,
    ) -> impl Future<Output = JResult<u64>> + Send;
    /// The repairs made so far, oldest first.
    fn repairs(&mut self) -> impl Future<Output = JResult<Vec<Repair>>> + Send;
    /// Closes the connection and opens it again (retaking the writer lease where there is one).
    fn reopen(&mut self) -> impl Future<Output = JResult<()>> + Send;
    /// A cheap round trip: fails when the connection (and with it the lease) is gone.
    fn ping(&mut self) -> impl Future<Output = JResult<()>> + Send;
    /// The high-water mark file that goes with this journal (in the data directory), if any.
    fn high_water_mark_file(&self) -> Option<std::path::PathBuf>;
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> impl Future<Output = JResult<()>> + Send;
    /// Stored snapshots, newest first.
    fn snapshots(&mut self) -> impl Future<Output = JResult<Vec<SnapshotMeta>>> + Send;
    fn load_snapshot(&mut self, seq: u64) -> impl Future<Output = JResult<Vec<u8>>> + Send;
    /// Deletes entries with `seq <= upto` and snapshots older than `upto`.
    fn compact(&mut self, upto: u64) -> impl Future<Output = JResult<u64>> + Send;
}

/// The `max_chain` this journal was written with, recorded at first open: offers depend on it,
/// so opening with another value is refused.
pub async fn check_max_chain<J: Journal>(j: &mut J, max_chain: u8) -> JResult<()> {
    match j.meta("max_chain").await? {
        None => j.set_meta("max_chain", &max_chain.to_string()).await,
        Some(v) if v == max_chain.to_string() => Ok(()),
        Some(v) => Err(JournalError::Incompatible(format!(
            "this journal was written with max_chain {v}; start with --max-chain {v} (offers depend on it)"
        ))),
    }
}

/// Inside `impl Journal for` a type that wraps another journal in its field `$inner` (a test
/// double that injects faults): the durable event history's methods, delegated as they are.
#[macro_export]
macro_rules! delegate_event_history {
    ($inner:ident) => {
        async fn insert_events(&mut self, events: &[$crate::StoredEvent]) -> $crate::journal::JResult<()> {
            self.$inner.insert_events(events).await
        }
        async fn read_events(&mut self, after: u64, limit: u64) -> $crate::journal::JResult<Vec<$crate::StoredEvent>> {
            self.$inner.read_events(after, limit).await
        }
        async fn last_event_seq(&mut self) -> $crate::journal::JResult<u64> {
            self.$inner.last_event_seq().await
        }
        async fn event_floors(&mut self) -> $crate::journal::JResult<Vec<(String, u64)>> {
            self.$inner.event_floors().await
        }
        async fn next_event_account(&mut self, after: &str) -> $crate::journal::JResult<Option<String>> {
            self.$inner.next_event_account(after).await
        }
        async fn prune_events(&mut self, step: &$crate::PruneStep) -> $crate::journal::JResult<u64> {
            self.$inner.prune_events(step).await
        }
    };
}
