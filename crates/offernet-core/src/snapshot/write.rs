//! Encoding: the engine's ground state as bytes, part by part (mirrored by `read.rs`).

use std::ops::Range;
use std::sync::Arc;

use super::codec::W;
use super::load::{by_skus, in_parallel, thread_count, SKUS_PER_WRITE_THREAD};
use super::*;
use crate::fx::FxHashMap;
use crate::state::Engine;

impl Engine {
    /// The engine's ground state as bytes (deterministic: equal states, equal bytes).
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        self.encode(None, SNAPSHOT_FORMAT, None)
    }

    /// [`Engine::snapshot_bytes`] with the accounts encoded on `threads` threads (`None`: the
    /// machine's cores, one per `SKUS_PER_WRITE_THREAD` SKUs). The same bytes whatever the
    /// number; only the time differs.
    pub fn snapshot_bytes_on(&self, threads: Option<usize>) -> Vec<u8> {
        self.encode(None, SNAPSHOT_FORMAT, threads)
    }

    /// What a snapshot of an older `format` keeps of this state, for comparing (`compare.rs`),
    /// not for loading: the header says the current format, but before format 8 the accounts
    /// have no frames, and before 7 the SKUs are laid out as that format lays them out (no
    /// text table, each SKU with its own text: `sku`), so those bytes decode only once the
    /// header says `format`. Kept: a
    /// format-1 snapshot reads every `initial` token's time as `FORMAT_1_TOKEN_CREATED_MS`,
    /// one before format 4 has no order dates (`authorized_ms`, `closed_ms`), and one before
    /// format 5 no sub order at an external seller (`external.rs`), invoices or owed calls, and
    /// one before format 6 no conflicts with external sellers nor affiliations' follow-up e-mails. What `journal verify` compares an older snapshot
    /// with (`compare.rs`).
    pub fn snapshot_bytes_kept_by(&self, format: u32) -> Vec<u8> {
        self.encode((format == 1).then_some(FORMAT_1_TOKEN_CREATED_MS), format, None)
    }

    /// `snapshot_bytes`, with every `initial` token's time written as `initial_token_ms` when
    /// given, orders' dates only from format 4 on, and the external and outbound sections'
    /// content only from format 5 on and the conflicts' and follow-up e-mails' from format 6 on (empty before).
    pub(super) fn encode(&self, initial_token_ms: Option<u64>, format: u32, threads: Option<usize>) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(1 << 16));
        w.0.extend_from_slice(MAGIC);
        w.u32(SNAPSHOT_FORMAT);
        w.u8(self.config.max_chain);
        w.u64(self.seq);
        w.u64(self.applied);
        // Format 7: the brands and categories first, as a table SKUs name by position.
        let table = (format >= 7).then(|| TextTable::of(&self.accounts));
        if let Some(t) = &table {
            w.u32(t.list.len() as u32);
            for s in &t.list {
                w.str(s);
            }
        }
        w.u32(self.accounts.len() as u32);
        let parts = self.encode_accounts(&mut w, initial_token_ms, format, table.as_ref(), threads);
        if parts.is_empty() {
            self.encode_tail(&mut w, format);
            return w.0;
        }
        // Encoded on several threads: the sections after the accounts first, so that the
        // whole is joined into one buffer of exactly its size, each part freed once copied.
        let mut tail = W(Vec::new());
        self.encode_tail(&mut tail, format);
        w.0.reserve_exact(parts.iter().map(Vec::len).sum::<usize>() + tail.0.len());
        for part in parts {
            w.0.extend_from_slice(&part);
        }
        w.0.extend_from_slice(&tail.0);
        w.0
    }

    /// The sections after the accounts: orders, then each later format's (empty where `format`
    /// has none).
    fn encode_tail(&self, w: &mut W, format: u32) {
        let order_dates = format >= 4;
        self.encode_orders(w);
        self.encode_webhooks(w);
        self.encode_integrations(w);
        self.encode_vtex(w, order_dates);
        self.encode_external(w, format >= 5);
        if format >= 5 {
            self.encode_outbound(w);
        } else {
            w.u32(0);
            w.u32(0);
            w.u32(0);
        }
        if format >= 6 {
            self.encode_conflicts(w);
            self.encode_emails(w);
        } else {
            w.u32(0);
            w.u32(0);
        }
    }

    /// The accounts, into `w` on one thread (returning no parts), or as parts to join in order:
    /// consecutive ranges of about equal SKUs, each encoded on its own thread (`asked`, or
    /// the machine's cores, one per `SKUS_PER_WRITE_THREAD` SKUs). The same bytes whatever the
    /// number of threads.
    fn encode_accounts(
        &self,
        w: &mut W,
        initial_token_ms: Option<u64>,
        format: u32,
        table: Option<&TextTable>,
        asked: Option<usize>,
    ) -> Vec<Vec<u8>> {
        let encode_range = |w: &mut W, range: Range<usize>| {
            for a in &self.accounts[range] {
                // Format 8: each account after its length in bytes, so a load can find them
                // all first and decode them on several threads.
                let framed = (format >= 8).then(|| {
                    w.u64(0);
                    w.0.len()
                });
                account(w, a, &self.accounts, initial_token_ms, format, table);
                if let Some(start) = framed {
                    let len = (w.0.len() - start) as u64;
                    w.0[start - 8..start].copy_from_slice(&len.to_le_bytes());
                }
            }
        };
        let skus: usize = self.accounts.iter().map(|a| a.skus.len()).sum();
        let ranges = by_skus(&self.accounts, thread_count(asked, skus, SKUS_PER_WRITE_THREAD));
        if ranges.len() <= 1 {
            encode_range(w, 0..self.accounts.len());
            return Vec::new();
        }
        in_parallel(ranges, |range| {
            let mut part = W(Vec::new());
            encode_range(&mut part, range);
            vec![part.0]
        })
    }

    fn encode_orders(&self, w: &mut W) {
        let o = &self.orders;
        let mut settings: Vec<(&AccountIdx, &u64)> = o.reservation_ms.iter().collect();
        settings.sort();
        w.u32(settings.len() as u32);
        for (a, ms) in settings {
            w.account(*a);
            w.u64(*ms);
        }
        w.u32(o.list.len() as u32);
        for order in &o.list {
            w.str(&order.id);
            w.account(order.marketplace);
            w.u8(order_status_code(order.status));
            w.u64(order.created_ms);
            w.u64(order.expires_ms);
            w.u32(order.request.len() as u32);
            for (sku, q, seller) in &order.request {
                w.str(sku);
                w.u64(*q);
                w.str(seller);
            }
            w.u32(order.items.len() as u32);
            for it in &order.items {
                w.sku(it.sku);
                w.u64(it.quantity);
                w.account(it.seller);
                w.i64(it.price);
            }
            w.u32(order.subs.len() as u32);
            for s in &order.subs {
                sub_order(w, s);
            }
        }
    }
}

fn sub_order(w: &mut W, s: &crate::orders::SubOrder) {
    w.str(&s.id);
    w.account(s.seller);
    w.account(s.buyer);
    w.u8(order_status_code(s.status));
    w.opt(s.parent, |w, p| w.u32(p as u32));
    w.u32(s.items.len() as u32);
    for it in &s.items {
        w.sku(it.sku);
        w.u64(it.quantity);
        w.i64(it.price);
        w.u32(it.reservations.len() as u32);
        for &(wh, n) in &it.reservations {
            w.wh(wh);
            w.u64(n);
        }
    }
}

/// Format 7's table of brands and categories, in the order SKUs first name them (the same
/// state, the same table).
pub(super) struct TextTable<'e> {
    list: Vec<&'e str>,
    at: FxHashMap<&'e str, u32>,
}

impl<'e> TextTable<'e> {
    fn of(accounts: &'e [Account]) -> Self {
        let mut t = TextTable { list: Vec::new(), at: FxHashMap::default() };
        for k in accounts.iter().flat_map(|a| &a.skus) {
            for s in [&k.info.brand, &k.info.category].into_iter().flatten() {
                if !t.at.contains_key(&**s) {
                    t.at.insert(s, t.list.len() as u32);
                    t.list.push(s);
                }
            }
        }
        t
    }

    /// 0 for none, else the text's position + 1.
    fn code(&self, s: &Option<Arc<str>>) -> u32 {
        s.as_deref().map_or(0, |s| self.at[s] + 1)
    }
}

/// `accounts`: every account, for the SKUs that `a`'s SKUs were made from.
fn account(
    w: &mut W,
    a: &Account,
    accounts: &[Account],
    initial_token_ms: Option<u64>,
    format: u32,
    table: Option<&TextTable>,
) {
    w.str(&a.id);
    w.str(&a.name);
    w.str(&a.currency);
    w.u32(a.tokens.len() as u32);
    for (id, t) in &a.tokens {
        w.str(id);
        w.str(&t.name);
        w.str(&t.hash);
        let initial = &**id == crate::accounts::INITIAL_TOKEN_ID;
        w.u64(initial_token_ms.filter(|_| initial).unwrap_or(t.created_ms));
    }
    w.u32(a.trade_policies.len() as u32);
    for tp in &a.trade_policies {
        w.str(&tp.id);
        w.opt_str(&tp.name);
        match &tp.assortment {
            Assortment::All => w.u8(ASSORTMENT_ALL),
            Assortment::List(ids, _) => {
                w.u8(ASSORTMENT_LIST);
                strs(w, ids);
            }
        }
        w.opt_str(&tp.product_url);
    }
    w.u32(a.warehouses.len() as u32);
    for wh in &a.warehouses {
        w.str(&wh.id);
        trade_policies(w, &wh.trade_policies);
    }
    w.u32(a.skus.len() as u32);
    for s in &a.skus {
        sku(w, s, sku_at(accounts, s.created_from), format, table);
    }
    connections(w, a);
}

/// An account's connection halves (as seller, as marketplace) and the suggestions it received.
fn connections(w: &mut W, a: &Account) {
    w.u32(a.affiliations.len() as u32);
    for (&m, x) in &a.affiliations {
        w.account(m);
        w.tp(x.trade_policy);
        w.bool(x.active);
        match &x.resale {
            Resale::None => w.u8(RESALE_NONE),
            Resale::All => w.u8(RESALE_ALL),
            Resale::List(l) => {
                w.u8(RESALE_LIST);
                strs(w, l);
            }
        }
        w.bool(x.require_own_stock);
    }
    w.u32(a.sellers.len() as u32);
    for (&s, r) in &a.sellers {
        w.account(s);
        trade_policies(w, &r.trade_policies);
        w.bool(r.active);
        w.u8(match_mode_code(r.match_mode));
        w.u32(r.commission_bp as u32);
    }
    let mut keys: Vec<&(AccountIdx, SkuIdx)> = a.suggestions.keys().collect();
    keys.sort_unstable();
    w.u32(keys.len() as u32);
    for k in keys {
        let sg = &a.suggestions[k];
        w.account(k.0);
        w.sku(k.1);
        w.u8(suggestion_status_code(sg.status()));
        w.opt(sg.sku(), |w, x| w.sku(x));
    }
}

/// `source`: the SKU `s` was made from, if any: when their texts are equal (shared, as rule 9
/// makes them, or equal again), only `TEXT_OF_SOURCE` is written: the same state, the same
/// bytes, however it shares its text in memory. Before format 7 (`snapshot_bytes_kept_by`),
/// the name came before the product id, every SKU had its own text and its content came last.
fn sku(w: &mut W, s: &Sku, source: Option<&Sku>, format: u32, table: Option<&TextTable>) {
    w.str(&s.id);
    if format < 7 {
        w.str(&s.info.name);
        w.opt_str(&s.product_id);
        sku_text(w, &s.info, None);
    } else {
        w.opt_str(&s.product_id);
        // `Arc`'s equality compares the pointers first: a shared text costs no comparison.
        if source.is_some_and(|src| src.info == s.info) {
            w.u8(TEXT_OF_SOURCE);
        } else {
            w.u8(TEXT_OWN);
            w.str(&s.info.name);
            sku_text(w, &s.info, table);
            w.opt(s.info.content.as_deref(), content);
        }
    }
    w.bool(s.active);
    w.opt(s.price.get().as_ref(), |w, p| w.price(p));
    w.u32(s.tp_prices.len() as u32);
    for (tp, p) in &s.tp_prices {
        w.tp(*tp);
        w.price(p);
    }
    w.u32(s.stock.len() as u32);
    for e in &s.stock {
        w.wh(e.warehouse);
        w.u64(e.quantity.0);
        w.u64(e.reserved);
    }
    w.pairs(&s.bound_at);
    w.pairs(&s.sources);
    w.opt(s.created_from, |w, (x, y)| {
        w.account(x);
        w.sku(y);
    });
    if format < 7 {
        w.opt(s.info.content.as_deref(), content);
    }
}

/// A SKU's own text after its name, without content (written where the format puts it); with
/// format 7's `table`, brand and category as their positions in it.
fn sku_text(w: &mut W, i: &SkuInfo, table: Option<&TextTable>) {
    match table {
        Some(t) => {
            w.u32(t.code(&i.brand));
            w.u32(t.code(&i.category));
        }
        None => {
            w.opt_str(&i.brand);
            w.opt_str(&i.category);
        }
    }
    w.opt(i.ean.as_ref(), |w, e| w.str(&e.0));
    w.opt_str(&i.ref_id);
}

fn content(w: &mut W, c: &SkuContent) {
    w.opt_str(&c.description);
    strs(w, &c.images);
    w.opt(c.dimensions.as_ref(), |w, d| {
        for m in [d.height_cm, d.width_cm, d.length_cm, d.weight_g] {
            w.opt(m, |w, m| w.u64(m.0));
        }
    });
}

fn strs(w: &mut W, ids: &[std::sync::Arc<str>]) {
    w.u32(ids.len() as u32);
    for id in ids {
        w.str(id);
    }
}

fn trade_policies(w: &mut W, tps: &[TpIdx]) {
    w.u32(tps.len() as u32);
    for &tp in tps {
        w.tp(tp);
    }
}
