//! Redelivery (`POST …/webhooks/{id}/redeliver`): a subscription's pending replay of a range
//! of events, stored in the outbound tables (`Outbox::set_replay`, two progress rows) before
//! the request is answered and moved on after every event, so a kill -9 resumes it where it
//! was. The delivery loop (`webhooks.rs`) sends one page of it between pages of live events.
//! Every change happens under the outbox's lock, so the route and the loop never race.

use std::collections::BTreeMap;
use std::sync::Mutex;

use offernet_store::{JournalError, Outbox, Replay};
use tokio::sync::Notify;

/// The most sequence numbers one redelivery spans (a request, or pending ones merged): its
/// events go to one receiver one at a time, and live events wait for its pages in between.
pub const MAX_REDELIVER_SEQS: u64 = 10_000;

/// A pending redelivery and the number of its last change (a loop that read an older one
/// drops what it was doing with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub replay: Replay,
    pub generation: u64,
}

/// Why a redelivery was not queued.
#[derive(Debug)]
pub enum Refusal {
    /// Another one is pending that the new range neither overlaps nor touches.
    Busy(Replay),
    /// Merged with the pending one it would span more than `MAX_REDELIVER_SEQS`.
    TooLong(Replay),
    Store(JournalError),
}

/// Every subscription's pending redelivery (by consumer name), as stored.
#[derive(Default)]
pub struct Replays {
    pending: Mutex<BTreeMap<String, Pending>>,
    generation: std::sync::atomic::AtomicU64,
    /// Woken when one is queued (delivery loops wait on it beside their account's events).
    pub wake: Notify,
}

impl Replays {
    /// The stored ones, at startup.
    pub fn load(&self, stored: Vec<(String, Replay)>) {
        let mut p = self.pending.lock().unwrap();
        for (consumer, replay) in stored {
            p.insert(consumer, Pending { replay, generation: self.next() });
        }
    }

    fn next(&self) -> u64 {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    pub fn get(&self, consumer: &str) -> Option<Pending> {
        self.pending.lock().unwrap().get(consumer).copied()
    }

    /// Consumers with a pending redelivery.
    pub fn consumers(&self) -> Vec<String> {
        self.pending.lock().unwrap().keys().cloned().collect()
    }

    /// Queues events `from..=to` (`from >= 1`) for `consumer`: stored, then woken. A pending
    /// range it overlaps or touches grows to cover both; the answer is what is pending now.
    pub async fn queue(
        &self,
        outbox: &tokio::sync::Mutex<Outbox>,
        consumer: &str,
        from: u64,
        to: u64,
    ) -> Result<Replay, Refusal> {
        let mut o = outbox.lock().await;
        let want = match self.get(consumer) {
            None => Replay { done: from - 1, last: to },
            Some(p) => {
                let (first, last) = (p.replay.done + 1, p.replay.last);
                if from > last.saturating_add(1) || to.saturating_add(1) < first {
                    return Err(Refusal::Busy(p.replay));
                }
                let merged = Replay { done: first.min(from) - 1, last: last.max(to) };
                if merged.last - merged.done > MAX_REDELIVER_SEQS {
                    return Err(Refusal::TooLong(merged));
                }
                merged
            }
        };
        o.set_replay(consumer, want).await.map_err(Refusal::Store)?;
        let generation = self.next();
        self.pending.lock().unwrap().insert(consumer.to_string(), Pending { replay: want, generation });
        drop(o);
        self.wake.notify_waiters();
        Ok(want)
    }

    /// The loop sent (or gave up) every event of `consumer`'s redelivery up to `done`: stored,
    /// and ended when that is its last. Nothing when it changed since the loop read it
    /// (`generation`); answers whether it did anything.
    pub async fn advance(
        &self,
        outbox: &tokio::sync::Mutex<Outbox>,
        consumer: &str,
        generation: u64,
        done: u64,
    ) -> Result<bool, JournalError> {
        let mut o = outbox.lock().await;
        let Some(p) = self.get(consumer).filter(|p| p.generation == generation) else { return Ok(false) };
        if done >= p.replay.last {
            o.end_replay(consumer).await?;
            self.pending.lock().unwrap().remove(consumer);
        } else if done > p.replay.done {
            let replay = Replay { done, last: p.replay.last };
            o.set_replay(consumer, replay).await?;
            self.pending.lock().unwrap().insert(consumer.to_string(), Pending { replay, generation });
        }
        Ok(true)
    }

    /// A deleted subscription's (its rows go with `Outbox::forget`).
    pub fn forget(&self, consumer: &str) {
        self.pending.lock().unwrap().remove(consumer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queueing joins overlapping or touching ranges, refuses a separate one and one too long
    /// together; `advance` stores progress, ends the redelivery at its last event, and does
    /// nothing for a loop that read an older version; all of it is read back from the tables.
    #[tokio::test]
    async fn ranges_join_refuse_advance_and_are_stored() {
        let dir = std::env::temp_dir().join(format!("offernet-hooks-replay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        offernet_store::datadir::create_dir(&dir).unwrap();
        let journal = offernet_store::SqliteJournal::open(&dir.join(offernet_store::JOURNAL_FILE)).await.unwrap();
        let outbox = tokio::sync::Mutex::new(Outbox::open(None, &dir).await.unwrap());
        let r = Replays::default();
        let c = "webhook:a/w";
        assert_eq!(r.queue(&outbox, c, 10, 20).await.unwrap(), Replay { done: 9, last: 20 });
        assert_eq!(r.queue(&outbox, c, 21, 25).await.unwrap(), Replay { done: 9, last: 25 }, "touching joins");
        assert_eq!(r.queue(&outbox, c, 5, 12).await.unwrap(), Replay { done: 4, last: 25 }, "overlapping joins");
        assert!(matches!(r.queue(&outbox, c, 27, 30).await, Err(Refusal::Busy(_))), "a gap is refused");
        let far = 4 + MAX_REDELIVER_SEQS;
        assert!(matches!(r.queue(&outbox, c, 25, far + 1).await, Err(Refusal::TooLong(_))));
        assert_eq!(r.queue(&outbox, c, 25, far).await.unwrap(), Replay { done: 4, last: far }, "exactly the limit");
        let p = r.get(c).unwrap();
        assert!(r.advance(&outbox, c, p.generation, 7).await.unwrap());
        assert!(!r.advance(&outbox, c, p.generation - 1, 9).await.unwrap(), "an older read does nothing");
        let stored = outbox.lock().await.replays().await.unwrap();
        assert_eq!(stored, [(c.to_string(), Replay { done: 7, last: far })]);
        // A restart reads it back; the last event ends it.
        let again = Replays::default();
        again.load(stored);
        let p = again.get(c).unwrap();
        assert!(again.advance(&outbox, c, p.generation, far).await.unwrap());
        assert!(again.get(c).is_none() && outbox.lock().await.replays().await.unwrap().is_empty());
        drop(outbox);
        drop(journal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
