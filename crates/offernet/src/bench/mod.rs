//! `offernet bench`: benchmarks as code. Each scenario prints a table and a JSON line, and
//! measures its baseline in the same run (see BENCHMARKS.md for recorded figures).
//!
//! One module per scenario (`propagation`, `durable` for `propagation --durable` and `recovery`,
//! `freshness`, `orders`, `simulation`, `memory`, `import`, `feed`, `webhooks`); `network` generates the benchmark network, `http` runs
//! an in-process server, `http_client` is the connection the benchmarks talk to it over
//! (hyper's HTTP/1 client connection), and `common` holds the helpers they all use. This file only dispatches.

mod common;
mod durable;
mod feed;
mod freshness;
mod http;
pub(crate) mod http_client;
mod import;
mod memory;
mod network;
mod orders;
mod propagation;
mod simulation;
mod webhooks;

use clap::Subcommand;

use crate::shared::Result;

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
    /// A large generated network (10,000,000 offers by default) in the engine: build time,
    /// memory per offer and where it goes, snapshot size and restart time.
    Memory(memory::MemoryArgs),
    /// A generated catalog file (SKUs with price and stock) imported over HTTP with
    /// `offernet import`'s code, end to end: lines/s and the process's peak memory.
    Import(import::ImportBenchArgs),
    /// A marketplace's Google feed of a million items streamed over HTTP (bytes/s, the
    /// server's memory), a 304, and a stock change until its item changes in the feed.
    Feed(feed::FeedBenchArgs),
    /// Stock writes over HTTP, each one offer.changed delivered as a signed webhook to a
    /// receiver in this process (and published to NATS JetStream with --nats-url):
    /// delivered events/s and the lag from commit to delivery.
    Webhooks(webhooks::WebhooksArgs),
}

pub fn run(s: Scenario) -> Result<()> {
    match s {
        Scenario::Propagation(a) => propagation::propagation(a),
        Scenario::Recovery(a) => durable::recovery(a),
        Scenario::Freshness(a) => freshness::freshness(a),
        Scenario::Orders(a) => orders::orders(a),
        Scenario::Simulation(a) => simulation::simulation(a),
        Scenario::Memory(a) => memory::memory(a),
        Scenario::Import(a) => import::import(a),
        Scenario::Feed(a) => feed::feed(a),
        Scenario::Webhooks(a) => webhooks::webhooks(a),
    }
}
