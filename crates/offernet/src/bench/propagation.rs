//! `offernet bench propagation`: random stock and price updates at the bottom sellers, in the
//! engine alone (with `--durable`, through the journal: see `durable.rs`).

use std::time::Instant;

use clap::Args;
use offernet_core::{Command, Engine, Resolved};

use super::common::{median, rss_bytes, Rng, Yardstick};
use super::network::{generate, updates, Network, NetworkArgs};
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
    let rates = measure(&mut net, &args, &mut rng)?;
    let Rates { incremental, resolved, resolving, both, events_per_update } = rates;

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
    println!("resolved     {resolved:>14.0} updates/s  (ids resolved beforehand, as the writer's callers do: Engine::resolve, then apply_resolved)");
    println!("resolving    {resolving:>14.0} commands/s (Engine::resolve alone); both on one core {both:.0} updates/s");
    println!("ratio        {:>14.0}x", incremental / baseline);
    println!("offer events {events_per_update:>14.2} per update");
    println!("{}", yardstick.line("incremental", incremental));
    println!("{}", yardstick.line("resolved", resolved));
    println!("memory       {bytes_per_offer:>14.0} bytes per offer (whole engine RSS / offers)");
    println!(
        "{}",
        serde_json::json!({
            "scenario": "propagation", "accounts": accounts, "depth": args.net.depth, "skus": skus,
            "offers": offers, "updates_per_run": args.updates, "runs": args.runs,
            "incremental_updates_per_s": incremental.round(), "baseline_updates_per_s": baseline,
            "resolved_updates_per_s": resolved.round(), "resolve_per_s": resolving.round(),
            "resolve_and_apply_per_s": both.round(), "ratio": (incremental / baseline).round(),
            "rss_bytes_per_offer": bytes_per_offer.round(),
            "offer_events_per_update": events_per_update,
            "build_s": build_s, "yardstick": yardstick.json(incremental),
        })
    );
    Ok(())
}

/// Medians over the measured runs, per second; offer events per update.
struct Rates {
    incremental: f64,
    resolved: f64,
    resolving: f64,
    both: f64,
    events_per_update: f64,
}

/// The measured runs. Each applies one set of updates as they come (ids looked up by the
/// engine) and another resolved beforehand (as the writer's callers do), in turns, so that
/// neither always runs on the warmer or the fuller engine.
fn measure(net: &mut Network, args: &PropagationArgs, rng: &mut Rng) -> Result<Rates> {
    let (mut plain_rates, mut resolved, mut resolving, mut both) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut changed, mut applied) = (0usize, 0usize);
    let n = args.updates as f64;
    for run in 0..args.runs {
        let plain = updates(net, args.updates, rng);
        let ahead = updates(net, args.updates, rng);
        let (p, r) = if run % 2 == 0 {
            (apply_set(&mut net.engine, &plain, false)?, apply_set(&mut net.engine, &ahead, true)?)
        } else {
            let r = apply_set(&mut net.engine, &ahead, true)?;
            (apply_set(&mut net.engine, &plain, false)?, r)
        };
        plain_rates.push(n / p.apply_s);
        resolved.push(n / r.apply_s);
        resolving.push(n / r.resolve_s);
        both.push(n / (r.resolve_s + r.apply_s));
        changed += p.changed;
        applied += plain.len();
        eprintln!(
            "run {run}: {:.0} updates/s ({} offer changes); resolved beforehand {:.0} updates/s (resolving {:.0}/s)",
            n / p.apply_s,
            p.changed,
            n / r.apply_s,
            n / r.resolve_s
        );
    }
    Ok(Rates {
        incremental: median(&mut plain_rates),
        resolved: median(&mut resolved),
        resolving: median(&mut resolving),
        both: median(&mut both),
        events_per_update: changed as f64 / applied.max(1) as f64,
    })
}

/// One set of updates applied: seconds resolving (none when not resolved first), seconds
/// applying, offer changes.
struct Timed {
    resolve_s: f64,
    apply_s: f64,
    changed: usize,
}

/// Applies `work`: as it comes (the engine looks each command's ids up), or, with `resolve`,
/// every command resolved first (timed apart) and applied with it.
fn apply_set(engine: &mut Engine, work: &[Command], resolve: bool) -> Result<Timed> {
    let t = Instant::now();
    let resolved: Vec<Option<Resolved>> =
        if resolve { work.iter().map(|c| engine.resolve(c)).collect() } else { vec![None; work.len()] };
    let resolve_s = if resolve { t.elapsed().as_secs_f64() } else { 0.0 };
    if resolve && resolved.iter().any(Option::is_none) {
        return Err("an update's SKU did not resolve".into());
    }
    let t = Instant::now();
    let mut changed = 0usize;
    for (c, r) in work.iter().zip(resolved) {
        changed += engine.apply_resolved(c, r, 0).map_err(e)?.len();
    }
    Ok(Timed { resolve_s, apply_s: t.elapsed().as_secs_f64(), changed })
}
