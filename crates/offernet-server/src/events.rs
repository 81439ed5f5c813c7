//! Events for clients: a bounded in-memory log per account, read by `GET …/events?after=SEQ`
//! (one page) and by `text/event-stream` subscribers (page after page, lazily). Fed by the
//! writer in sequence order, and at startup from the durable history (`offernet_store::history`)
//! and the events of the replayed commands, so a read after a restart or a crash answers the
//! same events as before it.
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
use offernet_store::{Retention, StoredEvent};
use tokio::sync::{watch, Notify};

/// Events a stream takes from the log per fetch: small enough that a stalled stream holds
/// little, large enough that a reading one takes the lock rarely.
pub const STREAM_PAGE: usize = 64;

/// Events of all accounts kept in order for the NATS publisher ([`EventLog::page_all`]); one
/// that falls further behind reads the durable history instead. Pointers to the events the
/// accounts' logs hold (at most 512 KiB of pointers, plus the events the accounts dropped).
pub const FEED_EVENTS: usize = 65_536;

/// An event with the time of its command (retention by age counts from it).
struct Held {
    at_ms: u64,
    event: Arc<Event>,
}

#[derive(Default)]
struct AccountLog {
    events: VecDeque<Held>,
    /// The newest of this account's events no longer held (expired by the retention, here or
    /// in the durable history before a restart): a read from before it answers 410.
    dropped_upto: u64,
    /// Event streams open for this account (bounded by `max_streams`).
    streams: usize,
    /// Woken on every push for this account.
    notify: Arc<Notify>,
}

#[derive(Default)]
struct Inner {
    per_account: HashMap<Arc<str>, AccountLog>,
    /// Every event after this is held or was dropped by an account's retention: the durable
    /// history's floor (events before a journal's first start with a history were not kept).
    floor: u64,
    /// The head: the newest event sequence number that exists (pushed, loaded, or the floor).
    /// Never the engine's counter, which a repair's `SkipEventSeq` moves past any event.
    newest: u64,
    /// The newest events of all accounts, in order, with the time of their command (at most
    /// [`FEED_EVENTS`]), and the newest one no longer in it.
    feed: VecDeque<(u64, Arc<Event>)>,
    feed_dropped: u64,
}

pub struct EventLog {
    inner: Mutex<Inner>,
    /// Woken on every push (the NATS publisher waits on it).
    all: Arc<Notify>,
    retention: Retention,
    max_streams: usize,
    /// Streams open over all accounts (a metric).
    pub open_streams: AtomicU64,
}

/// Why a read of past events cannot be answered: some after the asked sequence number are no
/// longer kept. Reading again with `after = resume_after` misses nothing else.
pub struct Gone {
    pub resume_after: u64,
}

/// One read of the log.
pub struct Page {
    /// Events with `seq > after`, at most `limit`.
    pub events: Vec<Arc<Event>>,
    /// The sequence number this answer is complete up to: the last event's when the page is
    /// full, else the head (so a client that asked beyond it learns where it is).
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

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl EventLog {
    pub fn new(retention: Retention, max_streams: usize) -> Self {
        EventLog {
            inner: Mutex::new(Inner::default()),
            all: Arc::default(),
            retention,
            max_streams,
            open_streams: AtomicU64::new(0),
        }
    }

    /// At startup: the durable history's floor and each account's pruning floor.
    pub fn set_floors(&self, floor: u64, account_floors: &[(String, u64)]) {
        let mut inner = self.inner.lock().unwrap();
        inner.floor = inner.floor.max(floor);
        inner.newest = inner.newest.max(floor);
        for (account, upto) in account_floors {
            let a = inner.per_account.entry(Arc::from(account.as_str())).or_default();
            a.dropped_upto = a.dropped_upto.max(*upto);
        }
    }

    /// At startup: one event of the durable history. One that does not read back (written by
    /// a build with other event shapes) is counted as dropped, so a read across it answers 410
    /// rather than skip it silently.
    pub fn load(&self, stored: StoredEvent) {
        match serde_json::from_str::<Event>(&stored.json) {
            Ok(e) => self.push(stored.at_ms, std::slice::from_ref(&e)),
            Err(err) => {
                tracing::warn!(seq = stored.seq, error = %err, "a stored event does not read back; skipped");
                let mut inner = self.inner.lock().unwrap();
                inner.newest = inner.newest.max(stored.seq);
                let a = inner.per_account.entry(Arc::from(stored.account.as_str())).or_default();
                a.dropped_upto = a.dropped_upto.max(stored.seq);
            }
        }
    }

    /// The events of one command, in order. Events already held (the replay at startup
    /// regenerates those the history had) are skipped.
    pub fn push(&self, at_ms: u64, events: &[Event]) {
        let mut inner = self.inner.lock().unwrap();
        let cutoff = self.retention.cutoff_ms(now_ms()).unwrap_or(0);
        for e in events {
            if e.seq <= inner.newest {
                continue;
            }
            inner.newest = e.seq;
            let event = Arc::new(e.clone());
            if inner.feed.len() >= FEED_EVENTS {
                if let Some((_, old)) = inner.feed.pop_front() {
                    inner.feed_dropped = old.seq;
                }
            }
            inner.feed.push_back((at_ms, event.clone()));
            let a = inner.per_account.entry(e.account.clone()).or_default();
            a.events.push_back(Held { at_ms, event });
            expire(a, self.retention.max_events, cutoff);
            a.notify.notify_waiters();
        }
        self.all.notify_waiters();
    }

    /// The head: the newest event sequence number that exists (0 when none). `after=now`
    /// reads from it.
    pub fn head(&self) -> u64 {
        self.inner.lock().unwrap().newest
    }

    /// Events of `account` with `seq > after`, at most `limit`. `Err` when some of the
    /// requested events are no longer retained.
    pub fn page(&self, account: &str, after: u64, limit: usize) -> Result<Page, Gone> {
        let mut inner = self.inner.lock().unwrap();
        let (floor, newest) = (inner.floor, inner.newest);
        let cutoff = self.retention.cutoff_ms(now_ms()).unwrap_or(0);
        let a = inner.per_account.get_mut(account);
        let dropped = match a {
            Some(a) => {
                expire(a, self.retention.max_events, cutoff);
                a.dropped_upto
            }
            None => 0,
        };
        let resume_after = floor.max(dropped);
        if after < resume_after {
            return Err(Gone { resume_after });
        }
        let events: Vec<Arc<Event>> = match inner.per_account.get(account) {
            None => Vec::new(),
            Some(a) => {
                let start = a.events.partition_point(|h| h.event.seq <= after);
                a.events.range(start..).take(limit).map(|h| h.event.clone()).collect()
            }
        };
        let last_seq = match events.last() {
            Some(e) if events.len() == limit => e.seq,
            // Everything of this account up to the head is in the page.
            _ => newest,
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

    /// The account's wake-up, notified on every push of one of its events.
    /// (Made for an account with no event yet, so that its first event wakes the waiter.)
    pub fn notify_of(&self, account: &str) -> Arc<Notify> {
        let mut inner = self.inner.lock().unwrap();
        if let Some(a) = inner.per_account.get(account) {
            return a.notify.clone();
        }
        inner.per_account.entry(Arc::from(account)).or_default().notify.clone()
    }
}

/// Drops the account's oldest events beyond `max_events` or made before `cutoff_ms`,
/// remembering the newest dropped.
fn expire(a: &mut AccountLog, max_events: u64, cutoff_ms: u64) {
    while let Some(front) = a.events.front() {
        if (a.events.len() as u64) <= max_events && front.at_ms >= cutoff_ms {
            break;
        }
        a.dropped_upto = a.dropped_upto.max(front.event.seq);
        a.events.pop_front();
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
/// `resume` event with the sequence to resume from (the oldest point still complete), then ends.
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
            match c.slot.log.page(&c.slot.account, c.after, STREAM_PAGE) {
                Err(g) => {
                    // Fell behind the retention: say where to resume, then end.
                    c.done = true;
                    let ev = SseEvent::default().event("resume").data(format!("{{\"after\":{}}}", g.resume_after));
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

/// The feed of all accounts' events (the NATS publisher).
impl EventLog {
    /// Events of every account with `seq > after`, in order, at most `limit`, each with the
    /// time of its command; `None` when some after `after` are no longer in the feed (read the
    /// durable history then).
    pub fn page_all(&self, after: u64, limit: usize) -> Option<Vec<(u64, Arc<Event>)>> {
        let inner = self.inner.lock().unwrap();
        if after < inner.feed_dropped {
            return None;
        }
        let start = inner.feed.partition_point(|(_, e)| e.seq <= after);
        Some(inner.feed.range(start..).take(limit).cloned().collect())
    }

    /// The oldest event the feed holds (`None` when empty).
    pub fn feed_first(&self) -> Option<u64> {
        self.inner.lock().unwrap().feed.front().map(|(_, e)| e.seq)
    }

    /// Woken on every push of any account's events.
    pub fn notify_all(&self) -> Arc<Notify> {
        self.all.clone()
    }
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

    fn log(max_events: u64) -> EventLog {
        EventLog::new(Retention { max_events, max_age_ms: None }, 2)
    }

    #[test]
    fn pages_say_how_far_they_are_complete() {
        let log = log(100);
        log.push(1, &[ev(1, "m"), ev(2, "x"), ev(3, "m"), ev(4, "m")]);
        let p = log.page("m", 0, 2).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (2, 3), "a full page ends at its last event");
        let p = log.page("m", 3, 10).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (1, 4));
        let p = log.page("m", 1_000, 10).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (0, 4), "beyond the head: the head");
        let p = log.page("nobody", 0, 10).ok().unwrap();
        assert_eq!((p.events.len(), p.last_seq), (0, 4));
    }

    #[test]
    fn expired_events_name_the_resume_point() {
        let log = log(2);
        log.push(1, &[ev(1, "m"), ev(2, "x"), ev(3, "m"), ev(4, "m"), ev(5, "m")]);
        assert_eq!(log.page("m", 0, 10).err().map(|g| g.resume_after), Some(3));
        assert_eq!(log.page("m", 2, 10).err().map(|g| g.resume_after), Some(3));
        let p = log.page("m", 3, 10).ok().unwrap();
        assert_eq!(p.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        assert!(log.page("x", 0, 10).is_ok(), "another account keeps its own");
        // Loaded floors: the durable history's and an account's pruned events.
        log.set_floors(1, &[("x".into(), 2)]);
        assert_eq!(log.page("x", 1, 10).err().map(|g| g.resume_after), Some(2));
        assert_eq!(log.page("y", 0, 10).err().map(|g| g.resume_after), Some(1));
    }

    #[test]
    fn events_already_held_are_not_pushed_twice() {
        let log = log(100);
        log.push(1, &[ev(1, "m"), ev(2, "m")]);
        log.push(1, &[ev(2, "m"), ev(3, "m")]);
        let p = log.page("m", 0, 10).ok().unwrap();
        assert_eq!(p.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(log.head(), 3);
    }

    #[test]
    fn retention_by_age_drops_old_events() {
        let log = EventLog::new("1d".parse().unwrap(), 2);
        let now = now_ms();
        log.push(now - 2 * 86_400_000, &[ev(1, "m")]);
        log.push(now, &[ev(2, "m")]);
        assert_eq!(log.page("m", 0, 10).err().map(|g| g.resume_after), Some(1));
        assert_eq!(log.page("m", 1, 10).ok().unwrap().events.len(), 1);
    }

    #[test]
    fn an_account_has_at_most_max_streams() {
        let log = Arc::new(log(100));
        let a = log.open_stream("m").unwrap();
        let _b = log.open_stream("m").unwrap();
        assert!(log.open_stream("m").is_none());
        assert!(log.open_stream("other").is_some(), "per account");
        drop(a);
        assert!(log.open_stream("m").is_some(), "a closed stream frees its place");
    }
}
