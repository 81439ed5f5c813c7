//! The conflicts section of a snapshot (format 6 on), after the outbound section: conflicts
//! recorded with external sellers over their sub orders (`orders/conflict.rs`), by (order, sub
//! order, kind), with the invoice number and the time. Sparse: 4 bytes without any.
//! Written and read here, side by side.

use super::codec::{DResult, R, W};
use crate::orders::{ConflictKind, ConflictRecord};
use crate::state::Engine;

fn kind_code(k: ConflictKind) -> u8 {
    match k {
        ConflictKind::InvoiceAfterCancel => 0,
    }
}

fn kind_of(c: u8) -> Option<ConflictKind> {
    Some(match c {
        0 => ConflictKind::InvoiceAfterCancel,
        _ => return None,
    })
}

impl Engine {
    pub(super) fn encode_conflicts(&self, w: &mut W) {
        w.u32(self.orders.conflicts.len() as u32);
        for (&(oi, si, kind), r) in &self.orders.conflicts {
            w.u32(oi as u32);
            w.u32(si as u32);
            w.u8(kind_code(kind));
            w.opt_str(&r.invoice_number);
            w.u64(r.at_ms);
        }
    }

    pub(super) fn decode_conflicts(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let (oi, si) = self.sub_order_key(r)?;
            let kind = r.code("conflict kind", kind_of)?;
            let record = ConflictRecord { invoice_number: r.opt_str()?, at_ms: r.u64()? };
            self.orders.conflicts.insert((oi, si, kind), record);
        }
        Ok(())
    }
}
