//! The benchmark network of `../shared/design/benchmarks.md`: levels of marketplaces above
//! bottom sellers, built through ordinary commands, and random updates at the bottom.

use clap::Args;
use offernet_core::*;

use super::common::Rng;
use crate::shared::Result;

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

/// Where generated commands go: collected (`Vec<Command>`, for a journal) or applied as they
/// come (`Applied`), so that a large network never holds its commands all at once.
pub trait Sink {
    fn put(&mut self, c: Command);
}

impl Sink for Vec<Command> {
    fn put(&mut self, c: Command) {
        self.push(c);
    }
}

/// Applies each command to an engine at once; keeps the first refusal.
struct Applied {
    engine: Engine,
    refused: Option<String>,
}

impl Sink for Applied {
    fn put(&mut self, c: Command) {
        if self.refused.is_none() {
            if let Err(e) = self.engine.apply(&c, 0) {
                self.refused = Some(format!("generator command refused: {e}: {c:?}"));
            }
        }
    }
}

/// Builds the network through ordinary commands: bottom sellers with priced, stocked SKUs
/// send to their parent (auto match); half of the sellers authorise resale; each
/// intermediate marketplace prices every SKU it receives, stocks half of them, and sends
/// on to its parent. Deterministic from the seed.
pub fn generate_commands(args: &NetworkArgs) -> Result<Generated> {
    let mut out: Vec<Command> = Vec::new();
    let levels = generate_into(args, &mut out)?;
    Ok(Generated { commands: out, levels })
}

/// [`generate_commands`], each command given to `out` as it is made; returns the levels.
fn generate_into(args: &NetworkArgs, out: &mut impl Sink) -> Result<Vec<Vec<String>>> {
    let sizes = level_sizes(args)?;
    let mut rng = Rng(args.seed);
    let levels: Vec<Vec<String>> =
        sizes.iter().enumerate().map(|(l, &n)| (0..n).map(|i| format!("l{}-{i:05}", l + 1)).collect()).collect();
    for level in &levels {
        for id in level {
            out.put(Command::CreateAccount {
                id: id.clone(),
                name: id.clone(),
                currency: "BRL".into(),
                token_hash: None,
            });
            out.put(Command::PutWarehouse {
                account: id.clone(),
                warehouse: "main".into(),
                body: WarehouseBody::default(),
            });
        }
    }
    for seller in levels.last().unwrap() {
        seller_catalog(out, seller, args.skus_per_seller, &mut rng);
    }
    connect_levels(out, &levels, args.skus_per_seller, &mut rng);
    Ok(levels)
}

/// Accounts per level, top first: 1, then 10× more at each intermediate level, and the rest
/// at the bottom.
fn level_sizes(args: &NetworkArgs) -> Result<Vec<usize>> {
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
    Ok(sizes)
}

/// A bottom seller's catalog: `skus` SKUs, each priced and stocked in warehouse `main`.
fn seller_catalog(out: &mut impl Sink, seller: &str, skus: usize, rng: &mut Rng) {
    for i in 0..skus {
        let sku = sku_id(i);
        let body = SkuBody {
            name: Some(format!("Product {i}")),
            brand: Some(format!("brand-{}", i % 50)),
            category: Some(format!("dept-{}/cat-{}", i % 7, i % 31)),
            ..Default::default()
        };
        out.put(Command::PutSku { account: seller.into(), sku: sku.clone(), body: Box::new(body) });
        let price = 100 + rng.below(100_000) as i64;
        out.put(Command::PutPrice {
            account: seller.into(),
            sku: sku.clone(),
            body: PriceBody { price: Some(price), list_price: Some(price + 500), trade_policy: None },
        });
        out.put(Command::PutStock {
            account: seller.into(),
            warehouse: "main".into(),
            sku,
            body: StockBody { quantity: Some(rng.below(100) as i64), unlimited: None },
        });
    }
}

/// Connects level by level, bottom up; each intermediate marketplace then prices what it
/// received and stocks half of it, which opens the gate for those items towards its own parent.
fn connect_levels(out: &mut impl Sink, levels: &[Vec<String>], skus: usize, rng: &mut Rng) {
    for l in (1..levels.len()).rev() {
        let parents = &levels[l - 1];
        for (i, seller) in levels[l].iter().enumerate() {
            let p = i % parents.len();
            let resale = if i % 2 == 0 { WordOrList::Word("all".into()) } else { WordOrList::Word("none".into()) };
            out.put(Command::PutAffiliation {
                seller: seller.clone(),
                marketplace: parents[p].clone(),
                body: Box::new(AffiliationBody {
                    trade_policy: Some("1".into()),
                    resale: Some(resale),
                    ..Default::default()
                }),
            });
            out.put(Command::PutSeller {
                marketplace: parents[p].clone(),
                seller: seller.clone(),
                body: SellerBody::default(),
            });
        }
        if l == 1 {
            break;
        }
        // The parents are intermediate marketplaces: price everything, stock half.
        for (p, parent) in parents.iter().enumerate() {
            let mut j = 0usize;
            for_each_received(levels, l - 1, p, skus, &mut |sku| {
                price_and_stock_half(out, parent, sku, j, rng);
                j += 1;
            });
        }
    }
}

/// The items account `p` of level `l` receives from its sellers, in order: each seller's sent
/// items (`for_each_sent`), as `{seller}-{item}`. Named on the fly, never all held.
fn for_each_received(levels: &[Vec<String>], l: usize, p: usize, skus: usize, f: &mut dyn FnMut(&str)) {
    let parents = levels[l].len();
    for (i, seller) in levels[l + 1].iter().enumerate().filter(|(i, _)| i % parents == p) {
        for_each_sent(levels, l + 1, i, skus, &mut |item| f(&format!("{seller}-{item}")));
    }
}

/// The items account `i` of level `l` sends to its parent: a bottom seller all its SKUs, an
/// intermediate marketplace every other item it received (the ones it stocks).
fn for_each_sent(levels: &[Vec<String>], l: usize, i: usize, skus: usize, f: &mut dyn FnMut(&str)) {
    if l == levels.len() - 1 {
        for k in 0..skus {
            f(&sku_id(k));
        }
        return;
    }
    let mut j = 0usize;
    for_each_received(levels, l, i, skus, &mut |item| {
        if j.is_multiple_of(2) {
            f(item);
        }
        j += 1;
    });
}

/// An intermediate marketplace prices the `j`-th item it received and stocks every other one
/// (those it may send on).
fn price_and_stock_half(out: &mut impl Sink, parent: &str, sku: &str, j: usize, rng: &mut Rng) {
    let price = 200 + rng.below(100_000) as i64;
    out.put(Command::PutPrice {
        account: parent.into(),
        sku: sku.into(),
        body: PriceBody { price: Some(price), list_price: None, trade_policy: None },
    });
    if j.is_multiple_of(2) {
        out.put(Command::PutStock {
            account: parent.into(),
            warehouse: "main".into(),
            sku: sku.into(),
            body: StockBody { quantity: Some(1 + rng.below(20) as i64), unlimited: None },
        });
    }
}

/// Builds the network in an engine, applying each command as it is made (see
/// [`generate_commands`]): the commands are never all held, so the process's memory after the
/// build is the engine's.
pub fn generate(args: &NetworkArgs) -> Result<Network> {
    let mut sink = Applied { engine: Engine::default(), refused: None };
    let levels = generate_into(args, &mut sink)?;
    if let Some(r) = sink.refused {
        return Err(r);
    }
    Ok(Network { engine: sink.engine, levels, skus_per_seller: args.skus_per_seller })
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

    #[test]
    fn applying_as_generated_builds_the_state_the_collected_commands_build() {
        let args = NetworkArgs { accounts: 1 + 10 + 30, skus_per_seller: 6, depth: 3, seed: 3 };
        let streamed = generate(&args).expect("generates");
        let g = generate_commands(&args).expect("generates");
        let mut collected = Engine::default();
        for c in &g.commands {
            collected.apply(c, 0).expect("applies");
        }
        assert_eq!(streamed.engine.snapshot_bytes(), collected.snapshot_bytes());
        assert_eq!(streamed.levels, g.levels);
        assert!(streamed.engine.offer_count() > 0);
    }
}
