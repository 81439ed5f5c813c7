//! What the fakes keep about each request, and the faults they inject, per route.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use serde_json::Value;

/// At most this many requests are kept per fake (the oldest are dropped past it), and at most
/// this many faults queued per route.
pub const MAX_RECORDED: usize = 100_000;
const MAX_QUEUED_FAULTS: usize = 10_000;

/// A fault a fake injects into one request of a route, instead of (or before) its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long, then answer normally (past the caller's timeout: a timeout).
    Delay(Duration),
    /// Answer this status with VTEX's error body (`Retry-After: 1` on 429 and 503).
    Status(u16),
    /// Never answer (until the fake is dropped).
    Hang,
    /// Answer 200 with an empty body (on cancel: "still evaluating").
    EmptyBody,
    /// Do the work (a placement is made), but answer only after this long: the caller may
    /// time out or die between the work and its answer (only the fake seller honours it).
    Late(Duration),
}

/// One request a fake received.
#[derive(Debug, Clone)]
pub struct Recorded<R> {
    pub route: R,
    pub method: String,
    /// The path as received, e.g. `/api/fulfillment/pvt/orders`.
    pub path: String,
    pub query: Option<String>,
    /// `X-VTEX-API-AppKey`, when sent.
    pub app_key: Option<String>,
    /// The parsed JSON body; `None` when the body was empty (or not JSON: see `violations`).
    pub body: Option<Value>,
    /// What is wrong with the request (schema violations, bad credentials, headers); empty when
    /// the request conforms.
    pub violations: Vec<String>,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
}

/// Recorded requests and planned faults of one fake.
#[derive(Debug)]
pub(crate) struct Log<R> {
    entries: VecDeque<Recorded<R>>,
    dropped: usize,
    once: HashMap<R, VecDeque<Fault>>,
    always: HashMap<R, Fault>,
}

impl<R: Copy + Eq + Hash> Log<R> {
    pub(crate) fn new() -> Log<R> {
        Log { entries: VecDeque::new(), dropped: 0, once: HashMap::new(), always: HashMap::new() }
    }

    /// The fault for the next request of `route`: queued ones first, then the standing one.
    pub(crate) fn next_fault(&mut self, route: R) -> Option<Fault> {
        let queued = self.once.get_mut(&route).and_then(VecDeque::pop_front);
        queued.or_else(|| self.always.get(&route).cloned())
    }

    pub(crate) fn push_fault(&mut self, route: R, fault: Fault, times: usize) {
        let queue = self.once.entry(route).or_default();
        let room = MAX_QUEUED_FAULTS.saturating_sub(queue.len());
        for _ in 0..times.min(room) {
            queue.push_back(fault.clone());
        }
    }

    pub(crate) fn set_fault(&mut self, route: R, fault: Option<Fault>) {
        match fault {
            Some(f) => self.always.insert(route, f),
            None => self.always.remove(&route),
        };
    }

    pub(crate) fn clear_faults(&mut self) {
        self.once.clear();
        self.always.clear();
    }

    pub(crate) fn record(&mut self, entry: Recorded<R>) {
        if self.entries.len() == MAX_RECORDED {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn entries(&self) -> Vec<Recorded<R>> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn count(&self, route: R) -> usize {
        self.entries.iter().filter(|e| e.route == route).count()
    }

    /// Every violation, prefixed with the request it was found in.
    pub(crate) fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            out.extend(e.violations.iter().map(|v| format!("{} {}: {v}", e.method, e.path)));
        }
        if self.dropped > 0 {
            out.push(format!("({} older requests were dropped unchecked)", self.dropped));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_come_first_then_the_standing_one() {
        let mut log: Log<u8> = Log::new();
        log.push_fault(1, Fault::Status(500), 2);
        log.set_fault(1, Some(Fault::EmptyBody));
        assert_eq!(log.next_fault(1), Some(Fault::Status(500)));
        assert_eq!(log.next_fault(1), Some(Fault::Status(500)));
        assert_eq!(log.next_fault(1), Some(Fault::EmptyBody));
        assert_eq!(log.next_fault(2), None);
        log.set_fault(1, None);
        assert_eq!(log.next_fault(1), None);
    }
}
