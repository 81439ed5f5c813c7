//! The inbound rate limit of the `/vtex` routes (vtex-compat.md §4): at most `rps` requests a
//! second per caller (the account a request speaks for, or the operator), with bursts of
//! [`BURST_SECONDS`] seconds' worth; beyond it 429 `rate_limited` with `Retry-After: 1` (a
//! token comes back within a second whatever `rps` is, since it is at least 1). A token
//! bucket per caller, in memory: a restart forgets it, which costs at most one burst.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A caller may send this many seconds' worth of requests at once (100/s → bursts of 1,000).
pub const BURST_SECONDS: u32 = 10;
/// The default `--vtex-inbound-rps`.
pub const DEFAULT_RPS: u32 = 100;
/// The largest `--vtex-inbound-rps`.
pub const MAX_RPS: u32 = 100_000;
/// Callers remembered at most; past it, callers whose bucket is full again are forgotten (a
/// full bucket is what a forgotten caller gets), then the oldest.
pub const MAX_CALLERS: usize = 10_000;

/// Token buckets per caller.
pub struct Limiter {
    rps: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(rps: u32) -> Limiter {
        let rps = rps.max(1);
        Limiter { rps: rps as f64, burst: (rps * BURST_SECONDS) as f64, buckets: Mutex::default() }
    }

    /// Takes a token of `caller` now; `false` when its bucket is empty.
    pub fn admit(&self, caller: &str) -> bool {
        self.admit_at(caller, Instant::now())
    }

    fn admit_at(&self, caller: &str, now: Instant) -> bool {
        let mut b = self.buckets.lock().unwrap();
        if b.len() >= MAX_CALLERS && !b.contains_key(caller) {
            let (rps, burst) = (self.rps, self.burst);
            b.retain(|_, (tokens, at)| *tokens + now.saturating_duration_since(*at).as_secs_f64() * rps < burst);
            if b.len() >= MAX_CALLERS {
                if let Some(oldest) = b.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| k.clone()) {
                    b.remove(&oldest);
                }
            }
        }
        let (tokens, at) = b.entry(caller.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.rps).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let l = Limiter::new(2);
        let t0 = Instant::now();
        let admitted = (0..25).filter(|_| l.admit_at("e", t0)).count();
        assert_eq!(admitted, 20, "a burst of 10 seconds' worth");
        assert!(l.admit_at("other", t0), "per caller");
        assert!(!l.admit_at("e", t0 + Duration::from_millis(400)));
        assert!(l.admit_at("e", t0 + Duration::from_millis(500)), "one token per 1/rps second");
        assert!(!l.admit_at("e", t0 + Duration::from_millis(600)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..25).filter(|_| l.admit_at("e", later)).count(), 20, "refilled to the burst, no more");
    }

    #[test]
    fn the_callers_remembered_are_bounded() {
        let l = Limiter::new(1);
        let t0 = Instant::now();
        for i in 0..MAX_CALLERS + 5 {
            for _ in 0..10 {
                l.admit_at(&format!("c{i}"), t0);
            }
        }
        assert!(l.buckets.lock().unwrap().len() <= MAX_CALLERS);
        assert!(!l.admit_at(&format!("c{}", MAX_CALLERS + 4), t0), "the newest is still remembered empty");
    }
}
