//! Events for clients: a bounded in-memory log per account, read by `GET …/events?after=SEQ`
//! (one page) and by `text/event-stream` subscribers (page after page, lazily). Fed by the
//! writer in sequence order.
//!
//! A stream never copies the backlog: it holds a cursor and fetches the next [`STREAM_PAGE`]
//! events only when its body is polled, so a client that does not read costs one page, not
//! the account's whole history. Caught up, it waits on the account's [`Notify`].

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::response::sse::Event as SseEvent;
use futures_util::Stream;
use offernet_core::Event;
use tokio::sync::{watch, Notify};

/// Events a stream takes from the log per fetch: small enough that a stalled stream holds
/// little, large enough that a reading one takes the lock rarely.
pub const STREAM_PAGE: usize = 64;

#[derive(Default)]
struct AccountLog {
    events: VecDeque<Arc<Event>>,
    /// Event streams open for this account (bounded by `max_streams`).
    streams: usize,
    /// Woken on every push for this account.
    notify: Arc<Notify>,
}

#[derive(Default)]
struct Inner {
    per_account: HashMap<Arc<str>, AccountLog>,
    /// Sequence number of the first event this process has seen (events before it, from
    /// before a restart, are not retained).
    first_seq: Option<u64>,
    /// The newest event sequence number known here: the newest pushed, or the engine's at
    /// startup ([`EventLog::start_at`]). Every event up to it is in the log or expired.
    newest: u64,
}

pub struct EventLog {
    inner: Mutex<Inner>,
    retention: usize,
    max_streams: usize,
    /// Streams open over all accounts (a metric).
    pub open_streams: AtomicU64,
}

/// Why a read of past events cannot be answered.
pub struct Gone {
    pub oldest: u64,
}

/// One read of the log.
pub struct Page {
    /// Events with `seq > after`, at most `limit`.
    pub events: Vec<Arc<Event>>,
    /// The sequence number this answer is complete up to: the last event's when the page is
    /// full, else the newest known (so a client that asked beyond it learns where it is).
    pub last_seq: u64,
}

/// An open event stream of one account; closing it (dropping) frees its place.
pub struct StreamSlot {
    log: Arc<EventLog>,
    account: Arc<str>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut inner = self.log.inner.lock().unwrap();
        if let Some(a) = inner.per_account.get_mut(&self.account) {
            a.streams = a.streams.saturating_sub(1);
        }
        self.log.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EventLog {
    pub fn new(retention: usize, max_streams: usize) -> Self {
        EventLog {
            inner: Mutex::new(Inner::default()),
            retention: retention.max(1),
            max_streams,
            open_streams: AtomicU64::new(0),
        }
    }

    /// The engine's event sequence after recovery: nothing newer than it exists yet.
    pub fn start_at(&self, engine_seq: u64) {
        let mut inner = self.inner.lock().unwrap();
        inner.newest = inner.newest.max(engine_seq);
    }

    pub fn push(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let mut inner = self.inner.lock().unwrap();
        inner.first_seq.get_or_insert(events[0].seq);
        for e in events {
            let e = Arc::new(e.clone());
            inner.newest = inner.newest.max(e.seq);
            let a = inner.per_account.entry(e.account.clone()).or_default();
            a.events.push_back(e);
            while a.events.len() > self.retention {
                a.events.pop_front();
            }
            a.notify.notify_waiters();
        }
    }

    /// Events of `account` with `seq > after`, at most `limit`. `Err` when some of the
    /// requested events are no longer retained. `engine_seq`: the engine's newest event
    /// sequence, which may be ahead of the log by the batch being handed over.
    pub fn page(&self, account: &str, after: u64, limit: usize, engine_seq: u64) -> Result<Page, Gone> {
        let inner = self.inner.lock().unwrap();
        let newest = inner.newest.max(engine_seq);
        let first = inner.first_seq.unwrap_or(newest + 1);
        let q = inner.per_account.get(account).map(|a| &a.events);
        // The oldest sequence number from which this account's history is complete here.
        let oldest_complete = match q.and_then(|q| q.front()) {
            Some(front) if q.map(|q| q.len()).unwrap_or(0) >= self.retention => front.seq,
            _ => first,
        };
        if after + 1 < oldest_complete && after < newest {
            return Err(Gone { oldest: oldest_complete });
        }
        let events: Vec<Arc<Event>> = match q {
            None => Vec::new(),
            Some(q) => {
                let start = q.partition_point(|e| e.seq <= after);
                q.range(start..).take(limit).cloned().collect()
            }
        };
        let last_seq = match events.last() {
            Some(e) if events.len() == limit => e.seq,
            // Everything of this account up to the log's newest is in the page.
            _ => inner.newest,
        };
        Ok(Page { events, last_seq })
    }

    /// Takes a stream place for `account`, or `None` when it already has `max_streams`.
    pub fn open_stream(self: &Arc<Self>, account: &str) -> Option<StreamSlot> {
        let mut inner = self.inner.lock().unwrap();
        let account: Arc<str> = match inner.per_account.get_key_value(account) {
            Some((k, _)) => k.clone(),
            None => Arc::from(account),
        };
        let a = inner.per_account.entry(account.clone()).or_default();
        if a.streams >= self.max_streams {
            return None;
        }
        a.streams += 1;
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        Some(StreamSlot { log: self.clone(), account })
    }

    fn notify_of(&self, account: &str) -> Arc<Notify> {
        self.inner.lock().unwrap().per_account.get(account).map(|a| a.notify.clone()).unwrap_or_default()
    }
}

struct Cursor {
    slot: StreamSlot,
    notify: Arc<Notify>,
    /// The last sequence number sent (or skipped as not this account's).
    after: u64,
    page: VecDeque<Arc<Event>>,
    stopping: watch::Receiver<bool>,
    done: bool,
}

/// The event stream of the slot's account from `after`: the retained backlog page by page,
/// then live events, until shutdown starts. A stream that falls out of retention gets a
/// `resume` event with the sequence to resume from, then ends.
pub fn stream(
    slot: StreamSlot,
    after: u64,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let notify = slot.log.notify_of(&slot.account);
    let cursor = Cursor { slot, notify, after, page: VecDeque::new(), stopping, done: false };
    futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if c.done || *c.stopping.borrow() {
                return None;
            }
            if let Some(e) = c.page.pop_front() {
                return Some((Ok(sse(&e)), c));
            }
            // Register for a wake-up before looking, so that a push in between is not missed.
            let notify = c.notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match c.slot.log.page(&c.slot.account, c.after, STREAM_PAGE, 0) {
                Err(_) => {
                    // Fell behind the retention: say where to resume, then end.
                    c.done = true;
                    let ev = SseEvent::default().event("resume").data(format!("{{\"after\":{}}}", c.after));
                    return Some((Ok(ev), c));
                }
                Ok(p) if !p.events.is_empty() => {
                    c.after = p.events.last().map(|e| e.seq).unwrap_or(c.after);
                    c.page = p.events.into();
                }
                Ok(_) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = c.stopping.changed() => return None,
                    }
                }
            }
        }
    })
}

pub fn sse(e: &Event) -> SseEvent {
    SseEvent::default().id(e.seq.to_string()).event(e.body.kind()).data(serde_json::to_string(e).unwrap_or_default())
}

/// For `/metrics` (`offernet_events_retained`).
impl EventLog {
    /// Events held over all accounts.
    pub fn retained(&self) -> u64 {
        self.inner.lock().unwrap().per_account.values().map(|a| a.events.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offernet_core::EventBody;

    fn ev(seq: u64, account: &str) -> Event {
        Event {
            seq,
            account: Arc::from(account),
            body: EventBody::SuggestionDenied {
                marketplace: Arc::from(account),
                seller: "s".into(),
                seller_sku: "k".into(),
            },
        }
    }

    #[test]
    fn pages_say_how_far_they_are_complete() {
        let log = EventLog::new(100, 2);
        log.push(&[ev(1, "m"), ev(2, "x"), ev(3, "m"), ev(4, "m")]);
        let p = log.page("m", 0, 2, 4).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (2, 3), "a full page ends at its last event");
        let p = log.page("m", 3, 10, 4).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (1, 4));
        let p = log.page("m", 1_000, 10, 4).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (0, 4), "beyond the newest: the newest");
        let p = log.page("nobody", 0, 10, 4).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (0, 4));
    }

    #[test]
    fn an_account_has_at_most_max_streams() {
        let log = Arc::new(EventLog::new(100, 2));
        let a = log.open_stream("m").unwrap();
        let _b = log.open_stream("m").unwrap();
        assert!(log.open_stream("m").is_none());
        assert!(log.open_stream("other").is_some(), "per account");
        drop(a);
        assert!(log.open_stream("m").is_some(), "a closed stream frees its place");
    }
}
