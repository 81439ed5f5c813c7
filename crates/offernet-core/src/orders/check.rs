//! The order invariants the tests check after every command.

use crate::fx::FxHashMap;
use crate::state::Engine;

use super::*;

impl Engine {
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

    /// Orders follow offers (they share the stock gate and the warehouses serving a trade
    /// policy): for every offer whose two halves exist, what a placement could reserve with
    /// nothing taken yet is everything asked when the offer is unlimited, and otherwise
    /// positive exactly when the offer's quantity is and never more than it (a shown quantity
    /// is an upper bound: stock reachable along two paths counts on each, rule 15).
    pub(crate) fn check_orders_follow_offers(&self) -> std::result::Result<(), String> {
        let want = crate::model::MAX_SHOWN_QUANTITY;
        for (mi, market) in self.accounts.iter().enumerate() {
            let m = AccountIdx::new(mi);
            for (mk, sku) in market.skus.iter().enumerate() {
                for &(s, ss) in &sku.sources {
                    let Some(got) = self.fillable(m, s, ss, want) else { continue };
                    let q = self.eval_offer(m, s, ss, Some(SkuIdx::new(mk)), None).quantity;
                    let agrees = if q.is_unlimited() { got == want } else { got <= q.0 && (got > 0) == (q.0 > 0) };
                    if !agrees {
                        return Err(format!(
                            "{}/{} from {}: the offer shows {q:?}, an order could reserve {got}",
                            market.id, sku.id, self.accounts[s].id
                        ));
                    }
                }
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
                    let want = expected.get(&(AccountIdx::new(ai), SkuIdx::new(si), e.warehouse)).copied().unwrap_or(0);
                    if e.reserved != want {
                        return Err(format!("{}/{}: reserved {} but open orders hold {want}", a.id, s.id, e.reserved));
                    }
                }
            }
        }
        Ok(())
    }

    /// The invariants of external sub orders (`external.rs`): no order authorised while a
    /// placement is pending; a refused sub order is never open; a fulfil or a confirmed cancel
    /// only once placed; an open sub order owes no cancel, a cancelled or expired one no fulfil;
    /// the index holds exactly the external sub orders that are open or owe an effect.
    pub(crate) fn check_external(&self) -> std::result::Result<(), String> {
        for (oi, o) in self.orders.list.iter().enumerate() {
            for (si, s) in o.subs.iter().enumerate() {
                let Some(x) = s.external.as_deref() else { continue };
                let indexed = self.orders.external.contains(&(s.seller, oi, si));
                if indexed != (s.status.open() || x.pending()) {
                    return Err(format!("{}: index says {indexed}, state {x:?} {:?}", s.id, s.status));
                }
                let placed = matches!(x.placement, Placement::Placed(_));
                if x.placement == Placement::Pending && o.authorized_ms.is_some() {
                    return Err(format!("{}: authorised with a pending placement", o.id));
                }
                if matches!(x.placement, Placement::Refused(_)) && s.status.open() {
                    return Err(format!("{}: refused at {} but still open", o.id, s.id));
                }
                if (x.dispatch != Effect::None || x.cancel == Effect::Done) && !placed {
                    return Err(format!("{}: an effect without a placement: {x:?}", s.id));
                }
                if s.status.open() && x.cancel != Effect::None {
                    return Err(format!("{}: open but a cancel is owed", s.id));
                }
                if matches!(s.status, OrderStatus::Cancelled | OrderStatus::Expired) && x.dispatch == Effect::Pending {
                    return Err(format!("{}: {:?} but a fulfil is owed", s.id, s.status));
                }
            }
        }
        Ok(())
    }
}
