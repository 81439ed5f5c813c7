//! Placement (rules 39, 40): every line checked first, then a plan of every reservation along
//! the chain against current stock, and only when the whole order fits, the reservations.

use std::sync::Arc;

use crate::derive::{blocking, source_counts, Chain};
use crate::error::{DomainError, Missing, Result};
use crate::event::OrderEventKind;
use crate::fx::FxHashMap;
use crate::model::*;
use crate::state::{Engine, Work};
use crate::validate as v;

use super::*;

/// One line of a cart or order, checked without looking at state.
pub(super) struct Line<'a> {
    pub(super) sku: &'a str,
    pub(super) quantity: u64,
    pub(super) seller: Option<&'a str>,
}

/// Whether each line must name its seller: an order must, a cart (simulation) may.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SellerField {
    Required,
    Optional,
}

/// Rule 39: every line of a cart or order is checked (400) before anything that depends on
/// state, so a bad quantity in the second line answers 400 even when the first cannot be filled.
pub(super) fn order_lines(items: &[OrderItemBody], seller: SellerField) -> Result<Vec<Line<'_>>> {
    if items.is_empty() || items.len() > MAX_ORDER_ITEMS {
        return Err(DomainError::invalid("items", format!("1 to {MAX_ORDER_ITEMS} items")));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let f = |name: &str| format!("items[{i}].{name}");
        let sku = it.sku.as_deref().ok_or_else(|| DomainError::invalid(f("sku"), "required"))?;
        v::item_id(&f("sku"), sku)?;
        let q = it.quantity.ok_or_else(|| DomainError::invalid(f("quantity"), "required"))?;
        if !(1..=MAX_ORDER_QUANTITY).contains(&q) {
            return Err(DomainError::invalid(f("quantity"), format!("between 1 and {MAX_ORDER_QUANTITY}")));
        }
        match it.seller.as_deref() {
            None if seller == SellerField::Required => return Err(DomainError::invalid(f("seller"), "required")),
            None => {}
            Some(x) => v::account_id(&f("seller"), x)?,
        }
        out.push(Line { sku, quantity: q as u64, seller: it.seller.as_deref() });
    }
    Ok(out)
}

/// What a `PlaceOrder` body adds to its lines, checked before any state is read (rule 39).
struct Extras {
    reservation_ms: Option<u64>,
}

/// Checks `reservation_minutes`, `max_prices` (one per line), `external_ref` and
/// `document_sha256` of an order body with `lines` lines.
fn order_extras(body: &OrderBody, lines: usize) -> Result<Extras> {
    let reservation_ms = match body.reservation_minutes {
        None => None,
        Some(m) if (1..=MAX_RESERVATION_MINUTES).contains(&m) => Some(m as u64 * 60_000),
        Some(_) => {
            return Err(DomainError::invalid("reservation_minutes", format!("between 1 and {MAX_RESERVATION_MINUTES}")))
        }
    };
    if let Some(prices) = &body.max_prices {
        if prices.len() != lines {
            return Err(DomainError::invalid("max_prices", format!("one per item: {lines}, not {}", prices.len())));
        }
        for (i, &p) in prices.iter().enumerate() {
            v::price(&format!("max_prices[{i}]"), p)?;
        }
    }
    if let Some(x) = &body.external_ref {
        let id = x.marketplace_order_id.as_deref();
        let id = id.ok_or_else(|| DomainError::invalid("external_ref.marketplace_order_id", "required"))?;
        printable("external_ref.marketplace_order_id", id, MAX_EXTERNAL_ORDER_ID_CHARS)?;
        if let Some(url) = &x.services_endpoint {
            printable("external_ref.services_endpoint", url, MAX_SERVICES_ENDPOINT_CHARS)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(DomainError::invalid("external_ref.services_endpoint", "an http:// or https:// URL"));
            }
        }
    }
    if let Some(h) = &body.document_sha256 {
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(DomainError::invalid("document_sha256", "64 lower-case hex digits (a SHA-256)"));
        }
    }
    Ok(Extras { reservation_ms })
}

/// 1 to `max` printable ASCII characters (no spaces).
fn printable(field: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(field, format!("1 to {max} printable ASCII characters, no spaces")));
    }
    Ok(())
}

/// A placement being planned: nothing is written until the whole order fits.
pub(super) struct Plan {
    /// Units tentatively reserved per (account, SKU, warehouse).
    tentative: FxHashMap<(AccountIdx, SkuIdx, WhIdx), u64>,
    subs: Vec<SubOrder>,
}

impl Plan {
    /// The sub order of `seller` to `buyer` below `parent` (`None`: a seller order), created
    /// with the id `id` gives (from the plan so far) when the plan has none yet.
    fn sub_order(
        &mut self,
        parent: Option<usize>,
        seller: AccountIdx,
        buyer: AccountIdx,
        id: impl FnOnce(&Plan) -> String,
    ) -> usize {
        if let Some(c) = self.subs.iter().position(|s| s.parent == parent && s.seller == seller) {
            return c;
        }
        let id = Arc::from(id(self));
        let status = OrderStatus::Reserved;
        self.subs.push(SubOrder { id, seller, buyer, status, items: Vec::new(), parent, external: None });
        self.subs.len() - 1
    }
}

impl Engine {
    pub(super) fn available(&self, plan: &Plan, a: AccountIdx, sku: SkuIdx, e: &StockEntry) -> Qty {
        let t = plan.tentative.get(&(a, sku, e.warehouse)).copied().unwrap_or(0);
        match e.available() {
            q if q.is_unlimited() => q,
            q => Qty(q.0.saturating_sub(t)),
        }
    }

    /// Own stock as offers count it (`Account::own_stock`), less what the plan already took.
    pub(super) fn own_with_plan(&self, plan: &Plan, a: AccountIdx, sku: SkuIdx, tp: TpIdx) -> Qty {
        self.accounts[a].own_stock(sku, tp, |e| self.available(plan, a, sku, e))
    }

    /// Takes up to `want` units of account `a`'s own stock of `sku` from its warehouses serving
    /// `tp`, into the plan: the reservations, and what is left to find upstream.
    fn take_own(&self, plan: &mut Plan, a: AccountIdx, sku: SkuIdx, tp: TpIdx, want: u64) -> (Vec<(WhIdx, u64)>, u64) {
        let acct = &self.accounts[a];
        let mut left = want;
        let mut reservations = Vec::new();
        let mut take_from = |e: &StockEntry| {
            if left == 0 {
                return;
            }
            let avail = self.available(plan, a, sku, e);
            let take = if avail.is_unlimited() { left } else { avail.0.min(left) };
            if take > 0 {
                *plan.tentative.entry((a, sku, e.warehouse)).or_default() += take;
                reservations.push((e.warehouse, take));
                left -= take;
            }
        };
        // Rule 40: warehouses in the order they were created (their index), not the order
        // their stock was first set in (the order of `Sku::stock`), which is usually the same:
        // then no copy is sorted.
        let stock = &acct.skus[sku].stock;
        if stock.windows(2).all(|w| w[0].warehouse < w[1].warehouse) {
            acct.serving_stock(sku, tp).for_each(&mut take_from);
        } else {
            let mut serving: Vec<&StockEntry> = acct.serving_stock(sku, tp).collect();
            serving.sort_unstable_by_key(|e| e.warehouse);
            serving.into_iter().for_each(&mut take_from);
        }
        (reservations, left)
    }

    /// Fills up to `want` units of account `a`'s SKU for sub order `sub`: own warehouses
    /// serving `tp` first, then included upstream sources (chain orders), recursively.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fill(
        &self,
        plan: &mut Plan,
        sub: usize,
        a: AccountIdx,
        sku: SkuIdx,
        want: u64,
        price: i64,
        tp: TpIdx,
        chain: &mut Chain,
    ) -> u64 {
        let acct = &self.accounts[a];
        let (reservations, mut left) = self.take_own(plan, a, sku, tp, want);
        let mut sources = acct.skus[sku].sources.to_vec();
        sources.sort_by(|x, y| {
            let (ax, ay) = (&self.accounts[x.0], &self.accounts[y.0]);
            (&ax.id, &ax.skus[x.1].id).cmp(&(&ay.id, &ay.skus[y.1].id))
        });
        for (u, usku) in sources {
            if left == 0 {
                break;
            }
            let upstream = &self.accounts[u];
            let uitem = &upstream.skus[usku];
            let Some(aff) = upstream.affiliations.get(&a) else {
                continue; // a missing half blocks (`connection_inactive`)
            };
            let cut = self.source_cut(a, u, chain, Some(tp));
            let (blocking, uprice) = blocking(Some(aff), acct.sellers.get(&u), upstream, usku, acct.skus[sku].active);
            // The upstream forwarder's own gate, on the stock this order's plan leaves.
            let gated = stock_gated(uitem, Some(aff), self.own_with_plan(plan, u, usku, aff.trade_policy));
            if !source_counts(cut, blocking, gated) {
                continue;
            }
            let uprice = uprice.expect("an included source has a price").price;
            let child = plan.sub_order(Some(sub), u, a, |p| format!("{}.{}", p.subs[sub].id, acct.id));
            chain.push(u);
            let got = self.fill(plan, child, u, usku, left, uprice, aff.trade_policy, chain);
            chain.pop();
            left -= got;
            if plan.subs[child].items.is_empty() && child == plan.subs.len() - 1 {
                plan.subs.pop();
            }
        }
        let filled = want - left;
        if filled > 0 {
            plan.subs[sub].items.push(SubItem { sku, quantity: filled, price, reservations });
        }
        filled
    }

    /// Units a placement could reserve of seller `s`'s SKU `ss` for marketplace `m` with
    /// nothing taken yet, up to `want`: the path `place_order` takes, for the invariant check
    /// that orders follow offers. `None` when a half of the connection is missing.
    pub(super) fn fillable(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, want: u64) -> Option<u64> {
        let aff = self.accounts[s].affiliations.get(&m)?;
        self.accounts[m].sellers.get(&s)?;
        let mut plan = Plan { tentative: FxHashMap::default(), subs: Vec::new() };
        Some(self.fill_offer(&mut plan, m, s, ss, aff, want, 0, |_| String::from("check")))
    }

    /// Fills up to `want` units of seller `s`'s SKU `ss` for marketplace `m` into a seller order
    /// of the plan (named by `name`): nothing while the seller's own stock gate is closed, else
    /// its own stock, then its sources (`fill`).
    #[allow(clippy::too_many_arguments)]
    fn fill_offer(
        &self,
        plan: &mut Plan,
        m: AccountIdx,
        s: AccountIdx,
        ss: SkuIdx,
        aff: &Affiliation,
        want: u64,
        price: i64,
        name: impl FnOnce(&Plan) -> String,
    ) -> u64 {
        let own = self.own_with_plan(plan, s, ss, aff.trade_policy);
        let sub = plan.sub_order(None, s, m, name);
        if stock_gated(&self.accounts[s].skus[ss], Some(aff), own) {
            return 0;
        }
        self.fill(plan, sub, s, ss, want, price, aff.trade_policy, &mut Chain::new(m, s))
    }

    pub(super) fn order_item(&self, m: AccountIdx, line: &Line) -> Result<(SkuIdx, u64, AccountIdx, SkuIdx)> {
        let (sku, q) = (line.sku, line.quantity);
        let seller = line.seller.expect("order lines name their seller");
        let mk = self.sku_of(m, sku)?;
        let s = self.account_idx(seller)?;
        let &(_, ss) = self.accounts[m].skus[mk].sources.iter().find(|(u, _)| *u == s).ok_or_else(|| {
            DomainError::not_found(Missing::Offer, seller, format!("an offer of `{seller}` for SKU `{sku}`"))
        })?;
        Ok((mk, q, s, ss))
    }

    /// Plans line `i` of order `id` at marketplace `m`: the offer must be sellable but for
    /// its stock, its price at most `max_price` when given (409 `price_changed`), and the whole
    /// quantity must fit (seller order, then chain orders).
    fn plan_line(
        &self,
        plan: &mut Plan,
        (m, id): (AccountIdx, &str),
        i: usize,
        line: &Line,
        max_price: Option<i64>,
    ) -> Result<OrderItem> {
        let (mk, q, s, ss) = self.order_item(m, line)?;
        let e = self.eval_offer(m, s, ss, Some(mk), None);
        let blocks =
            |r: &Reason| !matches!(r, Reason::OutOfStock | Reason::ForwarderHasNoOwnStock) && !Reasons::CUTS.has(*r);
        if e.reasons.iter().any(|r| blocks(&r)) {
            let codes: Vec<&str> = e.reasons.iter().filter(blocks).map(Reason::code).collect();
            return Err(DomainError::conflict(format!("items[{i}]: the offer is not sellable ({})", codes.join(", "))));
        }
        let seller = &self.accounts[s];
        let aff = seller.affiliations.get(&m).expect("a sellable offer has both halves");
        let price = e.price.expect("a sellable offer has a price").price;
        if let Some(max) = max_price.filter(|&max| price > max) {
            return Err(DomainError::PriceChanged {
                item: i,
                reason: format!("the seller's price is now {price}, above the {max} the marketplace charges"),
            });
        }
        let got = self.fill_offer(plan, m, s, ss, aff, q, price, |_| format!("{}.{}", self.accounts[m].id, id));
        if got < q {
            return Err(DomainError::InsufficientStock {
                item: i,
                reason: format!(
                    "{got} of {q} units of `{}` from `{}` can be reserved",
                    self.accounts[m].skus[mk].id, seller.id
                ),
            });
        }
        Ok(OrderItem { sku: mk, quantity: q, seller: s, price })
    }

    /// Makes the plan's reservations (the whole order fits).
    fn reserve(&mut self, tentative: &FxHashMap<(AccountIdx, SkuIdx, WhIdx), u64>, work: &mut Work) {
        for (&(a, sku, wh), &n) in tentative {
            let e = self.accounts[a].skus[sku]
                .stock
                .iter_mut()
                .find(|e| e.warehouse == wh)
                .expect("invariant broken: the plan reserves in a stock entry that does not exist");
            e.reserved += n;
            assert!(
                e.quantity.is_unlimited() || e.reserved <= e.quantity.0,
                "invariant broken: the plan reserves more units than the stock holds"
            );
            work.dirty.push((a, sku)); // `flush` sorts and dedups the dirty nodes
        }
    }

    /// An external seller places its part with the customer and the address (A2), which only
    /// the order document has: an order with a sub order at one needs `document_sha256` (from
    /// `/v1`'s `delivery`).
    fn check_document(&self, plan: &Plan, body: &OrderBody) -> Result<()> {
        if body.document_sha256.is_some() {
            return Ok(());
        }
        match plan.subs.iter().find(|s| self.accounts[s.seller].seller_link().is_some()) {
            None => Ok(()),
            Some(x) => Err(DomainError::invalid(
                "delivery",
                format!(
                    "required: the order includes external seller `{}`, which needs the customer and the address",
                    self.accounts[x.seller].id
                ),
            )),
        }
    }

    pub(crate) fn place_order(
        &mut self,
        marketplace: &str,
        body: &OrderBody,
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        let id = body.id.as_deref().ok_or_else(|| DomainError::invalid("id", "required"))?;
        v::item_id("id", id)?;
        if id.contains('.') {
            return Err(DomainError::invalid("id", "an order id has no '.' (seller and chain order ids use it)"));
        }
        let items = body.items.as_ref().ok_or_else(|| DomainError::invalid("items", "required"))?;
        let checked = order_lines(items, SellerField::Required)?;
        let extras = order_extras(body, checked.len())?;
        let m = self.account_idx(marketplace)?;
        let request: Vec<(String, u64, String)> =
            checked.iter().map(|l| (l.sku.to_string(), l.quantity, l.seller.unwrap_or_default().to_string())).collect();
        if let Some(&(oi, None)) = self.orders.index.get(&(m, Arc::from(id))) {
            if self.orders.list[oi].request == request {
                return Ok(()); // the same order again: idempotent
            }
            return Err(DomainError::IdempotencyMismatch { id: id.to_string() });
        }
        let mut plan = Plan { tentative: FxHashMap::default(), subs: Vec::new() };
        let mut lines = Vec::with_capacity(items.len());
        for (i, line) in checked.iter().enumerate() {
            let max_price = body.max_prices.as_ref().map(|p| p[i]);
            lines.push(self.plan_line(&mut plan, (m, id), i, line, max_price)?);
        }
        self.check_document(&plan, body)?;
        // The whole order fits: reserve.
        self.reserve(&plan.tentative, work);
        let setting = self.orders.reservation_ms.get(&m).copied().unwrap_or(DEFAULT_RESERVATION_MS);
        let reservation = extras.reservation_ms.unwrap_or(setting);
        let oi = self.orders.list.len();
        let order = Order {
            id: Arc::from(id),
            marketplace: m,
            status: OrderStatus::Reserved,
            items: lines,
            request,
            created_ms: now_ms,
            expires_ms: now_ms.saturating_add(reservation),
            subs: plan.subs,
            authorized_ms: None,
            closed_ms: None,
            external_ref: body.external_ref.clone(),
            document_sha256: body.document_sha256.as_deref().map(Arc::from),
        };
        self.orders.index.insert((m, order.id.clone()), (oi, None));
        for (si, s) in order.subs.iter().enumerate() {
            self.orders.index.insert((s.seller, s.id.clone()), (oi, Some(si)));
        }
        self.orders.expiry.insert((order.expires_ms, oi));
        self.orders.list.push(order);
        self.mark_external(oi);
        let all: Vec<usize> = (0..self.orders.list[oi].subs.len()).collect();
        self.order_events(oi, &all, OrderEventKind::Created, None, work);
        Ok(())
    }
}
