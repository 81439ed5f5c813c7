//! `offernet bench memory`: a large generated network in the engine alone: how long it takes
//! to build, the process's memory per offer (and where it goes, counted by the engine), the
//! snapshot's size, and how long a restart from it takes.

use std::time::Instant;

use clap::Args;
use offernet_core::{Engine, EngineConfig, MemoryUse};

use super::common::{rss_bytes, Yardstick};
use super::network::{generate, NetworkArgs};
use crate::shared::Result;

/// The largest network this benchmark builds (about 12 GB at today's layout: see
/// BENCHMARKS.md before going near it).
const MAX_OFFERS: usize = 50_000_000;
/// Marketplaces below the top one (depth 3); each receives the SKUs of every tenth seller.
const MIDDLE_MARKETPLACES: usize = 10;

#[derive(Args, Clone, Debug)]
pub struct MemoryArgs {
    /// Offers in the generated network (rounded up to whole sellers): depth 3, 1 top
    /// marketplace, 10 below it, and as many sellers as it takes (each seller's SKUs are
    /// offers at its marketplace, half of them again at the top: 1.5 offers per seller SKU).
    #[arg(long, default_value_t = 10_000_000)]
    pub offers: usize,
    /// SKUs in each seller's catalog.
    #[arg(long, default_value_t = 1000)]
    pub skus_per_seller: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The network that holds at least `offers` offers (sellers a multiple of 10, so that every
/// middle marketplace receives as many).
fn network_for(a: &MemoryArgs) -> Result<NetworkArgs> {
    if a.offers == 0 || a.offers > MAX_OFFERS {
        return Err(format!("--offers is between 1 and {MAX_OFFERS}"));
    }
    if a.skus_per_seller < 2 || a.skus_per_seller % 2 == 1 {
        return Err("--skus-per-seller is an even number, at least 2".into());
    }
    let per_seller = a.skus_per_seller * 3 / 2;
    let sellers = a.offers.div_ceil(per_seller).div_ceil(MIDDLE_MARKETPLACES) * MIDDLE_MARKETPLACES;
    Ok(NetworkArgs {
        accounts: 1 + MIDDLE_MARKETPLACES + sellers,
        skus_per_seller: a.skus_per_seller,
        depth: 3,
        seed: a.seed,
    })
}

/// Peak resident set size of this process, in bytes (Linux `VmHWM`).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

pub fn memory(a: MemoryArgs) -> Result<()> {
    let net_args = network_for(&a)?;
    let rss0 = rss_bytes();
    let t = Instant::now();
    let net = generate(&net_args)?;
    let build_s = t.elapsed().as_secs_f64();
    let rss_built = rss_bytes();
    let peak_build = peak_rss_bytes();
    let offers = net.engine.offer_count();
    let (accounts, skus) = net.engine.size();
    let counted = net.engine.memory_use();
    eprintln!("network: {accounts} accounts, {skus} SKUs, {offers} offers, built in {build_s:.1} s");

    let t = Instant::now();
    let snapshot = net.engine.snapshot_bytes();
    let snapshot_s = t.elapsed().as_secs_f64();
    drop(net);
    let t = Instant::now();
    let restored = Engine::from_snapshot_bytes(EngineConfig::default(), &snapshot)?;
    let restart_s = t.elapsed().as_secs_f64();
    let rss_restored = rss_bytes();
    if restored.snapshot_bytes() != snapshot {
        return Err("the snapshot restored another state".into());
    }
    let snapshot_len = snapshot.len();
    drop(snapshot);
    let yardstick = Yardstick::measure(skus);
    report(&Report {
        a: &a,
        accounts,
        skus,
        offers,
        build_s,
        rss0,
        rss_built,
        peak_build,
        counted,
        snapshot_len,
        snapshot_s,
        restart_s,
        rss_restored,
        yardstick,
    });
    Ok(())
}

struct Report<'a> {
    a: &'a MemoryArgs,
    accounts: usize,
    skus: usize,
    offers: usize,
    build_s: f64,
    rss0: u64,
    rss_built: u64,
    peak_build: u64,
    counted: MemoryUse,
    snapshot_len: usize,
    snapshot_s: f64,
    restart_s: f64,
    rss_restored: u64,
    yardstick: Yardstick,
}

fn report(r: &Report) {
    let per = |b: u64| b as f64 / r.offers.max(1) as f64;
    let mb = |b: u64| b as f64 / (1 << 20) as f64;
    let c = &r.counted;
    println!("scenario     memory (engine only, no journal; asked for {} offers)", r.a.offers);
    println!("network      {} accounts, depth 3, {} SKUs, {} offers", r.accounts, r.skus, r.offers);
    println!(
        "build        {:>10.1} s  ({:.0} offers/s, every command applied as it is generated)",
        r.build_s,
        r.offers as f64 / r.build_s
    );
    println!(
        "rss          {:>10.0} MiB whole process after the build = {:.0} bytes per offer; growth while building {:.0} bytes per offer; peak {:.0} MiB",
        mb(r.rss_built),
        per(r.rss_built),
        per(r.rss_built.saturating_sub(r.rss0)),
        mb(r.peak_build)
    );
    println!(
        "counted      {:>10.0} bytes per offer: catalog {:.0} (SKU records {:.0}, strings {:.0}, vectors {:.0}, indexes {:.0}), offers {:.0}, other {:.0}",
        per(c.total()),
        per(c.catalog()),
        per(c.sku_records),
        per(c.sku_strings),
        per(c.sku_vectors),
        per(c.sku_indexes),
        per(c.offers),
        per(c.other)
    );
    println!(
        "snapshot     {:>10.0} MiB = {:.0} bytes per offer, written in {:.2} s",
        mb(r.snapshot_len as u64),
        per(r.snapshot_len as u64),
        r.snapshot_s
    );
    println!(
        "restart      {:>10.2} s  (decoding the snapshot and rebuilding the offers); RSS then {:.0} MiB (snapshot bytes still held)",
        r.restart_s,
        mb(r.rss_restored)
    );
    println!("{}", r.yardstick.line("offers built/s", r.offers as f64 / r.build_s));
    println!(
        "{}",
        serde_json::json!({
            "scenario": "memory", "accounts": r.accounts, "skus": r.skus, "offers": r.offers, "build_s": r.build_s,
            "rss_bytes": r.rss_built, "rss_bytes_per_offer": per(r.rss_built).round(),
            "rss_growth_bytes_per_offer": per(r.rss_built.saturating_sub(r.rss0)).round(), "peak_rss_bytes": r.peak_build,
            "counted_bytes_per_offer": {"catalog": per(c.catalog()).round(), "sku_records": per(c.sku_records).round(),
                "sku_strings": per(c.sku_strings).round(), "sku_vectors": per(c.sku_vectors).round(),
                "sku_indexes": per(c.sku_indexes).round(), "offers": per(c.offers).round(), "other": per(c.other).round()},
            "snapshot_bytes": r.snapshot_len, "snapshot_s": r.snapshot_s, "restart_s": r.restart_s,
            "rss_after_restart_bytes": r.rss_restored, "yardstick": r.yardstick.json(r.offers as f64 / r.build_s),
        })
    );
}
