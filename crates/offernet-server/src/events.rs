//! Events for clients: a bounded in-memory log per account (for `?after=SEQ`) and a broadcast
//! for live `text/event-stream` subscribers. Fed by the writer in sequence order.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use offernet_core::Event;
use tokio::sync::broadcast;

/// Live subscribers that fall this far behind are told to resume from their last sequence.
const BROADCAST_CAPACITY: usize = 65_536;

pub struct EventLog {
    per_account: Mutex<HashMap<Arc<str>, VecDeque<Arc<Event>>>>,
    retention: usize,
    live: broadcast::Sender<Arc<Event>>,
    /// Sequence number of the first event this process has seen (events before it, from
    /// before a restart, are not retained).
    first_seq: Mutex<Option<u64>>,
}

/// Why a read of past events cannot be answered.
pub struct Gone {
    pub oldest: u64,
}

impl EventLog {
    pub fn new(retention: usize) -> Self {
        EventLog {
            per_account: Mutex::new(HashMap::new()),
            retention: retention.max(1),
            live: broadcast::channel(BROADCAST_CAPACITY).0,
            first_seq: Mutex::new(None),
        }
    }

    pub fn push(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        self.first_seq.lock().unwrap().get_or_insert(events[0].seq);
        let mut map = self.per_account.lock().unwrap();
        for e in events {
            let e = Arc::new(e.clone());
            let q = map.entry(e.account.clone()).or_default();
            q.push_back(e.clone());
            while q.len() > self.retention {
                q.pop_front();
            }
            let _ = self.live.send(e);
        }
    }

    /// Events of `account` with `seq > after`, at most `limit`. `Err` when some of the
    /// requested events are no longer retained.
    pub fn after(&self, account: &str, after: u64, limit: usize, engine_seq: u64) -> Result<Vec<Arc<Event>>, Gone> {
        let first = self.first_seq.lock().unwrap().unwrap_or(engine_seq + 1);
        let map = self.per_account.lock().unwrap();
        let q = map.get(account);
        // The oldest sequence number from which this account's history is complete here.
        let oldest_complete = match q.and_then(|q| q.front()) {
            Some(front) if q.map(|q| q.len()).unwrap_or(0) >= self.retention => front.seq,
            _ => first,
        };
        if after + 1 < oldest_complete && after < engine_seq {
            return Err(Gone { oldest: oldest_complete });
        }
        Ok(match q {
            None => Vec::new(),
            Some(q) => {
                let start = q.partition_point(|e| e.seq <= after);
                q.iter().skip(start).take(limit).cloned().collect()
            }
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.live.subscribe()
    }
}
