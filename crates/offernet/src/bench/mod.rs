//! `offernet bench`: benchmarks as code. Each scenario prints a table and a JSON line, and
//! measures its baseline in the same run (see BENCHMARKS.md for recorded figures).
//!
//! One module per scenario (`propagation`, `durable` for `propagation --durable` and `recovery`,
//! `freshness`, `orders`, `simulation`); `network` generates the benchmark network, `http` runs
//! an in-process server and talks to it with reqwest. The helpers below serve them all.

mod durable;
mod freshness;
mod http;
mod network;
mod orders;
mod propagation;
mod simulation;

use std::path::PathBuf;
use std::time::Instant;

use clap::Subcommand;
use offernet_core::EngineConfig;
use offernet_store::{recover, AnyJournal, Recovered};

pub use crate::shared::{e, Result};

#[derive(Subcommand)]
pub enum Scenario {
    /// Random stock and price updates at the bottom sellers; every affected offer above is
    /// updated in the same command. Baseline: recomputing every offer from scratch.
    Propagation(propagation::PropagationArgs),
    /// Restart after many journaled commands: replay rate, and restart time with and without
    /// a snapshot.
    Recovery(durable::RecoveryArgs),
    /// A stock write at the bottom of a 3-level chain through HTTP until its offer.changed
    /// event arrives at the top over SSE, against one commit's latency.
    Freshness(freshness::FreshnessArgs),
    /// Concurrent clients ordering 1 unit of one hot SKU: exactly K succeed; orders/s in the
    /// engine with the journal and over HTTP, against one commit per request.
    Orders(orders::OrdersArgs),
    /// 3-item carts at the top marketplace: items/s in the engine, p50/p99 over HTTP.
    Simulation(simulation::SimulationArgs),
}

pub fn run(s: Scenario) -> Result<()> {
    match s {
        Scenario::Propagation(a) => propagation::propagation(a),
        Scenario::Recovery(a) => durable::recovery(a),
        Scenario::Freshness(a) => freshness::freshness(a),
        Scenario::Orders(a) => orders::orders(a),
        Scenario::Simulation(a) => simulation::simulation(a),
    }
}

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
