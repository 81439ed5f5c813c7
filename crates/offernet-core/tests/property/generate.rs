//! The property test's generators: a seeded RNG, the id pools, one random command (`command`,
//! `order_command`) against the engine's current state, and the setups a case starts from.

use offernet_core::*;

mod vtex;
use vtex::{
    conflict_command, follow_up_email, invoice_extras, order_extras, outbound_command, remote_seller_id,
    shipping_command,
};

/// SplitMix64: tiny, fast, and good enough to drive a generator.
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
    pub fn pick(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub const ACCOUNTS: &[&str] = &["a", "b", "c", "d", "e"];
const SKUS: &[&str] = &["k0", "k1", "k2", "k3"];
const EANS: &[&str] = &["96385074", "4006381333931", "036000291452"];
const REFS: &[&str] = &["r1", "r2"];
const BRANDS: &[&str] = &["Acme", "ACME", "Zed"];
pub const TPS: &[&str] = &["1", "t2", "t9"];
const WHS: &[&str] = &["w0", "w1"];

pub fn s(x: &str) -> String {
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

/// A SKU body with content only (description, images, dimensions), each part sometimes:
/// content never changes an offer, so "incremental = recompute" holds with it too. Drawn from
/// a generator derived from `r` without advancing it (content and product URLs), so the
/// sequences the other commands follow, and what they reach, stay as they were.
fn content(r: &Rng) -> SkuBody {
    let r = &mut Rng(r.0 ^ 0xc0_47e7);
    let n = |x: f64| serde_json::Number::from_f64(x);
    SkuBody {
        description: r.chance(30).then(|| s(r.pick(&["Steel.\nOne litre.", "Blue"]))),
        images: r.chance(30).then(|| (0..r.below(3)).map(|i| format!("https://cdn.example/{i}.jpg")).collect()),
        dimensions: r.chance(30).then(|| DimensionsBody {
            height_cm: r.chance(50).then(|| n(r.below(500) as f64 / 4.0)).flatten(),
            weight_g: r.chance(50).then(|| n(r.below(5000) as f64)).flatten(),
            ..Default::default()
        }),
        ..Default::default()
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
pub fn sku_of(r: &mut Rng, e: &Engine, a: &str) -> String {
    match e.sku_ids(a) {
        Ok(ids) if !ids.is_empty() && r.chance(85) => ids[r.below(ids.len() as u64) as usize].to_string(),
        _ => any_sku(r),
    }
}

/// Order commands: place against live offers, then authorise, invoice, cancel, expire.
pub fn order_command(r: &mut Rng, e: &Engine, placed: &mut Vec<(String, String, Vec<String>)>) -> Command {
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
            let body = order_extras(&*r, e, &m, OrderBody { id: Some(id), items: Some(items), ..OrderBody::default() });
            Command::PlaceOrder { marketplace: m, body }
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
                Some((account, part)) => Command::InvoiceOrder { account, id: part, invoice: invoice_extras(&*r) },
                None => Command::ExpireOrders {},
            }
        }
        _ => outbound_command(&*r, e, placed)
            .or_else(|| conflict_command(&*r, placed))
            .unwrap_or(Command::ExpireOrders {}),
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

/// One random command of any kind but orders. Long on purpose: one flat match arm per command
/// kind, with its share of the 100 draws beside it, so the mix reads as one table.
pub fn command(r: &mut Rng, e: &Engine) -> Command {
    let a = s(r.pick(ACCOUNTS));
    let b = s(r.pick(ACCOUNTS));
    let (sa, sb) = (sku_of(r, e, &a), sku_of(r, e, &b));
    match r.below(100) {
        0..=3 => Command::CreateAccount {
            id: a.clone(),
            name: a.to_uppercase(),
            currency: s(if r.chance(90) { "BRL" } else { "USD" }),
            token_hash: r.chance(50).then(|| token_hash(r)),
        },
        4..=15 => Command::PutSku {
            account: a,
            sku: if r.chance(50) { sa } else { any_sku(r) },
            body: Box::new(SkuBody {
                name: Some(s("Item")),
                product_id: r.chance(30).then(|| s("p1")),
                brand: r.chance(50).then(|| s(r.pick(BRANDS))),
                category: None,
                ean: r.chance(40).then(|| s(r.pick(EANS))),
                ref_id: r.chance(50).then(|| s(r.pick(REFS))),
                active: if r.chance(15) { Some(false) } else { None },
                ..content(&*r)
            }),
        },
        16..=19 => Command::PutTradePolicy {
            account: a,
            trade_policy: s(r.pick(TPS)),
            body: TradePolicyBody {
                name: None,
                product_url: Rng(r.0 ^ 0x7e1).chance(30).then(|| s("https://shop.example/p/{sku}")),
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
            body: Box::new(AffiliationBody {
                trade_policy: Some(tp(r)),
                active: if r.chance(80) { None } else { Some(false) },
                resale: resale(r),
                require_own_stock: if r.chance(50) { Some(false) } else { None },
                remote_seller_id: remote_seller_id(r),
                follow_up_email: follow_up_email(&*r),
            }),
        },
        63..=68 => Command::PatchAffiliation {
            seller: a,
            marketplace: b,
            body: Box::new(AffiliationBody {
                trade_policy: r.chance(20).then(|| s(r.pick(TPS))),
                active: opt_bool(r),
                resale: resale(r),
                require_own_stock: opt_bool(r),
                remote_seller_id: remote_seller_id(r),
                follow_up_email: follow_up_email(&*r),
            }),
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
        95 => account_command(r, a),
        96 => shipping_command(r, a),
        _ => Command::DenySuggestion { marketplace: a, seller: b, seller_sku: sb },
    }
}

const TOKEN_IDS: &[&str] = &["initial", "t1", "t2", "bad.id"];

/// A token hash as the server journals it (64 lowercase hex digits), rarely a malformed one.
fn token_hash(r: &mut Rng) -> String {
    match r.chance(5) {
        true => s("not-a-hash"),
        false => format!("{:016x}", r.next()).repeat(4),
    }
}

/// An account's own commands: its tokens and its name.
fn account_command(r: &mut Rng, a: String) -> Command {
    match r.below(3) {
        0 => Command::CreateToken { account: a, id: s(r.pick(TOKEN_IDS)), name: s("ci"), token_hash: token_hash(r) },
        1 => Command::DeleteToken { account: a, id: s(r.pick(TOKEN_IDS)) },
        _ => Command::PatchAccount {
            account: a,
            body: AccountPatchBody { name: r.chance(80).then(|| s(r.pick(&["Shop", "Store", " "]))) },
        },
    }
}

/// An import: one to six catalog commands drawn by `command` (the other kinds dropped) as the
/// lines of one `Command::Import` into one account. Their ids are drawn for any account, so some
/// lines name what an earlier line creates and some what nothing creates: refused imports
/// (nothing applied) are drawn too.
pub fn import_command(r: &mut Rng, e: &Engine) -> Command {
    let account = s(r.pick(ACCOUNTS));
    let want = 1 + r.below(6) as usize;
    let mut lines = Vec::new();
    while lines.len() < want {
        lines.push(match command(r, e) {
            Command::PutSku { sku, body, .. } => ImportLine::Sku { id: sku, body: *body },
            Command::PutPrice { sku, body, .. } => ImportLine::Price { sku, body },
            Command::PutWarehouse { warehouse, body, .. } => ImportLine::Warehouse { id: warehouse, body },
            Command::PutStock { warehouse, sku, body, .. } => ImportLine::Stock { warehouse, sku, body },
            Command::PutTradePolicy { trade_policy, body, .. } => ImportLine::TradePolicy { id: trade_policy, body },
            _ => continue,
        });
    }
    Command::Import { account, lines }
}

/// Most cases start with accounts that hold a warehouse and a few priced, stocked SKUs, so
/// that random connections quickly produce sellable offers and multi-level chains.
pub fn setup(r: &mut Rng) -> Vec<Command> {
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
                    body: Box::new(SkuBody {
                        name: Some(s("Item")),
                        ean: r.chance(40).then(|| s(r.pick(EANS))),
                        ..Default::default()
                    }),
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
            body: Box::new(AffiliationBody {
                trade_policy: Some(s("1")),
                active: None,
                resale: if r.chance(50) { Some(WordOrList::Word(s("all"))) } else { resale(r) },
                require_own_stock: r.chance(40).then_some(false),
                remote_seller_id: None,
                follow_up_email: None,
            }),
        });
        out.push(Command::PutSeller { marketplace: s(b), seller: s(a), body: SellerBody::default() });
    }
    out
}

/// A chain a -> b -> c -> d with resale everywhere, prices and a little stock at every level,
/// so that orders at c and d need chain orders upstream.
pub fn setup_chains(r: &mut Rng) -> Vec<Command> {
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
            body: Box::new(SkuBody { name: Some(s("Item")), ..Default::default() }),
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
            body: Box::new(AffiliationBody {
                trade_policy: Some(s("1")),
                active: None,
                resale: Some(WordOrList::Word(s("all"))),
                require_own_stock: r.chance(30).then_some(false),
                remote_seller_id: None,
                follow_up_email: None,
            }),
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
