//! The VTEX section of a snapshot (format 4 on), after the webhooks: what the VTEX protocol
//! added to accounts, affiliations and orders, each part sparse (only what is set, under its
//! owner's index) so that a network without VTEX pays a few bytes. Written and read here, side
//! by side.

use std::sync::Arc;

use super::codec::{DResult, R, W};
use crate::model::AccountIdx;
use crate::model::{ShippingProfile, Sla};
use crate::orders::ExternalRef;
use crate::state::Engine;

impl Engine {
    /// The section; without `order_dates`, as if no order had its dates (what a snapshot of a
    /// format before 4 keeps).
    pub(super) fn encode_vtex(&self, w: &mut W, order_dates: bool) {
        let profiles: Vec<(usize, &ShippingProfile)> =
            self.accounts.iter().enumerate().filter_map(|(i, a)| a.shipping.as_deref().map(|p| (i, p))).collect();
        w.u32(profiles.len() as u32);
        for (ai, p) in profiles {
            w.account(AccountIdx::new(ai));
            w.u32(p.ships_to.len() as u32);
            for c in &p.ships_to {
                w.str(c);
            }
            w.u32(p.slas.len() as u32);
            for s in &p.slas {
                w.str(&s.id);
                w.str(&s.name);
                w.i64(s.price);
                w.str(&s.shipping_estimate);
            }
        }
        let remote: Vec<(usize, AccountIdx, &Arc<str>)> = self
            .accounts
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                a.affiliations.iter().filter_map(move |(&m, x)| Some((i, m, x.remote_seller_id.as_ref()?)))
            })
            .collect();
        w.u32(remote.len() as u32);
        for (s, m, id) in remote {
            w.account(AccountIdx::new(s));
            w.account(m);
            w.str(id);
        }
        let orders: Vec<usize> =
            (0..self.orders.list.len()).filter(|&oi| has_extras(&self.orders.list[oi], order_dates)).collect();
        w.u32(orders.len() as u32);
        for oi in orders {
            let o = &self.orders.list[oi];
            w.u32(oi as u32);
            w.opt(o.authorized_ms.filter(|_| order_dates), |w, x| w.u64(x));
            w.opt(o.closed_ms.filter(|_| order_dates), |w, x| w.u64(x));
            w.opt(o.external_ref.as_deref(), |w, x| {
                w.str(x.marketplace_order_id.as_deref().unwrap_or_default());
                w.opt(x.services_endpoint.as_deref(), |w, u| w.str(u));
            });
            w.opt_str(&o.document_sha256);
        }
    }

    pub(super) fn decode_vtex(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.account()?;
            let mut ships_to = Vec::new();
            for _ in 0..r.u32()? {
                ships_to.push(r.str()?);
            }
            let mut slas = Vec::new();
            for _ in 0..r.u32()? {
                slas.push(Sla { id: r.str()?, name: r.str()?, price: r.i64()?, shipping_estimate: r.str()? });
            }
            let account = self.accounts.get_mut(a.ix()).ok_or("snapshot names an account that does not exist")?;
            account.shipping = Some(Arc::new(ShippingProfile { ships_to, slas }));
        }
        for _ in 0..r.u32()? {
            let (s, m, id) = (r.account()?, r.account()?, r.str()?);
            let seller = self.accounts.get_mut(s.ix()).ok_or("snapshot names an account that does not exist")?;
            let aff = seller.affiliations.get_mut(&m).ok_or("snapshot names an affiliation that does not exist")?;
            aff.remote_seller_id = Some(id);
        }
        for _ in 0..r.u32()? {
            let oi = r.u32()? as usize;
            let authorized_ms = r.opt(|r| r.u64())?;
            let closed_ms = r.opt(|r| r.u64())?;
            let external_ref = r.opt(|r| {
                let marketplace_order_id = Some(r.str()?.to_string());
                let services_endpoint = r.opt(|r| Ok(r.str()?.to_string()))?;
                Ok(Box::new(ExternalRef { marketplace_order_id, services_endpoint }))
            })?;
            let document_sha256 = r.opt_str()?;
            let o = self.orders.list.get_mut(oi).ok_or("snapshot names an order that does not exist")?;
            o.authorized_ms = authorized_ms;
            o.closed_ms = closed_ms;
            o.external_ref = external_ref;
            o.document_sha256 = document_sha256;
        }
        Ok(())
    }
}

fn has_extras(o: &crate::orders::Order, order_dates: bool) -> bool {
    let dates = order_dates && (o.authorized_ms.is_some() || o.closed_ms.is_some());
    dates || o.external_ref.is_some() || o.document_sha256.is_some()
}
