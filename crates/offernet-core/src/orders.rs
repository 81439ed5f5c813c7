//! Simulation and orders (domain.md "Simulation and orders"): a cart priced against the live
//! offers, and orders that reserve stock atomically along the whole chain, fill from the
//! seller's own warehouses first and then from authorised upstream sources (chain orders),
//! and release or consume exactly what they reserved.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::derive::Chain;
use crate::engine::{Engine, Work};
use crate::error::{DomainError, Result};
use crate::event::{EventBody, OrderEvent};
use crate::fx::FxHashMap;
use crate::model::*;
use crate::validate as v;

/// Items per order or simulation: a cart, not a catalog export.
pub const MAX_ORDER_ITEMS: usize = 100;
/// Units of one item.
pub const MAX_ORDER_QUANTITY: i64 = 1_000_000;
/// Default reservation time before an unauthorised order expires: 30 minutes.
pub const DEFAULT_RESERVATION_MS: u64 = 30 * 60 * 1000;
/// Longest reservation a marketplace may configure: 7 days.
pub const MAX_RESERVATION_MINUTES: i64 = 7 * 24 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Reserved,
    Authorized,
    Invoiced,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Reserved => "reserved",
            OrderStatus::Authorized => "authorized",
            OrderStatus::Invoiced => "invoiced",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }
    fn open(self) -> bool {
        matches!(self, OrderStatus::Reserved | OrderStatus::Authorized)
    }
}

/// One line of a seller order or chain order: units of the seller's SKU sold to its buyer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubItem {
    pub sku: SkuIdx,
    pub quantity: u64,
    /// Unit price the seller charges its buyer.
    pub price: i64,
    /// Units reserved in the seller's own warehouses (the rest comes from chain orders).
    pub reservations: Vec<(WhIdx, u64)>,
}

/// A seller order (buyer: the marketplace) or a chain order (buyer: the seller below).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubOrder {
    pub id: Arc<str>,
    pub seller: AccountIdx,
    pub buyer: AccountIdx,
    pub status: OrderStatus,
    pub items: Vec<SubItem>,
    pub parent: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItem {
    pub sku: SkuIdx,
    pub quantity: u64,
    pub seller: AccountIdx,
    pub price: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: Arc<str>,
    pub marketplace: AccountIdx,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    /// The request as given, for idempotency: (sku, quantity, seller).
    pub request: Vec<(String, u64, String)>,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub subs: Vec<SubOrder>,
}

/// Order state kept by the engine.
#[derive(Clone, Debug, Default)]
pub struct Orders {
    pub list: Vec<Order>,
    /// (account, order id) → (order, sub order or `None` for the marketplace's own order).
    pub index: FxHashMap<(AccountIdx, Arc<str>), (usize, Option<usize>)>,
    /// Reserved orders by expiry.
    pub expiry: std::collections::BTreeSet<(u64, usize)>,
    /// Reservation time per marketplace, when not the default.
    pub reservation_ms: FxHashMap<AccountIdx, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItemBody {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    pub seller: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub id: Option<String>,
    pub items: Option<Vec<OrderItemBody>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSettingsBody {
    pub reservation_minutes: Option<i64>,
}

// ------------------------------------------------------------------ views

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItemView {
    pub sku: Arc<str>,
    pub quantity: u64,
    pub seller: Arc<str>,
    pub price: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubOrderView {
    pub id: Arc<str>,
    pub seller: Arc<str>,
    pub buyer: Arc<str>,
    pub status: OrderStatus,
    pub items: Vec<SubItemView>,
    pub chain_orders: Vec<SubOrderView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubItemView {
    pub sku: Arc<str>,
    pub quantity: u64,
    pub price: i64,
    /// Units from the seller's own warehouses (the rest from its chain orders).
    pub reserved_own: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: Arc<str>,
    pub marketplace: Arc<str>,
    pub status: OrderStatus,
    pub created_ms: u64,
    pub expires_ms: u64,
    pub items: Vec<OrderItemView>,
    pub seller_orders: Vec<SubOrderView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationOffer {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub price: Option<i64>,
    pub available_quantity: Option<u64>,
    pub unlimited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulationItem {
    pub sku: Arc<str>,
    pub quantity: u64,
    /// The chosen offer's seller: the lowest price that covers the quantity (ties: more
    /// quantity, then seller id); `None` when no offer covers it.
    pub seller: Option<Arc<str>>,
    pub price: Option<i64>,
    pub available_quantity: Option<u64>,
    pub offers: Vec<SimulationOffer>,
}

// ------------------------------------------------------------------ placement

/// One line of a cart or order, checked without looking at state.
struct Line<'a> {
    sku: &'a str,
    quantity: u64,
    seller: Option<&'a str>,
}

/// Rule 39: every line of a cart or order is checked (400) before anything that depends on
/// state, so a bad quantity in the second line answers 400 even when the first cannot be filled.
fn order_lines(items: &[OrderItemBody], seller_required: bool) -> Result<Vec<Line<'_>>> {
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
        let seller = it.seller.as_deref();
        match seller {
            None if seller_required => return Err(DomainError::invalid(f("seller"), "required")),
            None => {}
            Some(x) => v::account_id(&f("seller"), x)?,
        }
        out.push(Line { sku, quantity: q as u64, seller });
    }
    Ok(out)
}

/// Whether sub order `c` is `top` or one of its chain orders, at any depth.
fn under(o: &Order, mut c: usize, top: usize) -> bool {
    loop {
        if c == top {
            return true;
        }
        match o.subs[c].parent {
            Some(p) => c = p,
            None => return false,
        }
    }
}

/// A placement being planned: nothing is written until the whole order fits.
struct Plan {
    /// Units tentatively reserved per (account, SKU, warehouse).
    tentative: FxHashMap<(AccountIdx, SkuIdx, WhIdx), u64>,
    subs: Vec<SubOrder>,
}

impl Engine {
    fn available(&self, plan: &Plan, a: AccountIdx, sku: SkuIdx, e: &StockEntry) -> Qty {
        let t = plan.tentative.get(&(a, sku, e.warehouse)).copied().unwrap_or(0);
        match e.available() {
            q if q.is_unlimited() => q,
            q => Qty(q.0.saturating_sub(t)),
        }
    }

    fn own_with_plan(&self, plan: &Plan, a: AccountIdx, sku: SkuIdx, tp: TpIdx) -> Qty {
        let acct = &self.accounts[a as usize];
        let mut q = Qty::ZERO;
        for e in &acct.skus[sku as usize].stock {
            if acct.warehouses[e.warehouse as usize].trade_policies.contains(&tp) {
                q = q.plus(self.available(plan, a, sku, e));
            }
        }
        q
    }

    /// Fills up to `want` units of account `a`'s SKU for sub order `sub`: own warehouses
    /// serving `tp` first, then included upstream sources (chain orders), recursively.
    #[allow(clippy::too_many_arguments)]
    fn fill(
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
        let acct = &self.accounts[a as usize];
        let mut left = want;
        let mut reservations = Vec::new();
        for e in &acct.skus[sku as usize].stock {
            if left == 0 {
                break;
            }
            if !acct.warehouses[e.warehouse as usize].trade_policies.contains(&tp) {
                continue;
            }
            let avail = self.available(plan, a, sku, e);
            let take = if avail.is_unlimited() { left } else { avail.0.min(left) };
            if take > 0 {
                *plan.tentative.entry((a, sku, e.warehouse)).or_default() += take;
                reservations.push((e.warehouse, take));
                left -= take;
            }
        }
        let mut sources = acct.skus[sku as usize].sources.clone();
        sources.sort_by(|x, y| {
            let (ax, ay) = (&self.accounts[x.0 as usize], &self.accounts[y.0 as usize]);
            (&ax.id, &ax.skus[x.1 as usize].id).cmp(&(&ay.id, &ay.skus[y.1 as usize].id))
        });
        for (u, usku) in sources {
            if left == 0 {
                break;
            }
            if !self.source_cut(a, u, chain, Some(tp)).is_empty() || !self.source_blocking(a, sku, u, usku).is_empty() {
                continue;
            }
            let upstream = &self.accounts[u as usize];
            let aff = upstream.affiliations.get(&a).expect("an included source has its half");
            let uitem = &upstream.skus[usku as usize];
            if !uitem.sources.is_empty()
                && aff.require_own_stock
                && self.own_with_plan(plan, u, usku, aff.trade_policy).is_zero()
            {
                continue; // the upstream forwarder's own gate
            }
            let uprice = uitem.price_for(aff.trade_policy).expect("an included source has a price").price;
            let child = match plan.subs.iter().position(|s| s.parent == Some(sub) && s.seller == u) {
                Some(c) => c,
                None => {
                    let id: Arc<str> = Arc::from(format!("{}.{}", plan.subs[sub].id, acct.id));
                    plan.subs.push(SubOrder {
                        id,
                        seller: u,
                        buyer: a,
                        status: OrderStatus::Reserved,
                        items: Vec::new(),
                        parent: Some(sub),
                    });
                    plan.subs.len() - 1
                }
            };
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

    fn order_item(&self, m: AccountIdx, line: &Line) -> Result<(SkuIdx, u64, AccountIdx, SkuIdx)> {
        let (sku, q) = (line.sku, line.quantity);
        let seller = line.seller.expect("order lines name their seller");
        let mk = self.sku_of(m, sku)?;
        let s = self.account_idx(seller)?;
        let &(_, ss) = self.accounts[m as usize].skus[mk as usize]
            .sources
            .iter()
            .find(|(u, _)| *u == s)
            .ok_or_else(|| DomainError::not_found(format!("an offer of `{seller}` for SKU `{sku}`")))?;
        Ok((mk, q, s, ss))
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
        let checked = order_lines(items, true)?;
        let m = self.account_idx(marketplace)?;
        let request: Vec<(String, u64, String)> = items
            .iter()
            .map(|i| {
                (
                    i.sku.clone().unwrap_or_default(),
                    i.quantity.unwrap_or(0).max(0) as u64,
                    i.seller.clone().unwrap_or_default(),
                )
            })
            .collect();
        if let Some(&(oi, None)) = self.orders.index.get(&(m, Arc::from(id))) {
            if self.orders.list[oi].request == request {
                return Ok(()); // the same order again: idempotent
            }
            return Err(DomainError::IdempotencyMismatch { id: id.to_string() });
        }
        let mut plan = Plan { tentative: FxHashMap::default(), subs: Vec::new() };
        let mut lines = Vec::with_capacity(items.len());
        for (i, line) in checked.iter().enumerate() {
            let (mk, q, s, ss) = self.order_item(m, line)?;
            let e = self.eval_offer(m, s, ss, Some(mk), None);
            let blocking: Vec<&str> = e
                .reasons
                .iter()
                .filter(|r| !matches!(r, Reason::OutOfStock | Reason::ForwarderHasNoOwnStock) && !Reasons::CUTS.has(*r))
                .map(Reason::code)
                .collect();
            if !blocking.is_empty() {
                return Err(DomainError::conflict(format!(
                    "items[{i}]: the offer is not sellable ({})",
                    blocking.join(", ")
                )));
            }
            let seller = &self.accounts[s as usize];
            let aff = seller.affiliations.get(&m).expect("a sellable offer has both halves");
            let price = e.price.expect("a sellable offer has a price").price;
            let sourced = !seller.skus[ss as usize].sources.is_empty();
            let gated =
                sourced && aff.require_own_stock && self.own_with_plan(&plan, s, ss, aff.trade_policy).is_zero();
            let sub = match plan.subs.iter().position(|x| x.parent.is_none() && x.seller == s) {
                Some(x) => x,
                None => {
                    plan.subs.push(SubOrder {
                        id: Arc::from(format!("{}.{}", self.accounts[m as usize].id, id)),
                        seller: s,
                        buyer: m,
                        status: OrderStatus::Reserved,
                        items: Vec::new(),
                        parent: None,
                    });
                    plan.subs.len() - 1
                }
            };
            let got = if gated {
                0
            } else {
                let mut chain = Chain::new(m, s);
                self.fill(&mut plan, sub, s, ss, q, price, aff.trade_policy, &mut chain)
            };
            if got < q {
                return Err(DomainError::InsufficientStock {
                    item: i,
                    reason: format!(
                        "{got} of {q} units of `{}` from `{}` can be reserved",
                        self.accounts[m as usize].skus[mk as usize].id, seller.id
                    ),
                });
            }
            lines.push(OrderItem { sku: mk, quantity: q, seller: s, price });
        }
        // The whole order fits: reserve.
        for (&(a, sku, wh), &n) in &plan.tentative {
            let e = self.accounts[a as usize].skus[sku as usize].stock.iter_mut().find(|e| e.warehouse == wh).unwrap();
            e.reserved += n;
            work.dirty.push((a, sku));
        }
        work.dirty.sort_unstable();
        let reservation = self.orders.reservation_ms.get(&m).copied().unwrap_or(DEFAULT_RESERVATION_MS);
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
        };
        self.orders.index.insert((m, order.id.clone()), (oi, None));
        for (si, s) in order.subs.iter().enumerate() {
            self.orders.index.insert((s.seller, s.id.clone()), (oi, Some(si)));
        }
        self.orders.expiry.insert((order.expires_ms, oi));
        self.orders.list.push(order);
        self.order_events(oi, None, "order.created", work);
        Ok(())
    }

    /// `order.*` events to every account involved in (part of) an order.
    fn order_events(&mut self, oi: usize, only: Option<&[usize]>, kind: &'static str, work: &mut Work) {
        let all: Vec<usize> = (0..self.orders.list[oi].subs.len()).collect();
        self.order_events_by(oi, only.unwrap_or(&all), kind, None, work);
    }

    /// `order.*` events to the marketplace and to the seller of each of `only`; `by` names
    /// the account that caused them, where that is news (a cancel).
    fn order_events_by(
        &mut self,
        oi: usize,
        only: &[usize],
        kind: &'static str,
        by: Option<Arc<str>>,
        work: &mut Work,
    ) {
        let o = &self.orders.list[oi];
        let mid = self.accounts[o.marketplace as usize].id.clone();
        // The marketplace hears whose seller orders changed (on a partial cancel its own
        // order's status may not change at all).
        let sellers: Vec<Arc<str>> = only
            .iter()
            .filter(|&&si| o.subs[si].parent.is_none())
            .map(|&si| self.accounts[o.subs[si].seller as usize].id.clone())
            .collect();
        let mut out = vec![(mid.clone(), o.id.clone(), o.status, sellers)];
        for &si in only {
            let s = &o.subs[si];
            out.push((self.accounts[s.seller as usize].id.clone(), s.id.clone(), s.status, Vec::new()));
        }
        let order = o.id.clone();
        for (to, id, status, sellers) in out {
            let body = EventBody::order(
                kind,
                OrderEvent {
                    marketplace: mid.clone(),
                    order: order.clone(),
                    id,
                    status: status.as_str().into(),
                    by: by.clone(),
                    sellers,
                },
            );
            self.emit(work, to, body);
        }
    }

    /// Rule 38: the marketplace order is `cancelled` when every seller order is, `invoiced`
    /// when each is invoiced or cancelled and one is invoiced; otherwise it keeps its status.
    /// Chain orders do not count. Leaving `reserved` takes the order out of the expiry index.
    fn follow_seller_orders(&mut self, oi: usize) {
        let o = &mut self.orders.list[oi];
        let sellers = || o.subs.iter().filter(|s| s.parent.is_none());
        let status = if sellers().all(|s| s.status == OrderStatus::Cancelled) {
            OrderStatus::Cancelled
        } else if sellers().all(|s| matches!(s.status, OrderStatus::Invoiced | OrderStatus::Cancelled)) {
            OrderStatus::Invoiced
        } else {
            o.status
        };
        if o.status == OrderStatus::Reserved && status != OrderStatus::Reserved {
            self.orders.expiry.remove(&(o.expires_ms, oi));
        }
        o.status = status;
    }

    fn release(&mut self, oi: usize, si: usize, consume: bool, work: &mut Work) {
        let sub = self.orders.list[oi].subs[si].clone();
        for it in &sub.items {
            for &(wh, n) in &it.reservations {
                let e = self.accounts[sub.seller as usize].skus[it.sku as usize]
                    .stock
                    .iter_mut()
                    .find(|e| e.warehouse == wh)
                    .unwrap();
                e.reserved -= n;
                if consume && !e.quantity.is_unlimited() {
                    e.quantity.0 -= n;
                }
            }
            work.dirty.push((sub.seller, it.sku));
        }
    }

    fn order_of(&self, account: &str, id: &str) -> Result<(AccountIdx, usize, Option<usize>)> {
        let a = self.account_idx(account)?;
        let &(oi, si) = self
            .orders
            .index
            .get(&(a, Arc::from(id)))
            .ok_or_else(|| DomainError::not_found(format!("order `{id}` of `{account}`")))?;
        Ok((a, oi, si))
    }

    pub(crate) fn authorize_order(&mut self, marketplace: &str, id: &str, now_ms: u64, work: &mut Work) -> Result<()> {
        let (_, oi, si) = self.order_of(marketplace, id)?;
        if si.is_some() {
            return Err(DomainError::conflict("only the marketplace authorises its order"));
        }
        let o = &self.orders.list[oi];
        match o.status {
            OrderStatus::Authorized | OrderStatus::Invoiced => return Ok(()),
            OrderStatus::Cancelled | OrderStatus::Expired => {
                return Err(DomainError::conflict(format!("the order is {}", o.status.as_str())))
            }
            OrderStatus::Reserved if now_ms >= o.expires_ms => {
                return Err(DomainError::conflict("the reservation has expired"))
            }
            OrderStatus::Reserved => {}
        }
        let o = &mut self.orders.list[oi];
        self.orders.expiry.remove(&(o.expires_ms, oi));
        o.status = OrderStatus::Authorized;
        let mut changed = Vec::new();
        for (si, s) in o.subs.iter_mut().enumerate() {
            if s.status == OrderStatus::Reserved {
                s.status = OrderStatus::Authorized;
                changed.push(si);
            }
        }
        self.order_events(oi, Some(&changed), "order.authorized", work);
        Ok(())
    }

    pub(crate) fn invoice_order(&mut self, account: &str, id: &str, work: &mut Work) -> Result<()> {
        let (_, oi, si) = self.order_of(account, id)?;
        let Some(si) = si else {
            return Err(DomainError::conflict("each seller invoices its own seller or chain order"));
        };
        match self.orders.list[oi].subs[si].status {
            OrderStatus::Invoiced => return Ok(()),
            OrderStatus::Authorized => {}
            OrderStatus::Reserved => return Err(DomainError::conflict("the order is not authorised yet")),
            s => return Err(DomainError::conflict(format!("the order is {}", s.as_str()))),
        }
        self.release(oi, si, true, work);
        self.orders.list[oi].subs[si].status = OrderStatus::Invoiced;
        self.follow_seller_orders(oi);
        self.order_events(oi, Some(&[si]), "order.invoiced", work);
        Ok(())
    }

    /// Rule 34: the marketplace cancels its whole order tree; a seller cancels the whole
    /// top-level seller order above its seller or chain order (upstream and downstream).
    /// Nothing is cancelled once any order of that tree is invoiced (409), so units sold on
    /// are never released below an order that still counts them. `order.cancelled`, naming
    /// `account`, goes to the marketplace and to the seller of every order that changed.
    pub(crate) fn cancel_order(&mut self, account: &str, id: &str, work: &mut Work) -> Result<()> {
        let (by, oi, si) = self.order_of(account, id)?;
        let o = &self.orders.list[oi];
        let tree: Vec<usize> = match si {
            None => (0..o.subs.len()).collect(),
            Some(mut top) => {
                while let Some(p) = o.subs[top].parent {
                    top = p;
                }
                o.subs.iter().enumerate().filter(|&(c, _)| under(o, c, top)).map(|(c, _)| c).collect()
            }
        };
        let status = si.map_or(o.status, |si| o.subs[si].status);
        match status {
            OrderStatus::Cancelled => return Ok(()),
            OrderStatus::Expired => return Err(DomainError::conflict("the order has expired")),
            OrderStatus::Reserved | OrderStatus::Authorized | OrderStatus::Invoiced => {}
        }
        if let Some(&c) = tree.iter().find(|&&c| o.subs[c].status == OrderStatus::Invoiced) {
            return Err(DomainError::conflict(format!(
                "`{}` is invoiced: an order tree with an invoice cannot be cancelled",
                o.subs[c].id
            )));
        }
        let changed: Vec<usize> = tree.into_iter().filter(|&c| o.subs[c].status.open()).collect();
        for &c in &changed {
            self.release(oi, c, false, work);
            self.orders.list[oi].subs[c].status = OrderStatus::Cancelled;
        }
        self.follow_seller_orders(oi);
        let by = self.accounts[by as usize].id.clone();
        self.order_events_by(oi, &changed, "order.cancelled", Some(by), work);
        Ok(())
    }

    /// Time passes: every reserved order whose expiry is at or before `now_ms` expires and
    /// releases its reservations.
    pub(crate) fn expire_orders(&mut self, now_ms: u64, work: &mut Work) {
        while let Some(&(at, oi)) = self.orders.expiry.first() {
            if at > now_ms {
                break;
            }
            self.orders.expiry.pop_first();
            let mut changed = Vec::new();
            for si in 0..self.orders.list[oi].subs.len() {
                if self.orders.list[oi].subs[si].status.open() {
                    self.release(oi, si, false, work);
                    self.orders.list[oi].subs[si].status = OrderStatus::Expired;
                    changed.push(si);
                }
            }
            self.orders.list[oi].status = OrderStatus::Expired;
            self.order_events(oi, Some(&changed), "order.expired", work);
        }
    }

    pub(crate) fn put_order_settings(&mut self, account: &str, body: &OrderSettingsBody) -> Result<()> {
        let minutes =
            body.reservation_minutes.ok_or_else(|| DomainError::invalid("reservation_minutes", "required"))?;
        if !(1..=MAX_RESERVATION_MINUTES).contains(&minutes) {
            return Err(DomainError::invalid(
                "reservation_minutes",
                format!("between 1 and {MAX_RESERVATION_MINUTES}"),
            ));
        }
        let a = self.account_idx(account)?;
        self.orders.reservation_ms.insert(a, minutes as u64 * 60_000);
        Ok(())
    }

    /// The earliest expiry of a reserved order (the server's clock submits `expire_orders` then).
    pub fn next_expiry_ms(&self) -> Option<u64> {
        self.orders.expiry.first().map(|&(at, _)| at)
    }

    // -------------------------------------------------------------- reads

    fn sub_view(&self, o: &Order, si: usize) -> SubOrderView {
        let s = &o.subs[si];
        let seller = &self.accounts[s.seller as usize];
        SubOrderView {
            id: s.id.clone(),
            seller: seller.id.clone(),
            buyer: self.accounts[s.buyer as usize].id.clone(),
            status: s.status,
            items: s
                .items
                .iter()
                .map(|it| SubItemView {
                    sku: seller.skus[it.sku as usize].id.clone(),
                    quantity: it.quantity,
                    price: it.price,
                    reserved_own: it.reservations.iter().map(|r| r.1).sum(),
                })
                .collect(),
            chain_orders: o
                .subs
                .iter()
                .enumerate()
                .filter(|(_, c)| c.parent == Some(si))
                .map(|(c, _)| self.sub_view(o, c))
                .collect(),
        }
    }

    /// An order as `account` may see it: the marketplace sees the whole order; a seller its
    /// seller order or chain order (with the chain orders below it).
    pub fn order(&self, account: &str, id: &str) -> Result<serde_json::Value> {
        let (_, oi, si) = self.order_of(account, id)?;
        let o = &self.orders.list[oi];
        Ok(match si {
            Some(si) => serde_json::to_value(self.sub_view(o, si)).unwrap(),
            None => {
                let m = &self.accounts[o.marketplace as usize];
                serde_json::to_value(OrderView {
                    id: o.id.clone(),
                    marketplace: m.id.clone(),
                    status: o.status,
                    created_ms: o.created_ms,
                    expires_ms: o.expires_ms,
                    items: o
                        .items
                        .iter()
                        .map(|it| OrderItemView {
                            sku: m.skus[it.sku as usize].id.clone(),
                            quantity: it.quantity,
                            seller: self.accounts[it.seller as usize].id.clone(),
                            price: it.price,
                        })
                        .collect(),
                    seller_orders: (0..o.subs.len())
                        .filter(|&c| o.subs[c].parent.is_none())
                        .map(|c| self.sub_view(o, c))
                        .collect(),
                })
                .unwrap()
            }
        })
    }

    /// Prices a cart at marketplace `m` against the live offers. Never changes state.
    pub fn simulate(&self, m: &str, items: &[OrderItemBody]) -> Result<Vec<SimulationItem>> {
        let lines = order_lines(items, false)?;
        let mi = self.account_idx(m)?;
        let mut out = Vec::with_capacity(items.len());
        for (it, line) in items.iter().zip(&lines) {
            let (sku, q) = (line.sku, line.quantity);
            let mk = self.sku_of(mi, sku)?;
            let market = &self.accounts[mi as usize];
            let mut offers: Vec<(Qty, SimulationOffer)> = Vec::new();
            for &(s, ss) in &market.skus[mk as usize].sources {
                let seller = &self.accounts[s as usize];
                if it.seller.as_deref().is_some_and(|x| x != &*seller.id) {
                    continue;
                }
                let Some(st) = market.suggestions.get(&(s, ss)).and_then(|x| x.offer) else { continue };
                if !st.sellable() {
                    continue;
                }
                offers.push((
                    st.quantity,
                    SimulationOffer {
                        seller: seller.id.clone(),
                        seller_sku: seller.skus[ss as usize].id.clone(),
                        price: st.price.map(|p| p.price),
                        available_quantity: st.quantity.finite(),
                        unlimited: st.quantity.is_unlimited(),
                    },
                ));
            }
            offers.sort_by(|a, b| a.1.seller.cmp(&b.1.seller));
            let chosen = offers
                .iter()
                .filter(|(qty, _)| qty.0 >= q)
                .min_by(|a, b| a.1.price.cmp(&b.1.price).then(b.0.cmp(&a.0)).then(a.1.seller.cmp(&b.1.seller)));
            out.push(SimulationItem {
                sku: market.skus[mk as usize].id.clone(),
                quantity: q,
                seller: chosen.map(|c| c.1.seller.clone()),
                price: chosen.and_then(|c| c.1.price),
                available_quantity: chosen.and_then(|c| c.1.available_quantity),
                offers: offers.into_iter().map(|(_, o)| o).collect(),
            });
        }
        Ok(out)
    }

    /// The order trees are whole (checked by tests after every command):
    ///
    /// - *Coverage*: every seller order or chain order that is not cancelled or expired (open
    ///   or invoiced) holds all its units: the sum of its lines equals its own reservations plus
    ///   the lines of its chain orders, and none of its chain orders is cancelled or expired.
    ///   So units sold on are never released below an order that still counts them, and no
    ///   unit is invoiced twice along a chain.
    /// - *Closed trees*: a cancelled (expired) order's chain orders are cancelled (expired).
    /// - *Status*: the marketplace order's status follows rule 38 from its seller orders, and
    ///   each seller's lines of the marketplace order equal its seller order's lines.
    pub(crate) fn check_order_trees(&self) -> std::result::Result<(), String> {
        use OrderStatus::*;
        for o in &self.orders.list {
            for (si, s) in o.subs.iter().enumerate() {
                let children = o.subs.iter().filter(|c| c.parent == Some(si));
                let units: u64 = s.items.iter().map(|it| it.quantity).sum();
                let own: u64 = s.items.iter().flat_map(|it| &it.reservations).map(|r| r.1).sum();
                match s.status {
                    Cancelled | Expired => {
                        if let Some(c) = children.clone().find(|c| c.status != s.status) {
                            return Err(format!(
                                "{} is {:?} but its chain order {} is {:?}",
                                s.id, s.status, c.id, c.status
                            ));
                        }
                    }
                    Reserved | Authorized | Invoiced => {
                        if let Some(c) = children.clone().find(|c| matches!(c.status, Cancelled | Expired)) {
                            return Err(format!(
                                "{} is {:?} but its chain order {} is {:?}",
                                s.id, s.status, c.id, c.status
                            ));
                        }
                        let below: u64 = children.flat_map(|c| &c.items).map(|it| it.quantity).sum();
                        if units != own + below {
                            return Err(format!(
                                "{} holds {units} units: {own} reserved and {below} in chain orders",
                                s.id
                            ));
                        }
                    }
                }
            }
            let sellers: Vec<&SubOrder> = o.subs.iter().filter(|s| s.parent.is_none()).collect();
            for s in &sellers {
                let lines: u64 = o.items.iter().filter(|it| it.seller == s.seller).map(|it| it.quantity).sum();
                if lines != s.items.iter().map(|it| it.quantity).sum::<u64>() {
                    return Err(format!("order {}: the lines of {} differ from its seller order", o.id, s.id));
                }
            }
            let all = |f: fn(OrderStatus) -> bool| sellers.iter().all(|s| f(s.status));
            let want = if all(|s| s == Cancelled) {
                Some(Cancelled)
            } else if all(|s| matches!(s, Invoiced | Cancelled)) {
                Some(Invoiced)
            } else if all(|s| matches!(s, Expired | Cancelled)) {
                Some(Expired)
            } else if sellers.iter().any(|s| s.status == Reserved) {
                Some(Reserved)
            } else if sellers.iter().any(|s| s.status == Authorized) {
                Some(Authorized)
            } else {
                None // unreachable: every case of the seller orders' statuses is named above
            };
            if want != Some(o.status) {
                return Err(format!("order {} is {:?}; its seller orders say {want:?}", o.id, o.status));
            }
        }
        Ok(())
    }

    /// Reserved units must equal the units of open orders, everywhere (checked by tests).
    pub(crate) fn check_reservations(&self) -> std::result::Result<(), String> {
        let mut expected: FxHashMap<(AccountIdx, SkuIdx, WhIdx), u64> = FxHashMap::default();
        for o in &self.orders.list {
            for s in &o.subs {
                if s.status.open() {
                    for it in &s.items {
                        for &(wh, n) in &it.reservations {
                            *expected.entry((s.seller, it.sku, wh)).or_default() += n;
                        }
                    }
                }
            }
            if (o.status == OrderStatus::Reserved)
                != self.orders.expiry.contains(&(o.expires_ms, self.orders.index[&(o.marketplace, o.id.clone())].0))
            {
                return Err(format!("order {} is {:?} but the expiry index disagrees", o.id, o.status));
            }
        }
        for (ai, a) in self.accounts.iter().enumerate() {
            for (si, s) in a.skus.iter().enumerate() {
                for e in &s.stock {
                    let want = expected.get(&(ai as AccountIdx, si as SkuIdx, e.warehouse)).copied().unwrap_or(0);
                    if e.reserved != want {
                        return Err(format!("{}/{}: reserved {} but open orders hold {want}", a.id, s.id, e.reserved));
                    }
                }
            }
        }
        Ok(())
    }
}
