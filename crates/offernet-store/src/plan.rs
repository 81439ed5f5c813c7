//! The repair plan: what startup found when it refused to start, and what
//! `offernet journal repair --accept-loss` would do about it (built by `diagnosis.rs`, carried by
//! `JournalError::NeedsRepair`, carried out by `repair.rs`).

/// Stored entries `first..=last`, `count` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRange {
    pub first: u64,
    pub last: u64,
    pub count: u64,
}

/// What startup found, and what repair would do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairPlan {
    /// What was found, in words, with sequence numbers, batch and why.
    pub found: String,
    /// The last entry that replays whole: the state after a repair is the state at this entry.
    pub applied: u64,
    /// The stored entries after `applied` that would be moved.
    pub quarantine: Option<EntryRange>,
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
            Some(EntryRange { first, last, count }) => format!(
                "move entries {first}..={last} ({count} entries) to the quarantine table (kept, readable, never replayed), "
            ),
            None => "move nothing (no entry after it is stored), ".to_string(),
        };
        format!(
            "`offernet journal repair --accept-loss` would {moved}keep the state as of entry {}, and continue at \
             entry {} so that no sequence number is reused{}",
            self.applied,
            self.floor + 1,
            // Numbers above everything stored (named by the high-water mark) are skipped too.
            match self.quarantine.map_or(self.applied, |q| q.last) {
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
