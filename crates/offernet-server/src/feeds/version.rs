//! A feed's version (its `ETag`) and when this server first saw it (its `Last-Modified`).

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Bumped when the documents' shape changes, so a new build never answers 304 to a copy an
/// older build made of the same state.
const FORMAT_VERSION: u32 = 1;

/// The state a feed shows: the engine's count of applied commands and its last event. Every
/// change of state is an applied command (content edits emit no event, so the event sequence
/// alone would miss them); the event sequence is there because `journal repair` moves it past
/// any number clients saw, while the command count may repeat after a repair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub applied: u64,
    pub last_event: u64,
}

impl Version {
    pub fn etag(self) -> String {
        format!("\"feed{FORMAT_VERSION}-{}-{}\"", self.applied, self.last_event)
    }
}

/// When this server first saw each version, for `Last-Modified`. The engine has no clock, so
/// the time is when a feed read found the state changed: never before the change, at most
/// one poll after it. `ambiguous` marks a version first seen in the same second as the one
/// before it: `If-Modified-Since` cannot tell them apart, so it gets no 304 (an `ETag` can).
#[derive(Default)]
pub struct Clock {
    seen: Mutex<Option<(Version, u64, bool)>>,
}

impl Clock {
    /// The time (whole seconds since the epoch) of `v`, and whether it is ambiguous.
    pub fn modified(&self, v: Version) -> (u64, bool) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match *seen {
            Some((old, at, ambiguous)) if old == v => (at, ambiguous),
            prev => {
                let ambiguous = prev.is_some_and(|(_, at, _)| at >= now);
                *seen = Some((v, now, ambiguous));
                (now, ambiguous)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_keeps_its_time_and_a_second_one_in_the_same_second_is_ambiguous() {
        let clock = Clock::default();
        let (v1, v2) = (Version { applied: 1, last_event: 1 }, Version { applied: 2, last_event: 1 });
        let (t1, ambiguous) = clock.modified(v1);
        assert!(!ambiguous, "the first version seen");
        assert_eq!(clock.modified(v1), (t1, false), "the same version, the same time");
        let (t2, ambiguous) = clock.modified(v2);
        assert!(t2 >= t1);
        assert_eq!(ambiguous, t2 == t1, "ambiguous exactly when seen in the same second");
        assert_ne!(v1.etag(), v2.etag());
    }
}
