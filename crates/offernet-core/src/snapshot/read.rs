//! Decoding: bytes back into an engine, part by part (mirroring `write.rs`), then every
//! derived value rebuilt.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::codec::{DResult, R};
use super::load::{in_parallel, new_marker, split_balanced, thread_count, Markers, BYTES_PER_LOAD_THREAD};
use super::*;
use crate::accounts::{initial_token, INITIAL_TOKEN_ID};
use crate::catalog::index_sku;
use crate::fx::{FxHashMap, FxHashSet};
use crate::intern::Interner;
use crate::orders::{Order, OrderItem, SubItem, SubOrder};
use crate::state::{Engine, EngineConfig};

impl Engine {
    /// Rebuilds an engine from `snapshot_bytes`, recomputing every offer. The `max_chain` of
    /// `config` must match the snapshot's (offers depend on it).
    pub fn from_snapshot_bytes(config: EngineConfig, bytes: &[u8]) -> Result<Engine, String> {
        Self::from_snapshot_bytes_on(config, bytes, None)
    }

    /// [`Engine::from_snapshot_bytes`] with the accounts decoded (from format 8) and the
    /// read-only passes of the load (sharing text, evaluating every offer) on `threads`
    /// threads: `None` lets the machine's cores and the snapshot's size decide. The result is
    /// the same whatever the number (the property test checks it); only the time differs.
    pub fn from_snapshot_bytes_on(
        config: EngineConfig,
        bytes: &[u8],
        threads: Option<usize>,
    ) -> Result<Engine, String> {
        let mut r = R { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err("not an offernet snapshot".into());
        }
        let format = r.u32()?;
        if !FORMATS_READ.contains(&format) {
            return Err(format!("snapshot format {format}, this build reads {FORMATS_READ:?}"));
        }
        let max_chain = r.u8()?;
        if max_chain != config.max_chain {
            return Err(format!("snapshot taken with max_chain {max_chain}, configured {}", config.max_chain));
        }
        let threads = thread_count(threads, bytes.len(), BYTES_PER_LOAD_THREAD);
        let mut e = Engine::new(config);
        e.seq = r.u64()?;
        e.applied = r.u64()?;
        let (decoded, markers) = e.decode_accounts(&mut r, format, threads)?;
        let mut copies = Vec::with_capacity(decoded.len());
        for (ai, d) in decoded.into_iter().enumerate() {
            e.account_index.insert(d.account.id.clone(), AccountIdx::new(ai));
            e.accounts.push(d.account);
            e.registered_at.push(BTreeSet::new());
            e.pending.push(d.pending);
            copies.push(d.copies);
        }
        e.decode_orders(&mut r)?;
        if format >= 3 {
            e.decode_webhooks(&mut r)?;
        }
        if format >= 4 {
            e.decode_integrations(&mut r)?;
            e.decode_vtex(&mut r)?;
        }
        if format >= 5 {
            e.decode_external(&mut r)?;
            e.decode_outbound(&mut r)?;
        }
        if format >= 6 {
            e.decode_conflicts(&mut r)?;
            e.decode_emails(&mut r)?;
        }
        if r.at != bytes.len() {
            return Err(format!("{} bytes after the end of the snapshot", bytes.len() - r.at));
        }
        e.share_text(threads, format, &markers, &copies)?;
        drop(markers);
        for a in &mut e.accounts {
            for k in 0..a.skus.len() {
                index_sku(a, SkuIdx::new(k));
            }
        }
        e.rebuild_derived(threads)?;
        Ok(e)
    }

    /// The accounts (from format 7 after the table of brands and categories, shared through
    /// the interner), each with its pending suggestions, in order, and the markers their SKUs
    /// written with `TEXT_OF_SOURCE` hold until `share_text` (one per decoding thread). From
    /// format 8 each account comes after its length in bytes: they are decoded on `threads`
    /// threads (`decode_framed`).
    fn decode_accounts(&mut self, r: &mut R, format: u32, threads: usize) -> DResult<(Vec<Decoded>, Markers)> {
        // Format 7: brands and categories first, shared through the interner; SKUs name them
        // by position. Before, each SKU's text, shared as it is read.
        let table = if format >= 7 {
            let n_texts = r.u32()? as usize;
            let mut table = Vec::with_capacity(r.room(n_texts, 4));
            for _ in 0..n_texts {
                table.push(self.strings.get(r.str_ref()?));
            }
            Some(table)
        } else {
            None
        };
        if let (8.., Some(table)) = (format, &table) {
            return decode_framed(r, format, table, threads);
        }
        let of_source = new_marker();
        let mut decoded = Vec::new();
        for _ in 0..r.u32()? {
            let mut text = match &table {
                Some(t) => SharedText::Table(t),
                None => SharedText::Interner(&mut self.strings),
            };
            decoded.push(account(r, format, &mut text, &of_source)?);
        }
        Ok((decoded, vec![of_source]))
    }

    fn decode_orders(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.account()?;
            let ms = r.u64()?;
            self.orders.reservation_ms.insert(a, ms);
        }
        for oi in 0..r.u32()? as usize {
            let id = r.str()?;
            let marketplace = r.account()?;
            let status = r.code("order status", order_status_of)?;
            let created_ms = r.u64()?;
            let expires_ms = r.u64()?;
            let mut request = Vec::new();
            for _ in 0..r.u32()? {
                request.push((r.str()?.to_string(), r.u64()?, r.str()?.to_string()));
            }
            let mut items = Vec::new();
            for _ in 0..r.u32()? {
                items.push(OrderItem { sku: r.sku()?, quantity: r.u64()?, seller: r.account()?, price: r.i64()? });
            }
            let mut subs = Vec::new();
            for _ in 0..r.u32()? {
                subs.push(sub_order(r)?);
            }
            self.orders.index.insert((marketplace, id.clone()), (oi, None));
            for (si, s) in subs.iter().enumerate() {
                self.orders.index.insert((s.seller, s.id.clone()), (oi, Some(si)));
            }
            if status == OrderStatus::Reserved {
                self.orders.expiry.insert((expires_ms, oi));
            }
            self.orders.list.push(Order {
                id,
                marketplace,
                status,
                items,
                request,
                created_ms,
                expires_ms,
                subs,
                authorized_ms: None,
                closed_ms: None,
                external_ref: None,
                document_sha256: None,
            });
        }
        Ok(())
    }
}

fn sub_order(r: &mut R) -> DResult<SubOrder> {
    let id = r.str()?;
    let seller = r.account()?;
    let buyer = r.account()?;
    let status = r.code("order status", order_status_of)?;
    let parent = r.opt(|r| Ok(r.u32()? as usize))?;
    let mut items = Vec::new();
    for _ in 0..r.u32()? {
        let sku = r.sku()?;
        let quantity = r.u64()?;
        let price = r.i64()?;
        let mut reservations = Vec::new();
        for _ in 0..r.u32()? {
            reservations.push((r.wh()?, r.u64()?));
        }
        items.push(SubItem { sku, quantity, price, reservations });
    }
    Ok(SubOrder { id, seller, buyer, status, items, parent, external: None })
}

/// An account as decoded, with its pending suggestions (derived, rebuilt here) and how many
/// of its SKUs are copies (made from another SKU: the work `share_text` has with it).
struct Decoded {
    account: Account,
    pending: BTreeSet<(AccountIdx, SkuIdx)>,
    copies: usize,
}

/// Format 8's accounts, each framed by its length in bytes: the frames found in one pass (one
/// passing the end refused before any account is decoded), then decoded on `threads` threads,
/// consecutive accounts of about equal bytes each, kept in account order (the same engine
/// whatever the number of threads); the first account in order that fails (or leaves bytes of
/// its frame unread) is the one reported. Each thread holds its own marker and, but the first,
/// its own copies of the brands and categories (an atomic count shared by two cores would
/// bounce between them on every clone; sharing text is memory only).
fn decode_framed(r: &mut R, format: u32, table: &[Arc<str>], threads: usize) -> DResult<(Vec<Decoded>, Markers)> {
    let n = r.u32()? as usize;
    let mut frames = Vec::with_capacity(r.room(n, 8));
    for i in 0..n {
        let len = r.u64()?;
        let start = r.at;
        match usize::try_from(len) {
            Ok(len) if len <= r.b.len() - start => r.at += len,
            _ => return Err(format!("account {i}'s frame of {len} bytes at byte {start} passes the end")),
        }
        frames.push(start..r.at);
    }
    let bytes = r.b;
    let parts = in_parallel(split_balanced(frames.iter().map(|f| f.len()), threads), |range| {
        let own: Vec<Arc<str>>;
        let table = if range.start == 0 {
            table
        } else {
            own = table.iter().map(|s| Arc::from(&**s)).collect();
            &own
        };
        let marker = new_marker();
        let mut out = Vec::with_capacity(range.len());
        for i in range {
            let f = &frames[i];
            let mut r = R { b: &bytes[..f.end], at: f.start };
            let d = account(&mut r, format, &mut SharedText::Table(table), &marker).and_then(|d| match f.end - r.at {
                0 => Ok(d),
                left => Err(format!("account {i} leaves {left} of its frame's bytes unread")),
            });
            let failed = d.is_err();
            out.push(d);
            if failed {
                break;
            }
        }
        vec![(out, marker)]
    });
    let mut decoded = Vec::with_capacity(n);
    let mut markers = Vec::with_capacity(parts.len());
    for (out, marker) in parts {
        for d in out {
            decoded.push(d?);
        }
        markers.push(marker);
    }
    Ok((decoded, markers))
}

/// One account, its pending suggestions and its copies (counted as its SKUs are decoded).
/// `of_source`: the marker a SKU written with `TEXT_OF_SOURCE` holds until `share_text`. The
/// matching indexes (GTIN, ref_id) are built after it, when every SKU has its text.
fn account(r: &mut R, format: u32, text: &mut SharedText, of_source: &Arc<SkuInfo>) -> DResult<Decoded> {
    let id = r.str()?;
    let mut a = Account::new(id, r.str()?, r.str()?);
    if format == 1 {
        // Format 1 held one optional token hash: the token `CreateAccount` makes, so it becomes
        // token `initial` as replaying that command does, but its time was never written.
        if let Some(hash) = r.opt_str()? {
            a.tokens.insert(Arc::from(INITIAL_TOKEN_ID), initial_token(&hash, FORMAT_1_TOKEN_CREATED_MS));
        }
    } else {
        for _ in 0..r.u32()? {
            let id = r.str()?;
            a.tokens.insert(id, Token { name: r.str()?, hash: r.str()?, created_ms: r.u64()? });
        }
    }
    a.trade_policies.clear();
    a.tp_index = FxHashMap::default();
    for i in 0..r.u32()? {
        let tp = trade_policy(r, format)?;
        a.tp_index.insert(tp.id.clone(), TpIdx::new(i as usize));
        a.trade_policies.push(tp);
    }
    for i in 0..r.u32()? {
        let wh_id = r.str()?;
        let tps = trade_policies(r)?;
        a.wh_index.insert(wh_id.clone(), WhIdx::new(i as usize));
        a.warehouses.push(Warehouse { id: wh_id, trade_policies: tps });
    }
    let n_skus = r.u32()?;
    a.skus.reserve_exact(r.room(n_skus as usize, 30));
    let mut copies = 0;
    super::prefault::with_spare_faulted_in(&mut a.skus, |skus| {
        for _ in 0..n_skus {
            let k = sku(r, format, text, of_source)?;
            copies += k.created_from.is_some() as usize;
            skus.push(k);
        }
        Ok::<_, String>(())
    })?;
    a.sku_index.fill(&a.skus);
    let pending = connections(r, &mut a)?;
    Ok(Decoded { account: a, pending, copies })
}

/// An account's connection halves (as seller, as marketplace) and the suggestions it received;
/// returns the pending ones (derived, rebuilt here).
fn connections(r: &mut R, a: &mut Account) -> DResult<BTreeSet<(AccountIdx, SkuIdx)>> {
    for _ in 0..r.u32()? {
        let m = r.account()?;
        let trade_policy = r.tp()?;
        let active = r.bool()?;
        let resale = match r.code("resale", |c| (c <= RESALE_LIST).then_some(c))? {
            RESALE_NONE => Resale::None,
            RESALE_ALL => Resale::All,
            _ => Resale::List(strs(r)?),
        };
        let require_own_stock = r.bool()?;
        // Format 4's VTEX section (`vtex.rs`) sets the first, format 6's `emails.rs` the second.
        let (remote_seller_id, follow_up_email) = (None, None);
        let aff = Affiliation { trade_policy, active, resale, require_own_stock, remote_seller_id, follow_up_email };
        a.affiliations.insert(m, aff);
    }
    for _ in 0..r.u32()? {
        let s = r.account()?;
        let trade_policies = trade_policies(r)?;
        let active = r.bool()?;
        let match_mode = r.code("match mode", match_mode_of)?;
        let commission_bp = r.u32()? as u16;
        a.sellers.insert(s, Registration { trade_policies, active, match_mode, commission_bp });
    }
    let mut pending = BTreeSet::new();
    let n_suggestions = r.u32()?;
    let mut suggestions = Vec::with_capacity(r.room(n_suggestions as usize, 10));
    for _ in 0..n_suggestions {
        let k = (r.account()?, r.sku()?);
        let status = r.code("suggestion status", suggestion_status_of)?;
        let sku = r.opt(|r| r.sku())?;
        if status == SuggestionStatus::Pending {
            pending.insert(k);
        }
        suggestions.push((k, Suggestion::new(status, sku)));
    }
    fill_in_slot_order(&mut a.suggestions, suggestions);
    Ok(pending)
}

/// Format 1 has no `product_url`.
fn trade_policy(r: &mut R, format: u32) -> DResult<TradePolicy> {
    let id = r.str()?;
    let name = r.opt_str()?;
    let assortment = match r.code("assortment", |c| (c <= ASSORTMENT_LIST).then_some(c))? {
        ASSORTMENT_ALL => Assortment::All,
        _ => {
            let ids = strs(r)?;
            let set: FxHashSet<Arc<str>> = ids.iter().cloned().collect();
            Assortment::List(ids, set)
        }
    };
    let product_url = if format == 1 { None } else { r.opt_str()? };
    Ok(TradePolicy { id, name, assortment, product_url })
}

/// One SKU. Format 7 writes the product id, then the text (`TEXT_OWN` and the text with its
/// content, or `TEXT_OF_SOURCE`: then the SKU takes `of_source`, a marker that `share_text`
/// replaces with the text of the SKU it was made from); formats 2 to 6 the name before the
/// product id and the content last; format 1 no content. Brands and categories are taken from
/// `text`: before format 7 the engine's shared text (`strings`) as they are read, as `put_sku`
/// takes them; from 7 the table read first (from 8, on a later decoding thread, that thread's
/// copy of it).
fn sku(r: &mut R, format: u32, text: &mut SharedText, of_source: &Arc<SkuInfo>) -> DResult<Sku> {
    let id = r.str()?;
    let (product_id, mut info) = if format >= 7 {
        let product_id = r.opt_str()?;
        let info = match r.code("SKU text", |c| (c <= TEXT_OF_SOURCE).then_some(c))? {
            TEXT_OWN => {
                let name = r.str()?;
                let mut info = sku_text(r, text, name)?;
                info.content = r.opt(content)?.map(Arc::new);
                Some(info)
            }
            _ => None,
        };
        (product_id, info)
    } else {
        let name = r.str()?;
        let product_id = r.opt_str()?;
        (product_id, Some(sku_text(r, text, name)?))
    };
    let active = r.bool()?;
    let price = PriceSlot::new(r.opt(|r| r.price())?);
    let mut tp_prices = Vec::new();
    for _ in 0..r.u32()? {
        tp_prices.push((r.tp()?, r.price()?));
    }
    let stock = r.few(|r| Ok(StockEntry { warehouse: r.wh()?, quantity: Qty(r.u64()?), reserved: r.u64()? }))?;
    let bound_at = r.pairs()?;
    let sources = r.pairs()?;
    let created_from = r.opt(|r| Ok((r.account()?, r.sku()?)))?;
    if let (2..=6, Some(i)) = (format, info.as_mut()) {
        i.content = r.opt(content)?.map(Arc::new);
    }
    let info = match info {
        Some(i) => Arc::new(i),
        None if created_from.is_some() => of_source.clone(),
        None => return Err(format!("SKU {id} takes the text of a SKU but was made from none")),
    };
    Ok(Sku {
        id,
        info,
        product_id,
        active,
        price,
        tp_prices: tp_prices.into_boxed_slice(),
        stock,
        bound_at,
        sources,
        created_from,
    })
}

/// A SKU's own text after its name, without content (read where the format puts it).
fn sku_text(r: &mut R, text: &mut SharedText, name: Arc<str>) -> DResult<SkuInfo> {
    let (brand, category) = match text {
        SharedText::Interner(strings) => {
            (r.opt(|r| r.str_ref())?.map(|b| strings.get(b)), r.opt(|r| r.str_ref())?.map(|c| strings.get(c)))
        }
        SharedText::Table(table) => (text_at(r, table)?, text_at(r, table)?),
    };
    let ean = match r.opt_str()? {
        None => None,
        Some(s) => {
            let g = crate::gtin::parse_gtin(&s).map_err(|e| format!("snapshot GTIN {s}: {e}"))?;
            Some((s, g))
        }
    };
    let ref_id = r.opt_str()?;
    Ok(SkuInfo { name, brand, category, ean, ref_id, content: None })
}

fn content(r: &mut R) -> DResult<SkuContent> {
    let description = r.opt_str()?;
    let images = strs(r)?.into_boxed_slice();
    let dimensions = r.opt(|r| {
        let mut m = || r.opt(|r| Ok(Centi(r.u64()?)));
        Ok(Dimensions { height_cm: m()?, width_cm: m()?, length_cm: m()?, weight_g: m()? })
    })?;
    Ok(SkuContent { description, images, dimensions })
}

fn strs(r: &mut R) -> DResult<Vec<Arc<str>>> {
    let n = r.u32()?;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(r.str()?);
    }
    Ok(ids)
}

fn trade_policies(r: &mut R) -> DResult<Vec<TpIdx>> {
    let n = r.u32()?;
    let mut tps = Vec::new();
    for _ in 0..n {
        tps.push(r.tp()?);
    }
    Ok(tps)
}

/// Where a SKU's brand and category come from: before format 7, their text, shared through the
/// engine's interner (one thread); from format 7, positions in the table read first.
enum SharedText<'t> {
    Interner(&'t mut Interner),
    Table(&'t [Arc<str>]),
}

/// A brand or category named by its position in format 7's table (0: none).
fn text_at(r: &mut R, table: &[Arc<str>]) -> DResult<Option<Arc<str>>> {
    let at = r.at;
    match r.u32()? as usize {
        0 => Ok(None),
        i => table.get(i - 1).cloned().map(Some).ok_or_else(|| format!("text {i} at byte {at} is not in the table")),
    }
}

/// Inserts `entries` into the empty `map`, sized once, in the order of the slots they land in:
/// a large table is written front to back instead of at random (one cache miss per page
/// instead of one per entry). Which slot an entry takes, and so the map's iteration order, may
/// differ from another insertion order's; nothing reads the engine's maps in that order.
fn fill_in_slot_order<K: std::hash::Hash + Eq, V>(map: &mut FxHashMap<K, V>, entries: Vec<(K, V)>) {
    use std::hash::BuildHasher;
    map.reserve(entries.len());
    let mask = crate::fx::slot_mask(map.capacity());
    let mut order: Vec<(u64, K, V)> =
        entries.into_iter().map(|(k, v)| (map.hasher().hash_one(&k) & mask, k, v)).collect();
    order.sort_unstable_by_key(|e| e.0);
    for (_, k, v) in order {
        map.insert(k, v);
    }
}
