//! `offernet bench propagation`: random stock and price updates at the bottom sellers, in the
//! engine alone (with `--durable`, through the journal: see `durable.rs`).

use std::time::Instant;

use clap::Args;

use super::common::{median, rss_bytes, Rng, Yardstick};
use super::network::{generate, updates, NetworkArgs};
use crate::shared::{e, Result};

#[derive(Args, Clone, Debug)]
pub struct PropagationArgs {
    #[command(flatten)]
    pub net: NetworkArgs,
    /// Updates per measured run.
    #[arg(long, default_value_t = 1_000_000)]
    pub updates: usize,
    /// Measured runs (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Full recomputations to time for the baseline.
    #[arg(long, default_value_t = 3)]
    pub baseline_runs: usize,
    /// Through the durable journal (SQLite) and the writer, against one commit per command.
    #[arg(long)]
    pub durable: bool,
    #[command(flatten)]
    pub durable_args: super::durable::DurableArgs,
}

pub fn propagation(args: PropagationArgs) -> Result<()> {
    if args.durable {
        return super::durable::propagation_durable(&args.net, args.runs, &args.durable_args);
    }
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let mut net = generate(&args.net)?;
    let build_s = t0.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    let offers = net.engine.offer_count();
    let (accounts, skus) = net.engine.size();
    eprintln!("network: {accounts} accounts, {skus} SKUs, {offers} offers, built in {build_s:.1} s");

    let mut rng = Rng(args.net.seed ^ 0x5eed);
    let mut rates = Vec::new();
    let mut changed_total = 0usize;
    let mut applied_total = 0usize;
    for run in 0..args.runs {
        let work = updates(&net, args.updates, &mut rng);
        let t = Instant::now();
        let mut changed = 0usize;
        for c in &work {
            changed += net.engine.apply(c, 0).map_err(e)?.len();
        }
        let dt = t.elapsed().as_secs_f64();
        rates.push(work.len() as f64 / dt);
        changed_total += changed;
        applied_total += work.len();
        eprintln!("run {run}: {:.0} updates/s ({changed} offer changes)", work.len() as f64 / dt);
    }
    let incremental = median(&mut rates);

    let mut base = Vec::new();
    for _ in 0..args.baseline_runs {
        let c = &updates(&net, 1, &mut rng)[0];
        let t = Instant::now();
        net.engine.apply(c, 0).map_err(e)?;
        let fresh = net.engine.recompute_offers();
        let dt = t.elapsed().as_secs_f64();
        std::hint::black_box(fresh.len());
        base.push(1.0 / dt);
    }
    let baseline = median(&mut base);
    net.engine.check_invariants()?;
    let bytes_per_offer = (rss1.saturating_sub(rss0)) as f64 / offers.max(1) as f64;
    // After the memory reading: the yardstick's map must not be counted, nor its freed pages
    // reused by the network.
    let yardstick = Yardstick::measure(skus);

    println!("scenario     propagation (engine only, no journal)");
    println!("network      {accounts} accounts, depth {}, {skus} SKUs, {offers} offers", args.net.depth);
    println!("incremental  {incremental:>14.0} updates/s  (median of {} runs of {})", args.runs, args.updates);
    println!("baseline     {baseline:>14.2} updates/s  (full recomputation of every offer per update)");
    println!("ratio        {:>14.0}x", incremental / baseline);
    println!("offer events {:>14.2} per update", changed_total as f64 / applied_total.max(1) as f64);
    println!("{}", yardstick.line("incremental", incremental));
    println!("memory       {bytes_per_offer:>14.0} bytes per offer (whole engine RSS / offers)");
    println!(
        "{}",
        serde_json::json!({
            "scenario": "propagation", "accounts": accounts, "depth": args.net.depth, "skus": skus,
            "offers": offers, "updates_per_run": args.updates, "runs": args.runs,
            "incremental_updates_per_s": incremental.round(), "baseline_updates_per_s": baseline,
            "ratio": (incremental / baseline).round(), "rss_bytes_per_offer": bytes_per_offer.round(),
            "offer_events_per_update": changed_total as f64 / applied_total.max(1) as f64,
            "build_s": build_s, "yardstick": yardstick.json(incremental),
        })
    );
    Ok(())
}
