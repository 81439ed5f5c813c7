//! The outbound section of a snapshot (format 5 on), after the VTEX section: invoices kept per
//! sub order and the seller orders that owe an external marketplace a call
//! and when external sellers' sub orders were cancelled (`orders/outbound.rs`). Sparse: a network
//! without invoices or VTEX orders pays 12 bytes.
//! Written and read here, side by side.

use super::codec::{DResult, R, W};
use crate::orders::Invoice;
use crate::state::Engine;

impl Engine {
    pub(super) fn encode_outbound(&self, w: &mut W) {
        let o = &self.orders;
        w.u32(o.invoices.len() as u32);
        for (&(oi, si), inv) in &o.invoices {
            w.u32(oi as u32);
            w.u32(si as u32);
            w.u64(inv.at_ms);
            w.opt_str(&inv.number);
            w.opt(inv.value, |w, x| w.i64(x));
            w.opt(inv.issued_ms, |w, x| w.u64(x));
            w.opt_str(&inv.courier);
            w.opt_str(&inv.tracking_number);
            w.opt_str(&inv.tracking_url);
        }
        w.u32(o.outbound.len() as u32);
        for &(oi, si) in &o.outbound {
            w.u32(oi as u32);
            w.u32(si as u32);
        }
        w.u32(o.cancelled_ms.len() as u32);
        for (&(oi, si), &ms) in &o.cancelled_ms {
            w.u32(oi as u32);
            w.u32(si as u32);
            w.u64(ms);
        }
    }

    pub(super) fn decode_outbound(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let key = self.sub_order_key(r)?;
            let inv = Invoice {
                at_ms: r.u64()?,
                number: r.opt_str()?,
                value: r.opt(|r| r.i64())?,
                issued_ms: r.opt(|r| r.u64())?,
                courier: r.opt_str()?,
                tracking_number: r.opt_str()?,
                tracking_url: r.opt_str()?,
            };
            self.orders.invoices.insert(key, Box::new(inv));
        }
        for _ in 0..r.u32()? {
            let key = self.sub_order_key(r)?;
            self.orders.outbound.insert(key);
        }
        for _ in 0..r.u32()? {
            let key = self.sub_order_key(r)?;
            self.orders.cancelled_ms.insert(key, r.u64()?);
        }
        Ok(())
    }

    /// (order, sub order) indexes, checked to name a sub order that exists.
    pub(super) fn sub_order_key(&self, r: &mut R) -> DResult<(usize, usize)> {
        let (oi, si) = (r.u32()? as usize, r.u32()? as usize);
        match self.orders.list.get(oi) {
            Some(o) if si < o.subs.len() => Ok((oi, si)),
            _ => Err("snapshot names a sub order that does not exist".into()),
        }
    }
}
