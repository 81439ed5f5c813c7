//! What every benchmark uses: a deterministic RNG, statistics, timing, memory, the machine
//! yardstick, temporary data directories and a quiet recovery.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use offernet_core::EngineConfig;
use offernet_store::{recover, AnyJournal, Recovered};

use crate::shared::{e, Result};

/// SplitMix64, for deterministic workloads.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `p` percentile of `v` (0.5 for p50; nearest rank, sorted in place).
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Milliseconds since `t`.
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Resident set size of this process, in bytes (Linux).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// The engine recovered from `j` with the default rules, without progress reports.
pub async fn recover_quietly(j: &mut AnyJournal) -> Result<Recovered> {
    recover(j, EngineConfig::default(), &mut |_| {}).await.map_err(e)
}

/// A temporary data directory `offernet-bench-<name>-<pid>`, removed first if left over (the
/// journal or the server creates it).
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("offernet-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Random updates the yardstick times per run (at least this many, and at least one per entry,
/// so that a large map is swept past the caches).
const YARDSTICK_MIN_UPDATES: usize = 2_000_000;
/// Runs of the yardstick; the median is reported.
const YARDSTICK_RUNS: usize = 3;

/// The machine yardstick: random updates per second to a `HashMap<u64, u64>` (std's map and
/// hasher) of `entries` entries, measured now, in the benchmark's own run. Every engine
/// benchmark prints its result beside it and as a ratio, so that figures from a noisy, shared
/// machine stay comparable and show how far the engine is from a bare hash-map update (about
/// one cache miss once the map is larger than the caches).
pub struct Yardstick {
    pub entries: usize,
    pub updates_per_s: f64,
}

impl Yardstick {
    pub fn measure(entries: usize) -> Yardstick {
        let entries = entries.max(1);
        let mut rng = Rng(0x7a2d_5eed ^ entries as u64);
        // Keys are scattered (not 0..n), as ids hashed by the engine are.
        let keys: Vec<u64> = (0..entries).map(|_| rng.next()).collect();
        let mut map: HashMap<u64, u64> = keys.iter().map(|&k| (k, 0)).collect();
        let n = entries.max(YARDSTICK_MIN_UPDATES);
        let mut rates = Vec::with_capacity(YARDSTICK_RUNS);
        for _ in 0..YARDSTICK_RUNS {
            let picks: Vec<u64> = (0..n).map(|_| keys[rng.below(keys.len() as u64) as usize]).collect();
            let t = Instant::now();
            for (i, k) in picks.iter().enumerate() {
                if let Some(v) = map.get_mut(k) {
                    *v = v.wrapping_add(i as u64);
                }
            }
            rates.push(n as f64 / t.elapsed().as_secs_f64());
        }
        std::hint::black_box(map.values().fold(0u64, |a, &v| a.wrapping_add(v)));
        Yardstick { entries, updates_per_s: median(&mut rates) }
    }

    /// `rate` (per second) as a fraction of the yardstick.
    pub fn ratio(&self, rate: f64) -> f64 {
        rate / self.updates_per_s
    }

    /// The table line every benchmark prints: the yardstick and `rate` as a ratio of it.
    pub fn line(&self, what: &str, rate: f64) -> String {
        format!(
            "yardstick    {:>14.0} updates/s  (HashMap<u64, u64> of {} entries, same run); {what} = {:.3}x the yardstick",
            self.updates_per_s,
            self.entries,
            self.ratio(rate)
        )
    }

    /// The yardstick's fields for a benchmark's JSON line, with `rate` as a ratio.
    pub fn json(&self, rate: f64) -> serde_json::Value {
        serde_json::json!({"entries": self.entries, "updates_per_s": self.updates_per_s.round(),
            "ratio": self.ratio(rate)})
    }
}
