//! `RecordExternalOrder`: what an external seller answered for its sub order (placed,
//! refused, dispatched, cancel confirmed), written by the effects worker. A refusal cancels
//! the whole order through `cancel_subs` (`lifecycle.rs`); the external state it changes is
//! `external.rs`'s.

use std::sync::Arc;

use crate::error::{DomainError, Result};
use crate::event::{EventBody, ExternalOrderEvent};
use crate::state::{Engine, Work};

use super::*;

/// Checks an outcome's fields before any state is read (rule 39).
fn check_outcome(outcome: &ExternalOutcome) -> Result<()> {
    match outcome {
        ExternalOutcome::Placed { order_id } => {
            let ok = !order_id.is_empty()
                && order_id.len() <= MAX_EXTERNAL_ORDER_ID_CHARS
                && order_id.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(DomainError::invalid(
                    "outcome.order_id",
                    format!("1 to {MAX_EXTERNAL_ORDER_ID_CHARS} printable ASCII characters, no spaces"),
                ));
            }
        }
        ExternalOutcome::Refused { code } => {
            let ok = !code.is_empty()
                && code.len() <= MAX_REFUSAL_CODE_CHARS
                && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(DomainError::invalid(
                    "outcome.code",
                    format!("1 to {MAX_REFUSAL_CODE_CHARS} of a-z, 0-9 and _"),
                ));
            }
        }
        ExternalOutcome::Dispatched {} | ExternalOutcome::CancelConfirmed {} => {}
    }
    Ok(())
}

impl Engine {
    /// `RecordExternalOrder`: what external seller `seller` answered for its sub order `id`.
    /// Recording what is already recorded changes nothing (the worker may repeat itself);
    /// an outcome that contradicts the state is refused (409). A refusal cancels the whole
    /// order (`order.cancelled` with reason `external_seller_refused`), as a placement that
    /// does not fit fails whole.
    pub(crate) fn record_external_order(
        &mut self,
        seller: &str,
        id: &str,
        outcome: &ExternalOutcome,
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        check_outcome(outcome)?;
        let (_, oi, si) = self.order_of(seller, id)?;
        let si = si.ok_or_else(|| DomainError::conflict(format!("`{id}` is a marketplace's own order")))?;
        let s = &self.orders.list[oi].subs[si];
        let x = s.external.as_deref().ok_or_else(|| {
            DomainError::conflict(format!("`{id}` was not placed at an external seller: nothing is recorded for it"))
        })?;
        let placed = matches!(x.placement, Placement::Placed(_));
        match outcome {
            ExternalOutcome::Placed { order_id } => match &x.placement {
                Placement::Pending => self.set_placed(oi, si, Arc::from(order_id.as_str()), work),
                Placement::Placed(p) if **p == *order_id => {}
                Placement::Placed(p) => {
                    return Err(DomainError::conflict(format!("`{id}` was placed as `{p}`, not `{order_id}`")))
                }
                Placement::Refused(_) => return Err(DomainError::conflict(format!("`{id}` was refused"))),
            },
            ExternalOutcome::Refused { code } => match &x.placement {
                Placement::Pending => self.set_refused(oi, si, Arc::from(code.as_str()), now_ms, work),
                Placement::Refused(_) => {}
                Placement::Placed(p) => return Err(DomainError::conflict(format!("`{id}` was placed as `{p}`"))),
            },
            ExternalOutcome::Dispatched {} => {
                let dispatch = x.dispatch;
                if dispatch == Effect::None || !placed {
                    return Err(DomainError::conflict(format!("no fulfil is owed for `{id}`")));
                }
                self.external_mut(oi, si).dispatch = Effect::Done;
            }
            ExternalOutcome::CancelConfirmed {} => {
                if x.cancel == Effect::None || !placed {
                    return Err(DomainError::conflict(format!("no cancel is owed for `{id}`")));
                }
                self.external_mut(oi, si).cancel = Effect::Done;
            }
        }
        self.external_settle(oi, si);
        Ok(())
    }

    fn external_mut(&mut self, oi: usize, si: usize) -> &mut ExternalState {
        self.orders.list[oi].subs[si].external.as_deref_mut().expect("an external sub order")
    }

    fn set_placed(&mut self, oi: usize, si: usize, order_id: Arc<str>, work: &mut Work) {
        self.external_mut(oi, si).placement = Placement::Placed(order_id.clone());
        let s = &self.orders.list[oi].subs[si];
        // Units placed at the seller are in its own answers no more: its warehouse `vtex`
        // counts them back (`ApplySellerQuotes`), so settle them again.
        work.dirty.extend(s.items.iter().map(|it| (s.seller, it.sku)));
        self.external_event(oi, si, Some(order_id), None, work);
    }

    fn set_refused(&mut self, oi: usize, si: usize, code: Arc<str>, now_ms: u64, work: &mut Work) {
        let x = self.external_mut(oi, si);
        x.placement = Placement::Refused(code.clone());
        x.cancel = Effect::None;
        x.dispatch = Effect::None;
        self.external_event(oi, si, None, Some(code), work);
        let o = &self.orders.list[oi];
        if !o.subs[si].status.open() {
            return; // already closed: a withdrawal the seller refused leaves the rest alone
        }
        let open: Vec<usize> = (0..o.subs.len()).filter(|&c| o.subs[c].status.open()).collect();
        let by = self.accounts[o.subs[si].seller].id.clone();
        self.cancel_subs(oi, &open, now_ms, by, Some(Arc::from(REASON_EXTERNAL_SELLER_REFUSED)), work);
    }

    /// `order.external_placed` or `order.external_refused` to the marketplace and, for a chain
    /// order, to its buyer.
    fn external_event(
        &mut self,
        oi: usize,
        si: usize,
        external_order_id: Option<Arc<str>>,
        code: Option<Arc<str>>,
        work: &mut Work,
    ) {
        let o = &self.orders.list[oi];
        let s = &o.subs[si];
        let body = ExternalOrderEvent {
            marketplace: self.accounts[o.marketplace].id.clone(),
            order: o.id.clone(),
            id: s.id.clone(),
            seller: self.accounts[s.seller].id.clone(),
            external_order_id,
            code,
        };
        let placed = body.external_order_id.is_some();
        for account in self.told_of_sub(oi, si) {
            let b = body.clone();
            let e = if placed { EventBody::OrderExternalPlaced(b) } else { EventBody::OrderExternalRefused(b) };
            self.emit(work, account, e);
        }
    }
}
