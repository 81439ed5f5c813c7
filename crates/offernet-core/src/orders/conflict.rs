//! Conflicts with an external party (vtex-compat.md §4 "Races" and §6 Q2): offernet cancels an
//! order locally at once and tells the external seller; if that seller's invoice then arrives
//! (VTEX C5), the invoice is refused (409) and the conflict is recorded here, with
//! `RecordExternalConflict`, so the operator and the marketplace learn of it as the event
//! `order.external_conflict`. The server records it (the engine never learns of a refusal on
//! its own: a refused command changes nothing); recording the same conflict again changes
//! nothing, so a seller's retries make one event.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::event::{EventBody, ExternalConflictEvent};
use crate::state::{Engine, Work};
use crate::validate as v;

use super::*;

/// What an external party asked for that the order's state refused.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The seller invoiced (it may have shipped) a sub order already cancelled here.
    InvoiceAfterCancel,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::InvoiceAfterCancel => "invoice_after_cancel",
        }
    }
}

/// The conflicts recorded, by (order, sub order, kind): the invoice number the seller sent
/// and when the conflict was recorded.
pub type Conflicts = std::collections::BTreeMap<(usize, usize, ConflictKind), ConflictRecord>;

/// One recorded conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictRecord {
    pub invoice_number: Option<Arc<str>>,
    pub at_ms: u64,
}

impl Engine {
    /// `RecordExternalConflict`: seller `seller`'s sub order `id` met conflict `what` (for
    /// `invoice_after_cancel`: the sub order is cancelled and its seller sent invoice
    /// `invoice_number`). The first record of a (sub order, kind) emits
    /// `order.external_conflict` to the marketplace (and to the buyer of a chain order); a
    /// repeat changes nothing. A conflict the state does not show is refused (409).
    pub(crate) fn record_external_conflict(
        &mut self,
        (seller, id): (&str, &str),
        what: ConflictKind,
        invoice_number: Option<&str>,
        now_ms: u64,
        work: &mut Work,
    ) -> Result<()> {
        if let Some(n) = invoice_number {
            v::text("invoice_number", n)?;
            if n.len() > MAX_INVOICE_NUMBER_LEN {
                return Err(DomainError::invalid("invoice_number", format!("at most {MAX_INVOICE_NUMBER_LEN} bytes")));
            }
        }
        let (_, oi, si) = self.order_of(seller, id)?;
        let si = si.ok_or_else(|| DomainError::conflict(format!("`{id}` is a marketplace's own order")))?;
        match what {
            ConflictKind::InvoiceAfterCancel => {
                if self.orders.list[oi].subs[si].status != OrderStatus::Cancelled {
                    return Err(DomainError::conflict(format!("`{id}` is not cancelled: an invoice is no conflict")));
                }
            }
        }
        if self.orders.conflicts.contains_key(&(oi, si, what)) {
            return Ok(());
        }
        let record = ConflictRecord { invoice_number: invoice_number.map(Arc::from), at_ms: now_ms };
        self.conflict_event(oi, si, what, &record, work);
        self.orders.conflicts.insert((oi, si, what), record);
        Ok(())
    }

    fn conflict_event(&mut self, oi: usize, si: usize, what: ConflictKind, r: &ConflictRecord, work: &mut Work) {
        let o = &self.orders.list[oi];
        let s = &o.subs[si];
        let body = ExternalConflictEvent {
            marketplace: self.accounts[o.marketplace].id.clone(),
            order: o.id.clone(),
            id: s.id.clone(),
            seller: self.accounts[s.seller].id.clone(),
            what,
            invoice_number: r.invoice_number.clone(),
            at_ms: r.at_ms,
        };
        for account in self.told_of_sub(oi, si) {
            self.emit(work, account, EventBody::OrderExternalConflict(body.clone()));
        }
    }
}

#[cfg(test)]
#[path = "conflict_tests.rs"]
mod tests;
