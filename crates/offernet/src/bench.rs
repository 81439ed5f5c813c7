//! `offernet bench`: benchmarks as code. Each scenario prints a table and a JSON line, and
//! measures its baseline in the same run (see BENCHMARKS.md for recorded figures).

use std::time::Instant;

use clap::{Args, Subcommand};
use offernet_core::*;

#[derive(Subcommand)]
pub enum Scenario {
    /// Random stock and price updates at the bottom sellers; every affected offer above is
    /// updated in the same command. Baseline: recomputing every offer from scratch.
    Propagation(PropagationArgs),
    /// Restart after many journaled commands: replay rate, and restart time with and without
    /// a snapshot.
    Recovery(crate::bench_durable::RecoveryArgs),
    /// A stock write at the bottom of a 3-level chain through HTTP until its offer.changed
    /// event arrives at the top over SSE, against one commit's latency.
    Freshness(crate::bench_http::FreshnessArgs),
    /// Concurrent clients ordering 1 unit of one hot SKU: exactly K succeed; orders/s in the
    /// engine with the journal and over HTTP, against one commit per request.
    Orders(crate::bench_orders::OrdersArgs),
    /// 3-item carts at the top marketplace: items/s in the engine, p50/p99 over HTTP.
    Simulation(crate::bench_orders::SimulationArgs),
}

/// The network generator of shared/design/benchmarks.md.
#[derive(Args, Clone, Debug)]
pub struct NetworkArgs {
    /// Accounts in all: 1 top marketplace, then 10× more at each intermediate level, and the
    /// rest are sellers at the bottom (111 with depth 3 = 1 + 10 + 100 sellers).
    #[arg(long, default_value_t = 111)]
    pub accounts: usize,
    /// SKUs in each bottom seller's catalog.
    #[arg(long, default_value_t = 1000)]
    pub skus_per_seller: usize,
    /// Levels of accounts, top marketplace and bottom sellers included (2 to 4).
    #[arg(long, default_value_t = 3)]
    pub depth: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

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
    pub durable_args: crate::bench_durable::DurableArgs,
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

/// A generated network: the engine and who is where.
pub struct Network {
    pub engine: Engine,
    /// Accounts per level, top first.
    pub levels: Vec<Vec<String>>,
    pub skus_per_seller: usize,
}

/// The commands that build a network, in order, and who is where.
pub struct Generated {
    pub commands: Vec<Command>,
    pub levels: Vec<Vec<String>>,
}

fn sku_id(i: usize) -> String {
    format!("sku-{i:06}")
}

/// Builds the network through ordinary commands: bottom sellers with priced, stocked SKUs
/// send to their parent (auto match); half of the sellers authorise resale; each
/// intermediate marketplace prices every SKU it receives, stocks half of them, and sends
/// on to its parent. Deterministic from the seed.
pub fn generate_commands(args: &NetworkArgs) -> anyhow_lite::Result<Generated> {
    if !(2..=4).contains(&args.depth) {
        return Err("--depth is 2, 3 or 4".into());
    }
    let mut sizes = vec![1usize];
    for _ in 0..args.depth - 2 {
        sizes.push(sizes.last().unwrap() * 10);
    }
    let fixed: usize = sizes.iter().sum();
    if args.accounts <= fixed {
        return Err(format!("--accounts must exceed {fixed} for depth {}", args.depth));
    }
    sizes.push(args.accounts - fixed);
    let mut rng = Rng(args.seed);
    let mut out: Vec<Command> = Vec::new();
    let levels: Vec<Vec<String>> =
        sizes.iter().enumerate().map(|(l, &n)| (0..n).map(|i| format!("l{}-{i:05}", l + 1)).collect()).collect();
    for level in &levels {
        for id in level {
            out.push(Command::CreateAccount {
                id: id.clone(),
                name: id.clone(),
                currency: "BRL".into(),
                token_hash: None,
            });
            out.push(Command::PutWarehouse {
                account: id.clone(),
                warehouse: "main".into(),
                body: WarehouseBody::default(),
            });
        }
    }
    let bottom = levels.len() - 1;
    for seller in &levels[bottom] {
        for i in 0..args.skus_per_seller {
            let sku = sku_id(i);
            let body = SkuBody {
                name: Some(format!("Product {i}")),
                brand: Some(format!("brand-{}", i % 50)),
                category: Some(format!("dept-{}/cat-{}", i % 7, i % 31)),
                ..Default::default()
            };
            out.push(Command::PutSku { account: seller.clone(), sku: sku.clone(), body });
            let price = 100 + rng.below(100_000) as i64;
            out.push(Command::PutPrice {
                account: seller.clone(),
                sku: sku.clone(),
                body: PriceBody { price: Some(price), list_price: Some(price + 500), trade_policy: None },
            });
            out.push(Command::PutStock {
                account: seller.clone(),
                warehouse: "main".into(),
                sku,
                body: StockBody { quantity: Some(rng.below(100) as i64), unlimited: None },
            });
        }
    }
    // Connect level by level, bottom up; each marketplace then prices what it received and
    // stocks half of it, which opens the gate for those items towards its own parent.
    let mut items: Vec<Vec<String>> = vec![(0..args.skus_per_seller).map(sku_id).collect(); levels[bottom].len()];
    for l in (1..levels.len()).rev() {
        let parents = &levels[l - 1];
        let mut parent_items: Vec<Vec<String>> = vec![Vec::new(); parents.len()];
        for (i, seller) in levels[l].iter().enumerate() {
            let p = i % parents.len();
            let resale = if i % 2 == 0 { WordOrList::Word("all".into()) } else { WordOrList::Word("none".into()) };
            out.push(Command::PutAffiliation {
                seller: seller.clone(),
                marketplace: parents[p].clone(),
                body: AffiliationBody { trade_policy: Some("1".into()), resale: Some(resale), ..Default::default() },
            });
            out.push(Command::PutSeller {
                marketplace: parents[p].clone(),
                seller: seller.clone(),
                body: SellerBody::default(),
            });
            for sku in &items[i] {
                parent_items[p].push(format!("{seller}-{sku}"));
            }
        }
        if l == 1 {
            break;
        }
        // The parents are intermediate marketplaces: price everything, stock half.
        for (p, parent) in parents.iter().enumerate() {
            let mut kept = Vec::new();
            for (j, sku) in parent_items[p].iter().enumerate() {
                let price = 200 + rng.below(100_000) as i64;
                out.push(Command::PutPrice {
                    account: parent.clone(),
                    sku: sku.clone(),
                    body: PriceBody { price: Some(price), list_price: None, trade_policy: None },
                });
                if j % 2 == 0 {
                    out.push(Command::PutStock {
                        account: parent.clone(),
                        warehouse: "main".into(),
                        sku: sku.clone(),
                        body: StockBody { quantity: Some(1 + rng.below(20) as i64), unlimited: None },
                    });
                    kept.push(sku.clone());
                }
            }
            parent_items[p] = kept;
        }
        items = parent_items;
    }
    Ok(Generated { commands: out, levels })
}

/// Builds the network in an engine (see [`generate_commands`]).
pub fn generate(args: &NetworkArgs) -> anyhow_lite::Result<Network> {
    let g = generate_commands(args)?;
    let mut engine = Engine::default();
    for c in &g.commands {
        if let Err(e) = engine.apply(c, 0) {
            return Err(format!("generator command refused: {e}: {c:?}"));
        }
    }
    Ok(Network { engine, levels: g.levels, skus_per_seller: args.skus_per_seller })
}

/// Random stock (half) and price (half) updates at the bottom sellers.
pub fn updates(net: &Network, n: usize, rng: &mut Rng) -> Vec<Command> {
    let sellers = net.levels.last().unwrap();
    (0..n)
        .map(|_| {
            let seller = sellers[rng.below(sellers.len() as u64) as usize].clone();
            let sku = sku_id(rng.below(net.skus_per_seller as u64) as usize);
            if rng.below(2) == 0 {
                Command::PutStock {
                    account: seller,
                    warehouse: "main".into(),
                    sku,
                    body: StockBody { quantity: Some(rng.below(100) as i64), unlimited: None },
                }
            } else {
                let price = 100 + rng.below(100_000) as i64;
                Command::PutPrice {
                    account: seller,
                    sku,
                    body: PriceBody { price: Some(price), list_price: Some(price + 500), trade_policy: None },
                }
            }
        })
        .collect()
}

/// Resident set size of this process, in bytes (Linux).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A tiny error type for the binary's edges (no anyhow dependency for one string).
pub mod anyhow_lite {
    pub type Result<T> = std::result::Result<T, String>;
}

fn propagation(args: PropagationArgs) -> anyhow_lite::Result<()> {
    if args.durable {
        return crate::bench_durable::propagation_durable(&args.net, args.runs, &args.durable_args);
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
            changed += net.engine.apply(c, 0).map_err(|e| e.to_string())?.len();
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
        net.engine.apply(c, 0).map_err(|e| e.to_string())?;
        let fresh = net.engine.recompute_offers();
        let dt = t.elapsed().as_secs_f64();
        std::hint::black_box(fresh.len());
        base.push(1.0 / dt);
    }
    let baseline = median(&mut base);
    net.engine.check_invariants()?;
    let bytes_per_offer = (rss1.saturating_sub(rss0)) as f64 / offers.max(1) as f64;

    println!("scenario     propagation (engine only, no journal)");
    println!("network      {accounts} accounts, depth {}, {skus} SKUs, {offers} offers", args.net.depth);
    println!("incremental  {incremental:>14.0} updates/s  (median of {} runs of {})", args.runs, args.updates);
    println!("baseline     {baseline:>14.2} updates/s  (full recomputation of every offer per update)");
    println!("ratio        {:>14.0}x", incremental / baseline);
    println!("offer events {:>14.2} per update", changed_total as f64 / applied_total.max(1) as f64);
    println!("memory       {bytes_per_offer:>14.0} bytes per offer (whole engine RSS / offers)");
    println!(
        "{}",
        serde_json::json!({
            "scenario": "propagation", "accounts": accounts, "depth": args.net.depth, "skus": skus,
            "offers": offers, "updates_per_run": args.updates, "runs": args.runs,
            "incremental_updates_per_s": incremental.round(), "baseline_updates_per_s": baseline,
            "ratio": (incremental / baseline).round(), "rss_bytes_per_offer": bytes_per_offer.round(),
            "offer_events_per_update": changed_total as f64 / applied_total.max(1) as f64,
            "build_s": build_s,
        })
    );
    Ok(())
}

pub fn run(s: Scenario) -> anyhow_lite::Result<()> {
    match s {
        Scenario::Propagation(a) => propagation(a),
        Scenario::Recovery(a) => crate::bench_durable::recovery(a),
        Scenario::Freshness(a) => crate::bench_http::freshness(a),
        Scenario::Orders(a) => crate::bench_orders::orders(a),
        Scenario::Simulation(a) => crate::bench_orders::simulation(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_network_has_the_documented_shape() {
        let net = generate(&NetworkArgs { accounts: 1 + 10 + 20, skus_per_seller: 10, depth: 3, seed: 7 })
            .expect("generates");
        // 20 sellers × 10 SKUs reach their L2 (200 offers); half of L2's items are stocked
        // and sent on to L1 (100 offers).
        assert_eq!(net.engine.offer_count(), 200 + 100);
        net.engine.check_invariants().unwrap();
        let top = net.engine.offers(&net.levels[0][0], &OfferFilter::default()).unwrap();
        assert_eq!(top.len(), 100);
        assert!(top.iter().all(|o| o.sellable), "every offer at the top is sellable");
    }
}
