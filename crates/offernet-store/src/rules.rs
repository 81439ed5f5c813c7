//! Journals and the engine's rules version (`offernet_core::RULES_VERSION`).
//!
//! Replay is deterministic only under the rules each command was accepted under: a cancel
//! accepted by an older build may be refused now (rule 34), and replaying it would silently
//! change what clients were told. A journal therefore records in its `meta` table the rules
//! version it is written under (`rules_version`) and, after an upgrade, the snapshot the new
//! rules start from (`rules_from_seq`). Entries at or before that snapshot are never replayed
//! by this build: startup loads a snapshot at or after it, and `verify` starts there.

use offernet_core::RULES_VERSION;

use crate::journal::{JResult, Journal, JournalError};

/// The `meta` key of the rules version the journal is written under.
pub const RULES_VERSION_KEY: &str = "rules_version";
/// The `meta` key of the snapshot sequence number the journal's current rules start from.
pub const RULES_FROM_KEY: &str = "rules_from_seq";

fn parse(key: &str, v: Option<String>) -> JResult<Option<u64>> {
    v.map(|v| v.parse::<u64>().map_err(|_| JournalError::Incompatible(format!("meta `{key}` is not a number: {v:?}"))))
        .transpose()
}

/// The sequence number of the snapshot this build's rules start from (0: from the start).
pub async fn rules_from_seq<J: Journal>(j: &mut J) -> JResult<u64> {
    Ok(parse(RULES_FROM_KEY, j.meta(RULES_FROM_KEY).await?)?.unwrap_or(0))
}

/// Run before a writer opens the journal. A new journal, or one written under these rules,
/// passes. One written under older rules (a journal with no `rules_version` was written by
/// version 1) is upgraded only when its newest snapshot covers every entry: then nothing of
/// the older rules is ever replayed. Otherwise it is refused, saying how to upgrade safely.
/// A journal of newer rules is refused.
pub async fn check_rules<J: Journal>(j: &mut J) -> JResult<()> {
    let stored = parse(RULES_VERSION_KEY, j.meta(RULES_VERSION_KEY).await?)?;
    let (last, _) = j.last().await?;
    let current = u64::from(RULES_VERSION);
    let stored = match stored {
        Some(v) => v,
        None if last == 0 => {
            j.set_meta(RULES_VERSION_KEY, &current.to_string()).await?;
            return Ok(());
        }
        None => 1,
    };
    if stored == current {
        return Ok(());
    }
    if stored > current {
        return Err(JournalError::Incompatible(format!(
            "this journal is written under rules version {stored}, by a newer offernet; this build follows version {current}: start the newer build"
        )));
    }
    let newest = j.snapshots().await?.first().map_or(0, |s| s.seq);
    if newest < last {
        return Err(JournalError::Incompatible(format!(
            "this journal's entries {}..={last} were accepted under rules version {stored}, and this build follows version {current} \
             (cancels, order statuses and input checks changed): replaying them could change what they did. Start the build that \
             wrote them and stop it with SIGTERM (it writes a snapshot of everything), then start this one",
            newest + 1
        )));
    }
    j.set_meta(RULES_FROM_KEY, &newest.to_string()).await?;
    j.set_meta(RULES_VERSION_KEY, &current.to_string()).await?;
    tracing::info!(from = stored, to = current, snapshot = newest, "journal upgraded to this build's rules");
    Ok(())
}
