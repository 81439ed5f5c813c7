//! Property test: seeded random command sequences against the reference.
//!
//! After every command: the incrementally maintained offers equal a from-scratch
//! recomputation, and every engine invariant holds (`Engine::check_invariants`). A refused
//! command must leave the whole state untouched. At the end of each case the same commands
//! are replayed into a fresh engine, which must produce the same events and state
//! (determinism), and an engine restored from a snapshot taken halfway must answer every later
//! command exactly like the original.
//!
//! `OFFERNET_PROPTEST_CASES` sets the number of cases (default 2,000), and
//! `OFFERNET_PROPTEST_SEED` the first seed. A failure prints its seed: add it to
//! `REGRESSION_SEEDS` so it is checked forever.

use offernet_core::*;

/// Seeds that once failed; each is run on every test run.
const REGRESSION_SEEDS: &[u64] = &[];
/// Seeds that once failed in the order-heavy test (orders at 50%).
const ORDER_REGRESSION_SEEDS: &[u64] = &[207];

/// SplitMix64: tiny, fast, and good enough to drive a generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const ACCOUNTS: &[&str] = &["a", "b", "c", "d", "e"];
const SKUS: &[&str] = &["k0", "k1", "k2", "k3"];
const EANS: &[&str] = &["96385074", "4006381333931", "036000291452"];
const REFS: &[&str] = &["r1", "r2"];
const BRANDS: &[&str] = &["Acme", "ACME", "Zed"];
const TPS: &[&str] = &["1", "t2", "t9"];
const WHS: &[&str] = &["w0", "w1"];

fn s(x: &str) -> String {
    x.to_string()
}

/// A trade policy id, mostly `1` (which always exists) so that connections form.
fn tp(r: &mut Rng) -> String {
    if r.chance(70) {
        s("1")
    } else {
        s(r.pick(TPS))
    }
}

fn opt_bool(r: &mut Rng) -> Option<bool> {
    match r.below(3) {
        0 => None,
        1 => Some(true),
        _ => Some(false),
    }
}

fn resale(r: &mut Rng) -> Option<WordOrList> {
    match r.below(5) {
        0 => None,
        1 => Some(WordOrList::Word(s("none"))),
        2 | 3 => Some(WordOrList::Word(s("all"))),
        _ => Some(WordOrList::List((0..r.below(3)).map(|_| s(r.pick(ACCOUNTS))).collect())),
    }
}

/// Some SKU id: mostly the seller catalog's, sometimes one created from a suggestion.
fn any_sku(r: &mut Rng) -> String {
    if r.chance(70) {
        s(r.pick(SKUS))
    } else {
        format!("{}-{}", r.pick(ACCOUNTS), r.pick(SKUS))
    }
}

/// A SKU of account `a`: mostly one that exists, so that commands reach deep states.
fn sku_of(r: &mut Rng, e: &Engine, a: &str) -> String {
    match e.sku_ids(a) {
        Ok(ids) if !ids.is_empty() && r.chance(85) => ids[r.below(ids.len() as u64) as usize].to_string(),
        _ => any_sku(r),
    }
}

/// Order commands: place against live offers, then authorise, invoice, cancel, expire.
fn order_command(r: &mut Rng, e: &Engine, placed: &mut Vec<(String, String, Vec<String>)>) -> Command {
    let m = s(r.pick(ACCOUNTS));
    match r.below(10) {
        0..=3 => {
            let sellable = if r.chance(85) { Some(true) } else { None };
            let offers = e.offers(&m, &OfferFilter { seller: None, sellable }).unwrap_or_default();
            let id = format!("o{}", placed.len() + r.below(2) as usize);
            let mut items = Vec::new();
            let mut sellers = Vec::new();
            for _ in 0..1 + r.below(2) {
                if offers.is_empty() {
                    break;
                }
                let o = &offers[r.below(offers.len() as u64) as usize];
                // Often exactly what the offer shows: that needs every source along the chain.
                let q = match (o.quantity, through_sources(e, &m, &o.sku, &o.seller)) {
                    // More than the seller holds itself: chain orders upstream.
                    (Some(n), Some(own)) if n > own && n <= 20 && r.chance(60) => (own + 1 + r.below(n - own)) as i64,
                    (Some(n), _) if n > 0 && n <= 20 && r.chance(70) => n as i64,
                    _ => 1 + r.below(2) as i64,
                };
                items.push(OrderItemBody {
                    sku: Some(o.sku.to_string()),
                    quantity: Some(q),
                    seller: Some(o.seller.to_string()),
                });
                sellers.push(o.seller.to_string());
            }
            if items.is_empty() {
                items.push(OrderItemBody {
                    sku: Some(any_sku(r)),
                    quantity: Some(1),
                    seller: Some(s(r.pick(ACCOUNTS))),
                });
            }
            placed.push((m.clone(), id.clone(), sellers));
            Command::PlaceOrder { marketplace: m, body: OrderBody { id: Some(id), items: Some(items) } }
        }
        4 if !placed.is_empty() => {
            let (m, id, _) = placed[r.below(placed.len() as u64) as usize].clone();
            Command::AuthorizeOrder { marketplace: m, id }
        }
        5 | 6 if !placed.is_empty() => {
            let (m, id, _) = placed[r.below(placed.len() as u64) as usize].clone();
            match order_part(r, e, &m, &id) {
                Some((account, part)) if r.chance(60) => Command::CancelOrder { account, id: part },
                _ => Command::CancelOrder { account: m, id },
            }
        }
        7 | 8 if !placed.is_empty() => {
            let (m, id, _) = placed[r.below(placed.len() as u64) as usize].clone();
            match order_part(r, e, &m, &id) {
                Some((account, part)) => Command::InvoiceOrder { account, id: part },
                None => Command::ExpireOrders {},
            }
        }
        _ => Command::ExpireOrders {},
    }
}

/// The seller's own units behind its offer of `sku` at `m`, when upstream sources add more.
fn through_sources(e: &Engine, m: &str, sku: &str, seller: &str) -> Option<u64> {
    let x = e.explain(m, sku).ok()?;
    let o = x.offers.iter().find(|o| *o.seller == *seller)?;
    (o.path.third? > 0).then_some(o.path.own?)
}

/// A seller order or chain order of marketplace `m`'s order `id`, at any level: (its seller,
/// its id), so cancels and invoices come from every level of the chain.
fn order_part(r: &mut Rng, e: &Engine, m: &str, id: &str) -> Option<(String, String)> {
    let view = e.order(m, id).ok()?;
    let mut parts = Vec::new();
    let mut stack: Vec<&serde_json::Value> = view["seller_orders"].as_array()?.iter().collect();
    while let Some(p) = stack.pop() {
        parts.push((p["seller"].as_str()?.to_string(), p["id"].as_str()?.to_string()));
        stack.extend(p["chain_orders"].as_array()?.iter());
    }
    parts.sort();
    (!parts.is_empty()).then(|| parts.swap_remove(r.below(parts.len() as u64) as usize))
}

fn command(r: &mut Rng, e: &Engine) -> Command {
    let a = s(r.pick(ACCOUNTS));
    let b = s(r.pick(ACCOUNTS));
    let (sa, sb) = (sku_of(r, e, &a), sku_of(r, e, &b));
    match r.below(100) {
        0..=3 => Command::CreateAccount {
            id: a.clone(),
            name: a.to_uppercase(),
            currency: s(if r.chance(90) { "BRL" } else { "USD" }),
            token_hash: None,
        },
        4..=15 => Command::PutSku {
            account: a,
            sku: if r.chance(50) { sa } else { any_sku(r) },
            body: SkuBody {
                name: Some(s("Item")),
                product_id: r.chance(30).then(|| s("p1")),
                brand: r.chance(50).then(|| s(r.pick(BRANDS))),
                category: None,
                ean: r.chance(40).then(|| s(r.pick(EANS))),
                ref_id: r.chance(50).then(|| s(r.pick(REFS))),
                active: if r.chance(15) { Some(false) } else { None },
            },
        },
        16..=19 => Command::PutTradePolicy {
            account: a,
            trade_policy: s(r.pick(TPS)),
            body: TradePolicyBody {
                name: None,
                assortment: Some(if r.chance(60) {
                    WordOrList::Word(s("all"))
                } else {
                    WordOrList::List((0..r.below(4)).map(|_| any_sku(r)).collect())
                }),
            },
        },
        20..=23 => Command::PutWarehouse {
            account: a,
            warehouse: s(r.pick(WHS)),
            body: WarehouseBody {
                trade_policies: if r.chance(30) { None } else { Some((0..1 + r.below(2)).map(|_| tp(r)).collect()) },
            },
        },
        24..=40 => Command::PutStock {
            account: a,
            warehouse: s(if r.chance(80) { "w0" } else { r.pick(WHS) }),
            sku: sa,
            body: if r.chance(10) {
                StockBody { quantity: None, unlimited: Some(true) }
            } else if r.chance(3) {
                StockBody { quantity: Some(-1), unlimited: None }
            } else {
                StockBody { quantity: Some(r.below(4) as i64), unlimited: None }
            },
        },
        41..=50 => Command::PutPrice {
            account: a,
            sku: sa,
            body: PriceBody {
                price: Some(r.below(5) as i64 * 100),
                list_price: r.chance(30).then_some(450),
                trade_policy: r.chance(20).then(|| s(r.pick(TPS))),
            },
        },
        51..=52 => Command::DeletePrice { account: a, sku: sa, trade_policy: r.chance(90).then(|| s(r.pick(TPS))) },
        53..=62 => Command::PutAffiliation {
            seller: a,
            marketplace: b,
            body: AffiliationBody {
                trade_policy: Some(tp(r)),
                active: if r.chance(80) { None } else { Some(false) },
                resale: resale(r),
                require_own_stock: if r.chance(50) { Some(false) } else { None },
            },
        },
        63..=68 => Command::PatchAffiliation {
            seller: a,
            marketplace: b,
            body: AffiliationBody {
                trade_policy: r.chance(20).then(|| s(r.pick(TPS))),
                active: opt_bool(r),
                resale: resale(r),
                require_own_stock: opt_bool(r),
            },
        },
        69..=70 => Command::DeleteAffiliation { seller: a, marketplace: b },
        71..=79 => Command::PutSeller {
            marketplace: a,
            seller: b,
            body: SellerBody {
                trade_policies: r.chance(30).then(|| (0..r.below(3)).map(|_| tp(r)).collect()),
                active: if r.chance(85) { None } else { Some(false) },
                match_mode: r.chance(50).then(|| s(r.pick(&["auto", "score", "manual"]))),
                commission_bp: None,
            },
        },
        80..=85 => Command::PatchSeller {
            marketplace: a,
            seller: b,
            body: SellerBody {
                trade_policies: r.chance(20).then(|| vec![s(r.pick(TPS))]),
                active: opt_bool(r),
                match_mode: r.chance(40).then(|| s(r.pick(&["auto", "score", "manual"]))),
                commission_bp: None,
            },
        },
        86..=87 => Command::DeleteSeller { marketplace: a, seller: b },
        88..=94 => Command::ApproveSuggestion {
            sku: r.chance(50).then(|| sku_of(r, e, &a)),
            marketplace: a,
            seller: b,
            seller_sku: sb,
        },
        _ => Command::DenySuggestion { marketplace: a, seller: b, seller_sku: sb },
    }
}

/// Most cases start with accounts that hold a warehouse and a few priced, stocked SKUs, so
/// that random connections quickly produce sellable offers and multi-level chains.
fn setup(r: &mut Rng) -> Vec<Command> {
    let mut out = Vec::new();
    for a in ACCOUNTS {
        if !r.chance(85) {
            continue;
        }
        out.push(Command::CreateAccount { id: s(a), name: s(a), currency: s("BRL"), token_hash: None });
        out.push(Command::PutWarehouse { account: s(a), warehouse: s("w0"), body: WarehouseBody::default() });
        for k in SKUS {
            if r.chance(50) {
                out.push(Command::PutSku {
                    account: s(a),
                    sku: s(k),
                    body: SkuBody {
                        name: Some(s("Item")),
                        ean: r.chance(40).then(|| s(r.pick(EANS))),
                        ..Default::default()
                    },
                });
                out.push(Command::PutPrice {
                    account: s(a),
                    sku: s(k),
                    body: PriceBody { price: Some(100), ..Default::default() },
                });
                out.push(Command::PutStock {
                    account: s(a),
                    warehouse: s("w0"),
                    sku: s(k),
                    body: StockBody { quantity: Some(r.below(3) as i64), unlimited: None },
                });
            }
        }
    }
    // A few whole connections, so that chains of several levels form.
    for _ in 0..r.below(7) {
        let (a, b) = (r.pick(ACCOUNTS), r.pick(ACCOUNTS));
        out.push(Command::PutAffiliation {
            seller: s(a),
            marketplace: s(b),
            body: AffiliationBody {
                trade_policy: Some(s("1")),
                active: None,
                resale: if r.chance(50) { Some(WordOrList::Word(s("all"))) } else { resale(r) },
                require_own_stock: r.chance(40).then_some(false),
            },
        });
        out.push(Command::PutSeller { marketplace: s(b), seller: s(a), body: SellerBody::default() });
    }
    out
}

/// A chain a -> b -> c -> d with resale everywhere, prices and a little stock at every level,
/// so that orders at c and d need chain orders upstream.
fn setup_chains(r: &mut Rng) -> Vec<Command> {
    let mut out = Vec::new();
    for a in ACCOUNTS {
        out.push(Command::CreateAccount { id: s(a), name: s(a), currency: s("BRL"), token_hash: None });
        out.push(Command::PutWarehouse { account: s(a), warehouse: s("w0"), body: WarehouseBody::default() });
    }
    let mut skus: Vec<String> = SKUS.iter().map(|k| s(k)).collect();
    for k in &skus {
        out.push(Command::PutSku {
            account: s("a"),
            sku: k.clone(),
            body: SkuBody { name: Some(s("Item")), ..Default::default() },
        });
    }
    for (seller, m) in [("a", "b"), ("b", "c"), ("c", "d")] {
        for k in &skus {
            out.push(Command::PutPrice {
                account: s(seller),
                sku: k.clone(),
                body: PriceBody { price: Some(100), ..Default::default() },
            });
            let quantity = Some(r.below(if seller == "a" { 6 } else { 3 }) as i64);
            let body = StockBody { quantity, unlimited: None };
            out.push(Command::PutStock { account: s(seller), warehouse: s("w0"), sku: k.clone(), body });
        }
        out.push(Command::PutAffiliation {
            seller: s(seller),
            marketplace: s(m),
            body: AffiliationBody {
                trade_policy: Some(s("1")),
                active: None,
                resale: Some(WordOrList::Word(s("all"))),
                require_own_stock: r.chance(30).then_some(false),
            },
        });
        out.push(Command::PutSeller { marketplace: s(m), seller: s(seller), body: SellerBody::default() });
        // The marketplace's new SKUs are `{seller}-{sku}`.
        skus = skus.iter().map(|k| format!("{seller}-{k}")).collect();
    }
    for k in &skus {
        out.push(Command::PutPrice {
            account: s("d"),
            sku: k.clone(),
            body: PriceBody { price: Some(100), ..Default::default() },
        });
    }
    out
}

/// One case: `orders` is the percentage of order commands (placing, authorising, invoicing
/// and cancelling at every level, expiring).
fn run_case(seed: u64, steps: usize, orders: u64) -> Result<(), String> {
    let mut r = Rng(seed);
    let max_chain = 2 + r.below(4) as u8;
    let mut engine = Engine::new(EngineConfig::new(max_chain).unwrap());
    let mut log: Vec<(Command, u64)> = Vec::new();
    let mut all_events = Vec::new();
    let commands = if orders >= 50 && r.chance(50) { setup_chains(&mut r) } else { setup(&mut r) };
    for c in commands {
        if let Ok(ev) = engine.apply(&c, 0) {
            all_events.extend(ev);
            log.push((c, 0));
        }
    }
    // Halfway through, the engine is restored from a snapshot; from then on the restored copy
    // must behave exactly like the original.
    let mut restored: Option<Engine> = None;
    let mut placed: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut now: u64 = 1_800_000_000_000;
    for step in 0..steps {
        if step == steps / 2 {
            let bytes = engine.snapshot_bytes();
            let copy = Engine::from_snapshot_bytes(engine.config(), &bytes).map_err(|e| format!("restore: {e}"))?;
            if copy.snapshot_bytes() != bytes || copy.stored_offers() != engine.stored_offers() {
                return Err(format!("step {step}: the restored snapshot differs"));
            }
            restored = Some(copy);
        }
        let cmd = if r.chance(orders) { order_command(&mut r, &engine, &mut placed) } else { command(&mut r, &engine) };
        now += r.below(10 * 60_000);
        let before = format!("{engine:?}");
        let outcome = engine.apply(&cmd, now);
        if let Some(copy) = restored.as_mut() {
            if copy.apply(&cmd, now) != outcome {
                return Err(format!("step {step}: the restored engine answered {cmd:?} differently"));
            }
        }
        match outcome {
            Ok(ev) => {
                for (i, e) in ev.iter().enumerate() {
                    let expected = engine.last_seq() - ev.len() as u64 + 1 + i as u64;
                    if e.seq != expected {
                        return Err(format!("step {step}: event sequence numbers are not consecutive"));
                    }
                }
                all_events.extend(ev);
                log.push((cmd.clone(), now));
            }
            Err(e) => {
                if format!("{engine:?}") != before {
                    return Err(format!("step {step}: refused command {cmd:?} ({e}) changed the state"));
                }
            }
        }
        engine.check_invariants().map_err(|m| format!("step {step} after {cmd:?}: {m}"))?;
    }
    if let Some(copy) = restored {
        if copy.snapshot_bytes() != engine.snapshot_bytes() || copy.stored_offers() != engine.stored_offers() {
            return Err("the restored engine ended in another state".to_string());
        }
    }
    // Determinism: the log replays to the same events and state.
    let mut replay = Engine::new(EngineConfig::new(max_chain).unwrap());
    let mut replay_events = Vec::new();
    for (c, at) in &log {
        replay_events.extend(replay.apply(c, *at).map_err(|e| format!("replay refused {c:?}: {e}"))?);
    }
    if replay_events != all_events || format!("{replay:?}") != format!("{engine:?}") {
        return Err("replay differs".to_string());
    }
    Ok(())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn regression_seeds() {
    for &seed in REGRESSION_SEEDS {
        if let Err(m) = run_case(seed, 120, 12) {
            panic!("regression seed {seed}: {m}");
        }
    }
}

#[test]
fn random_command_sequences_match_the_reference() {
    let cases = env_u64("OFFERNET_PROPTEST_CASES", 2_000);
    let first = env_u64("OFFERNET_PROPTEST_SEED", 1);
    for seed in first..first + cases {
        if let Err(m) = run_case(seed, 120, 12) {
            panic!("seed {seed} failed (add it to REGRESSION_SEEDS): {m}");
        }
    }
}

/// Order workloads: half the commands place, authorise, invoice and cancel orders at every
/// level of the chain (the order-tree invariants of `check_invariants` after each).
#[test]
fn order_heavy_sequences_keep_order_trees_whole() {
    let cases = env_u64("OFFERNET_PROPTEST_CASES", 2_000) / 2;
    let first = env_u64("OFFERNET_PROPTEST_SEED", 1);
    for seed in first..first + cases {
        if let Err(m) = run_case(seed, 120, 50) {
            panic!("seed {seed} failed with orders at 50% (add it to ORDER_REGRESSION_SEEDS): {m}");
        }
    }
    for &seed in ORDER_REGRESSION_SEEDS {
        if let Err(m) = run_case(seed, 120, 50) {
            panic!("order regression seed {seed}: {m}");
        }
    }
}

/// The generator must actually reach the interesting states, or the test above proves little.
#[test]
fn the_generator_reaches_deep_states() {
    let (mut bound, mut multi_level, mut sellable, mut cut, mut through) = (0, 0, 0, 0, 0);
    let (mut orders_ok, mut chain_orders) = (0, 0);
    for seed in 0..200 {
        let mut r = Rng(seed);
        let mut engine = Engine::new(EngineConfig::new(4).unwrap());
        for c in setup(&mut r) {
            let _ = engine.apply(&c, 0);
        }
        let mut placed = Vec::new();
        for step in 0..120u64 {
            let c = if r.chance(12) { order_command(&mut r, &engine, &mut placed) } else { command(&mut r, &engine) };
            let ok = engine.apply(&c, step * 60_000).is_ok();
            if ok && matches!(c, Command::PlaceOrder { .. }) {
                orders_ok += 1;
                if let Command::PlaceOrder { marketplace, body } = &c {
                    let v = engine.order(marketplace, body.id.as_deref().unwrap()).unwrap();
                    chain_orders += v["seller_orders"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| !s["chain_orders"].as_array().unwrap().is_empty())
                        .count();
                }
            }
        }
        // Ordering exactly what a sellable offer shows, on a copy, exercises chain orders.
        for a in ACCOUNTS {
            let Ok(offers) = engine.offers(a, &OfferFilter { seller: None, sellable: Some(true) }) else { continue };
            for o in offers {
                let Some(q) = o.quantity else { continue };
                let mut copy = engine.clone();
                let item = OrderItemBody {
                    sku: Some(o.sku.to_string()),
                    quantity: Some(q as i64),
                    seller: Some(o.seller.to_string()),
                };
                let cmd = Command::PlaceOrder {
                    marketplace: s(a),
                    body: OrderBody { id: Some("full".into()), items: Some(vec![item]) },
                };
                if copy.apply(&cmd, 0).is_ok() {
                    copy.check_invariants().unwrap();
                    let v = copy.order(a, "full").unwrap();
                    chain_orders += v["seller_orders"][0]["chain_orders"].as_array().unwrap().len();
                }
            }
        }
        for a in ACCOUNTS {
            let Ok(offers) = engine.offers(a, &OfferFilter::default()) else { continue };
            for o in offers {
                bound += 1;
                sellable += o.sellable as usize;
                let e = engine.explain(a, &o.sku).unwrap();
                let sources: Vec<&ExplainSource> = e.offers.iter().flat_map(|x| x.path.sources.iter()).collect();
                multi_level += !sources.is_empty() as usize;
                through += sources.iter().any(|s| s.included && s.quantity != Some(0)) as usize;
                cut += sources
                    .iter()
                    .any(|s| s.reasons.iter().any(|x| x == "loop" || x == "resale_not_authorized" || x == "max_depth"))
                    as usize;
            }
        }
    }
    let seen = format!(
        "bound {bound}, sellable {sellable}, cut {cut}, multi-level {multi_level}, stock through a forwarder {through}, orders placed {orders_ok}, with chain orders {chain_orders}"
    );
    println!("{seen}");
    assert!(bound > 500 && sellable > 100 && cut > 50 && multi_level > 100 && through > 20, "{seen}");
    assert!(orders_ok > 100 && chain_orders >= 5, "{seen}");

    // The order-heavy workload cancels and invoices at every level, also after an invoice.
    let (mut chain_cancels, mut refused_invoiced, mut chain_invoices, mut seller_cancels) = (0, 0, 0, 0);
    for seed in 0..200 {
        let mut r = Rng(seed);
        let mut engine = Engine::new(EngineConfig::new(4).unwrap());
        for c in if r.chance(50) { setup_chains(&mut r) } else { setup(&mut r) } {
            let _ = engine.apply(&c, 0);
        }
        let mut placed = Vec::new();
        for step in 0..120u64 {
            let c = if r.chance(50) { order_command(&mut r, &engine, &mut placed) } else { command(&mut r, &engine) };
            let res = engine.apply(&c, step * 60_000);
            match (&c, &res) {
                (Command::CancelOrder { id, .. }, Ok(_)) if id.matches('.').count() >= 2 => chain_cancels += 1,
                (Command::CancelOrder { id, .. }, Ok(_)) if id.contains('.') => seller_cancels += 1,
                (Command::CancelOrder { .. }, Err(e)) if e.to_string().contains("invoiced") => refused_invoiced += 1,
                (Command::InvoiceOrder { id, .. }, Ok(_)) if id.matches('.').count() >= 2 => chain_invoices += 1,
                _ => {}
            }
        }
    }
    let seen = format!(
        "cancels of chain orders {chain_cancels}, of seller orders {seller_cancels}, refused after an invoice {refused_invoiced}, chain orders invoiced {chain_invoices}"
    );
    println!("{seen}");
    assert!(chain_cancels >= 20 && seller_cancels >= 20 && refused_invoiced >= 10 && chain_invoices >= 5, "{seen}");
}
