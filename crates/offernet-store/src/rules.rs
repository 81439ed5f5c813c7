//! Journals and the engine's rules version (`offernet_core::RULES_VERSION`).
//!
//! Replay is deterministic only under the rules each command was accepted under: a cancel
//! accepted by an older build may be refused now (rule 34), and replaying it would silently
//! change what clients were told. A journal therefore records in its `meta` table the rules
//! version it is written under (`rules_version`) and, after an upgrade, the snapshot the new
//! rules start from (`rules_from_seq`). Entries at or before that snapshot are never replayed
//! by this build: startup loads a snapshot at or after it, and `verify` starts there.

use offernet_core::{EngineConfig, RULES_VERSION};

use crate::journal::{JResult, Journal, JournalError};

/// The `meta` key of the rules version the journal is written under.
pub const RULES_VERSION_KEY: &str = "rules_version";
/// The `meta` key of the snapshot sequence number the journal's current rules start from.
pub const RULES_FROM_KEY: &str = "rules_from_seq";

fn parse(key: &str, v: Option<String>) -> JResult<Option<u64>> {
    v.map(|v| v.parse::<u64>().map_err(|_| JournalError::Incompatible(format!("meta `{key}` is not a number: {v:?}"))))
        .transpose()
}

/// The sequence number of the snapshot this build's rules start from (0: from the start), as
/// recorded by the upgrade.
pub async fn rules_from_seq<J: Journal>(j: &mut J) -> JResult<u64> {
    Ok(parse(RULES_FROM_KEY, j.meta(RULES_FROM_KEY).await?)?.unwrap_or(0))
}

/// An empty journal without a recorded version gets this build's: everything written to it
/// from now on is accepted under these rules.
pub async fn stamp_if_new<J: Journal>(j: &mut J) -> JResult<()> {
    if j.meta(RULES_VERSION_KEY).await?.is_none() && j.last().await?.seq == 0 {
        j.set_meta(RULES_VERSION_KEY, &RULES_VERSION.to_string()).await?;
    }
    Ok(())
}

/// Where a journal stands with this build's rules.
enum Standing {
    /// Written under these rules (or empty and new).
    Current { new: bool },
    /// Written under older rules `from`; every stored entry is covered by the valid snapshot
    /// at `snapshot` (0: there are no entries), so nothing of the older rules needs replaying.
    Upgradable { from: u64, snapshot: u64 },
}

async fn standing<J: Journal>(j: &mut J, config: EngineConfig) -> JResult<Standing> {
    let stored = parse(RULES_VERSION_KEY, j.meta(RULES_VERSION_KEY).await?)?;
    let current = u64::from(RULES_VERSION);
    let last = j.last().await?.seq;
    let from = match stored {
        Some(v) if v == current => return Ok(Standing::Current { new: false }),
        Some(v) if v > current => {
            return Err(JournalError::Incompatible(format!(
                "this journal is written under rules version {v}, by a newer offernet; this build follows version {current}: start the newer build"
            )))
        }
        Some(v) => v,
        None if last == 0 => return Ok(Standing::Current { new: true }),
        // Journals from before the version was recorded were written under version 1.
        None => 1,
    };
    let mut snapshot = 0;
    for meta in j.snapshots().await? {
        if crate::replay::valid_snapshot(j, &meta, config).await? {
            snapshot = meta.seq;
            break;
        }
    }
    if let Some(after) = j.read_after(snapshot, 1).await?.first() {
        return Err(JournalError::Incompatible(format!(
            "this journal's entries {}..={last} come after its newest valid snapshot ({snapshot}) and were accepted under \
             rules version {from}; this build follows version {current} (2 changed cancels, order statuses and input checks; 3 the \
             warehouse order of order lines and when new suggestions are matched), \
             so replaying them could change what they did. Start the build that wrote them, make one write (any PUT), and \
             stop it with SIGTERM: it then writes a snapshot of everything. Then start this build",
            after.seq
        )));
    }
    Ok(Standing::Upgradable { from, snapshot })
}

/// Run before a writer opens the journal. A new journal, or one written under these rules,
/// passes. One written under older rules (a journal with no `rules_version` was written by
/// version 1) is upgraded only when its newest valid snapshot covers every stored entry: then
/// nothing of the older rules is ever replayed. Otherwise it is refused, saying how to upgrade
/// safely. A journal of newer rules is refused.
pub async fn check_rules<J: Journal>(j: &mut J, config: EngineConfig) -> JResult<()> {
    let current = RULES_VERSION.to_string();
    match standing(j, config).await? {
        Standing::Current { new: false } => {}
        Standing::Current { new: true } => j.set_meta(RULES_VERSION_KEY, &current).await?,
        Standing::Upgradable { from, snapshot } => {
            // `rules_from_seq` first: a crash between the two writes leaves the old version,
            // and the next start upgrades again.
            j.set_meta(RULES_FROM_KEY, &snapshot.to_string()).await?;
            j.set_meta(RULES_VERSION_KEY, &current).await?;
            tracing::info!(from, to = RULES_VERSION, snapshot, "journal upgraded to this build's rules");
        }
    }
    Ok(())
}

/// For `verify`, `compact` and `repair`, which change nothing about the rules: the snapshot
/// this build's rules start from (as `check_rules` would record it), or the same refusal.
pub async fn rules_start<J: Journal>(j: &mut J, config: EngineConfig) -> JResult<u64> {
    match standing(j, config).await? {
        Standing::Current { new: false } => rules_from_seq(j).await,
        Standing::Current { new: true } => Ok(0),
        Standing::Upgradable { snapshot, .. } => Ok(snapshot),
    }
}
