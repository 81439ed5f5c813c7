//! An order's life: authorise, invoice, cancel (rule 34, whole trees), expire; the marketplace
//! order's status from its seller orders (rule 38); `order.*` events.

use std::sync::Arc;

use crate::error::{DomainError, Result};
use crate::event::{EventBody, OrderEvent, OrderEventKind};
use crate::state::{Engine, Work};

use super::*;

/// Takes `n` reserved units off a stock entry; fewer reserved than that would corrupt stock.
fn unreserve(e: &mut StockEntry, n: u64) {
    e.reserved = e.reserved.checked_sub(n).expect("invariant broken: released more units than are reserved");
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

impl Engine {
    /// `order.*` events to the marketplace and to the seller of each of `only`; `by` names
    /// the account that caused them, where that is news (a cancel).
    pub(super) fn order_events(
        &mut self,
        oi: usize,
        only: &[usize],
        kind: OrderEventKind,
        by: Option<Arc<str>>,
        work: &mut Work,
    ) {
        self.order_events_why(oi, only, kind, by, None, work)
    }

    /// [`Engine::order_events`] with the `reason` of a cancel the engine itself made.
    pub(super) fn order_events_why(
        &mut self,
        oi: usize,
        only: &[usize],
        kind: OrderEventKind,
        by: Option<Arc<str>>,
        reason: Option<Arc<str>>,
        work: &mut Work,
    ) {
        let o = &self.orders.list[oi];
        let mid = self.accounts[o.marketplace].id.clone();
        // The marketplace hears whose seller orders changed (on a partial cancel its own
        // order's status may not change at all).
        let sellers: Vec<Arc<str>> = only
            .iter()
            .filter(|&&si| o.subs[si].parent.is_none())
            .map(|&si| self.accounts[o.subs[si].seller].id.clone())
            .collect();
        let mut out = vec![(mid.clone(), o.id.clone(), o.status, sellers)];
        for &si in only {
            let s = &o.subs[si];
            out.push((self.accounts[s.seller].id.clone(), s.id.clone(), s.status, Vec::new()));
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
                    reason: reason.clone(),
                    sellers,
                },
            );
            self.emit(work, to, body);
        }
    }

    /// Rule 38: the marketplace order is `cancelled` when every seller order is, `invoiced`
    /// when each is invoiced or cancelled and one is invoiced; otherwise it keeps its status.
    /// Chain orders do not count. Leaving `reserved` takes the order out of the expiry index;
    /// reaching a final status stamps `closed_ms` with `now_ms`.
    pub(super) fn follow_seller_orders(&mut self, oi: usize, now_ms: u64) {
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
        if !status.open() && o.closed_ms.is_none() {
            o.closed_ms = Some(now_ms);
        }
        o.status = status;
    }

    /// Gives back the units sub order `si` reserved (a cancel or an expiry).
    pub(super) fn release(&mut self, oi: usize, si: usize, work: &mut Work) {
        self.each_reservation(oi, si, work, unreserve);
    }

    /// Consumes the units sub order `si` reserved (an invoice): they leave the stock.
    pub(super) fn consume(&mut self, oi: usize, si: usize, work: &mut Work) {
        self.each_reservation(oi, si, work, |e, n| {
            unreserve(e, n);
            if !e.quantity.is_unlimited() {
                e.quantity.0 =
                    e.quantity.0.checked_sub(n).expect("invariant broken: consumed units above the quantity");
            }
        });
    }

    /// Calls `f` with the stock entry and units of each reservation of sub order `si`, and
    /// marks its SKUs dirty.
    fn each_reservation(&mut self, oi: usize, si: usize, work: &mut Work, mut f: impl FnMut(&mut StockEntry, u64)) {
        let sub = &self.orders.list[oi].subs[si];
        for it in &sub.items {
            for &(wh, n) in &it.reservations {
                let e = self.accounts[sub.seller].skus[it.sku]
                    .stock
                    .iter_mut()
                    .find(|e| e.warehouse == wh)
                    .expect("invariant broken: a reservation names a stock entry that does not exist");
                f(e, n);
            }
            work.dirty.push((sub.seller, it.sku));
        }
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
        self.check_external_placed(oi)?;
        let o = &mut self.orders.list[oi];
        self.orders.expiry.remove(&(o.expires_ms, oi));
        o.status = OrderStatus::Authorized;
        o.authorized_ms = Some(now_ms);
        let mut changed = Vec::new();
        for (si, s) in o.subs.iter_mut().enumerate() {
            if s.status == OrderStatus::Reserved {
                s.status = OrderStatus::Authorized;
                changed.push(si);
            }
        }
        for &si in &changed {
            self.external_authorized(oi, si);
        }
        self.order_events(oi, &changed, OrderEventKind::Authorized, None, work);
        Ok(())
    }

    pub(crate) fn invoice_order(
        &mut self,
        account: &str,
        id: &str,
        body: Option<&InvoiceBody>,
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        let invoice = body.map(|b| super::outbound::invoice_of(b, now_ms)).transpose()?;
        let (_, oi, si) = self.order_of(account, id)?;
        let Some(si) = si else {
            return Err(DomainError::conflict("each seller invoices its own seller or chain order"));
        };
        match self.orders.list[oi].subs[si].status {
            OrderStatus::Invoiced => return self.check_invoice_repeat(oi, si, body),
            OrderStatus::Authorized => {}
            OrderStatus::Reserved => return Err(DomainError::conflict("the order is not authorised yet")),
            s => return Err(DomainError::conflict(format!("the order is {}", s.as_str()))),
        }
        self.consume(oi, si, work);
        self.orders.list[oi].subs[si].status = OrderStatus::Invoiced;
        self.after_invoice(oi, si, invoice, now_ms);
        self.follow_seller_orders(oi, now_ms);
        self.order_events(oi, &[si], OrderEventKind::Invoiced, None, work);
        Ok(())
    }

    /// Rule 34: the marketplace cancels its whole order tree; a seller cancels the whole
    /// top-level seller order above its seller or chain order (upstream and downstream).
    /// Nothing is cancelled once any order of that tree is invoiced (409), so units sold on
    /// are never released below an order that still counts them. `order.cancelled`, naming
    /// `account`, goes to the marketplace and to the seller of every order that changed.
    pub(crate) fn cancel_order(&mut self, account: &str, id: &str, now_ms: u64, work: &mut Work) -> Result<()> {
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
        self.after_cancel(oi, &changed, by, now_ms);
        let by = self.accounts[by].id.clone();
        self.cancel_subs(oi, &changed, now_ms, by, None, work);
        Ok(())
    }

    /// Cancels the open sub orders `changed` of order `oi`: released, external ones owe a
    /// cancel, `order.cancelled` naming `by` (and `reason`, when the engine decided).
    pub(super) fn cancel_subs(
        &mut self,
        oi: usize,
        changed: &[usize],
        now_ms: u64,
        by: Arc<str>,
        reason: Option<Arc<str>>,
        work: &mut Work,
    ) {
        for &c in changed {
            self.release(oi, c, work);
            self.orders.list[oi].subs[c].status = OrderStatus::Cancelled;
            self.external_closed(oi, c);
        }
        self.follow_seller_orders(oi, now_ms);
        self.order_events_why(oi, changed, OrderEventKind::Cancelled, Some(by), reason, work);
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
                    self.release(oi, si, work);
                    self.orders.list[oi].subs[si].status = OrderStatus::Expired;
                    self.external_closed(oi, si);
                    changed.push(si);
                }
            }
            self.orders.list[oi].status = OrderStatus::Expired;
            self.orders.list[oi].closed_ms = Some(now_ms);
            self.order_events(oi, &changed, OrderEventKind::Expired, None, work);
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
}
