//! The circuit breaker per external account (vtex-compat.md §3.2): it opens after
//! [`FAILURES_TO_OPEN`] consecutive failures (no connection, a timeout, 5xx, 429), stays open
//! 30 s, doubling up to 5 minutes while its probes fail, and when due lets one call through
//! (half-open): a success closes it, a failure opens it again. Written here (a few lines of
//! state driven by the caller's clock) rather than taken from a crate: the breakers on offer
//! bring their own clocks and futures wrappers, which the tests could not drive.

/// Consecutive failures that open the circuit.
pub const FAILURES_TO_OPEN: u32 = 5;
/// The first open period; each failed probe doubles it, up to [`MAX_OPEN_MS`].
pub const FIRST_OPEN_MS: u64 = 30_000;
pub const MAX_OPEN_MS: u64 = 300_000;

/// One account's breaker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breaker {
    /// Failures since the last success.
    failures: u32,
    /// While open (or half-open): when the next probe may go.
    open_until_ms: Option<u64>,
    /// The current open period (0 while closed).
    open_ms: u64,
    /// Half-open: the one probe is in flight.
    probing: bool,
}

impl Breaker {
    /// Whether a call may go now; when the open period is over, the first caller is the probe.
    pub fn admit(&mut self, now_ms: u64) -> bool {
        match self.open_until_ms {
            None => true,
            Some(until) if now_ms < until || self.probing => false,
            Some(_) => {
                self.probing = true;
                true
            }
        }
    }

    /// The party answered (2xx, or a 4xx other than 408/429: it is up): closed again.
    pub fn success(&mut self) {
        *self = Breaker::default();
    }

    /// A failure at `now_ms`, with `first_open_ms` the first open period (30 s in `serve`).
    pub fn failure(&mut self, now_ms: u64, first_open_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        if self.probing {
            self.probing = false;
            self.open_ms = self.open_ms.saturating_mul(2).clamp(first_open_ms, MAX_OPEN_MS.max(first_open_ms));
            self.open_until_ms = Some(now_ms.saturating_add(self.open_ms));
        } else if self.open_until_ms.is_none() && self.failures >= FAILURES_TO_OPEN {
            self.open_ms = first_open_ms;
            self.open_until_ms = Some(now_ms.saturating_add(self.open_ms));
        }
    }

    /// A call admitted as the probe ended without a verdict (refused before it was sent):
    /// the next caller probes instead.
    pub fn abandon(&mut self) {
        self.probing = false;
    }

    /// `closed`, `open` or `half_open` (due for a probe, or probing).
    pub fn state(&self, now_ms: u64) -> &'static str {
        match self.open_until_ms {
            None => "closed",
            Some(until) if now_ms < until => "open",
            Some(_) => "half_open",
        }
    }

    /// Open and not yet due for a probe: calls are not even tried.
    pub fn is_open(&self, now_ms: u64) -> bool {
        self.open_until_ms.is_some_and(|until| now_ms < until || self.probing)
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    pub fn open_until_ms(&self) -> Option<u64> {
        self.open_until_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_five_failures_and_probes_after_thirty_seconds() {
        let mut b = Breaker::default();
        for i in 0..4 {
            assert!(b.admit(i));
            b.failure(i, FIRST_OPEN_MS);
        }
        assert_eq!(b.state(4), "closed");
        b.failure(4, FIRST_OPEN_MS);
        assert_eq!(b.state(5), "open");
        assert!(!b.admit(5) && !b.admit(4 + FIRST_OPEN_MS - 1));
        assert!(b.admit(4 + FIRST_OPEN_MS), "the probe goes when due");
        assert!(!b.admit(4 + FIRST_OPEN_MS), "one probe at a time");
        b.success();
        assert_eq!(b.state(0), "closed");
        assert_eq!(b, Breaker::default());
    }

    #[test]
    fn failed_probes_double_the_open_period_up_to_five_minutes() {
        let mut b = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN {
            b.failure(0, FIRST_OPEN_MS);
        }
        let mut now = 0;
        let mut periods = Vec::new();
        for _ in 0..6 {
            now = b.open_until_ms().unwrap();
            assert!(b.admit(now));
            b.failure(now, FIRST_OPEN_MS);
            periods.push(b.open_until_ms().unwrap() - now);
        }
        assert_eq!(periods, [60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
        assert!(b.is_open(now));
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let mut b = Breaker::default();
        for _ in 0..4 {
            b.failure(0, FIRST_OPEN_MS);
        }
        b.success();
        for _ in 0..4 {
            b.failure(0, FIRST_OPEN_MS);
        }
        assert_eq!(b.state(1), "closed");
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_caller_probe() {
        let mut b = Breaker::default();
        for _ in 0..FAILURES_TO_OPEN {
            b.failure(0, 10);
        }
        assert!(b.admit(10));
        b.abandon();
        assert!(b.admit(10));
    }
}
