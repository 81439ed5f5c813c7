//! Invoices and what an external marketplace must hear of its orders (vtex-compat.md §2.1 item 4,
//! §2.2 B8/B9, §3.4): `InvoiceOrder`'s optional invoice, kept per seller or chain order, and the
//! *outbound acknowledgement* state of orders that stand for an order at an external VTEX
//! marketplace V (an `external_ref` with a services endpoint, V a mirror account). S invoicing
//! its seller order makes the invoice call (B8) pending; a cancel by anyone but V makes the
//! seller cancel call (B9) pending; the server's worker performs what `pending_outbound()` lists
//! and acknowledges each with `RecordOutbound`. Level-triggered: the state says what is left, so
//! a crash between a call and its record repeats the call (V deduplicates by invoice number).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::state::{Engine, Work};
use crate::validate as v;

use super::*;

/// Longest invoice number (VTEX `invoiceNumber`, e.g. `NFe-00002`).
pub const MAX_INVOICE_NUMBER_LEN: usize = 64;
/// Longest courier name or tracking number.
pub const MAX_INVOICE_TEXT_LEN: usize = 200;

/// `InvoiceOrder`'s invoice: what the seller's fiscal invoice says, sent to an external
/// marketplace as VTEX `requestSendInvoice`. `number` is required; the rest is optional.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBody {
    /// The invoice number (VTEX `invoiceNumber`); invoicing again with another number is 409.
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 64))]
    pub number: Option<String>,
    /// Its total in minor units (VTEX `invoiceValue`); default: Σ price × quantity.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000000i64))]
    pub value: Option<i64>,
    /// When it was issued (Unix ms; VTEX `issuanceDate`); default: when it was recorded.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 253402300799999i64))]
    pub issued_ms: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub courier: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub tracking_number: Option<String>,
    /// An `http://` or `https://` URL.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048, pattern = "^https?://[!-~]+$"))]
    pub tracking_url: Option<String>,
}

/// An invoice as kept: when it was recorded (`at_ms`, the command's time) and what was given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub at_ms: u64,
    pub number: Option<Arc<str>>,
    pub value: Option<i64>,
    pub issued_ms: Option<u64>,
    pub courier: Option<Arc<str>>,
    pub tracking_number: Option<Arc<str>>,
    pub tracking_url: Option<Arc<str>>,
}

/// Latest accepted `issued_ms`: the last millisecond of year 9999 (VTEX dates have four digits).
const MAX_ISSUED_MS: u64 = 253_402_300_799_999;

/// Checks an invoice body (before any state is read, rule 39) and keeps it as of `at_ms`.
pub(super) fn invoice_of(body: &InvoiceBody, at_ms: u64) -> Result<Invoice> {
    let number = body.number.as_deref().ok_or_else(|| DomainError::invalid("invoice.number", "required"))?;
    v::text("invoice.number", number)?;
    if number.len() > MAX_INVOICE_NUMBER_LEN {
        return Err(DomainError::invalid("invoice.number", format!("at most {MAX_INVOICE_NUMBER_LEN} bytes")));
    }
    let value = body.value.map(|x| v::price("invoice.value", x)).transpose()?;
    if body.issued_ms.is_some_and(|ms| ms > MAX_ISSUED_MS) {
        return Err(DomainError::invalid("invoice.issued_ms", "a Unix time in milliseconds before year 10000"));
    }
    let text = |field: &str, s: &Option<String>| -> Result<Option<Arc<str>>> {
        let Some(s) = s.as_deref() else { return Ok(None) };
        v::text(field, s)?;
        if s.len() > MAX_INVOICE_TEXT_LEN {
            return Err(DomainError::invalid(field, format!("at most {MAX_INVOICE_TEXT_LEN} bytes")));
        }
        Ok(Some(Arc::from(s)))
    };
    let tracking_url = match body.tracking_url.as_deref() {
        None => None,
        Some(u) => {
            let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
            let printable = u.bytes().all(|b| b.is_ascii_graphic());
            if rest.is_none_or(str::is_empty) || !printable || u.len() > v::MAX_URL_LEN {
                return Err(DomainError::invalid(
                    "invoice.tracking_url",
                    format!("an http:// or https:// URL of printable ASCII, at most {} characters", v::MAX_URL_LEN),
                ));
            }
            Some(Arc::from(u))
        }
    };
    Ok(Invoice {
        at_ms,
        number: Some(Arc::from(number)),
        value,
        issued_ms: body.issued_ms,
        courier: text("invoice.courier", &body.courier)?,
        tracking_number: text("invoice.tracking_number", &body.tracking_number)?,
        tracking_url,
    })
}

/// Which call an external marketplace is owed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundCall {
    /// B8: the seller order was invoiced.
    Invoice,
    /// B9: the seller order was cancelled by someone other than the marketplace.
    Cancel,
}

/// What the worker learnt (`RecordOutbound`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundOutcome {
    /// The marketplace answered 2xx: nothing more is owed.
    Sent,
    /// Owed again: the marketplace asked to cancel an invoiced order (B4), and sending the
    /// invoice again is VTEX's way for a seller to refuse a cancellation.
    Again,
}

/// One call owed to an external marketplace, with what the call needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOutbound {
    /// The marketplace (V's mirror account) and its order id.
    pub marketplace: Arc<str>,
    pub order: Arc<str>,
    /// The seller and its seller order id (`{V}.{order}`): `RecordOutbound`'s key.
    pub seller: Arc<str>,
    pub seller_order: Arc<str>,
    pub call: OutboundCall,
    /// V's `marketplaceOrderId` and `marketplaceServicesEndpoint`.
    pub marketplace_order_id: Arc<str>,
    pub services_endpoint: Arc<str>,
    /// The invoice, for `Invoice` (absent when the order was invoiced before invoices were kept).
    pub invoice: Option<Invoice>,
}

impl Engine {
    /// Whether order `oi` stands for an order at an external VTEX marketplace that takes
    /// invoices and cancels (an `external_ref` with a services endpoint, the marketplace a
    /// mirror with role `marketplace`).
    fn owes_outbound(&self, oi: usize) -> bool {
        let o = &self.orders.list[oi];
        let endpoint = o.external_ref.as_deref().and_then(|x| x.services_endpoint.as_deref());
        let mirror = self.accounts[o.marketplace].integration.as_deref().is_some_and(|i| i.role() == "marketplace");
        endpoint.is_some() && mirror
    }

    /// After `InvoiceOrder` of sub order `si` (before `at_ms`'s state is kept): its invoice, and
    /// B8 owed when it is a seller order of an order that owes outbound calls.
    pub(super) fn after_invoice(&mut self, oi: usize, si: usize, invoice: Option<Invoice>, at_ms: u64) {
        let owes = self.orders.list[oi].subs[si].parent.is_none() && self.owes_outbound(oi);
        if let Some(inv) = invoice.or_else(|| owes.then(|| Invoice { at_ms, ..Invoice::default() })) {
            self.orders.invoices.insert((oi, si), Box::new(inv));
        }
        if owes {
            self.orders.outbound.insert((oi, si));
        }
    }

    /// After a cancel by `by` at `at_ms`: the time, for sub orders of external sellers; B9
    /// owed for each cancelled seller order of `changed` when `by` is not the order's
    /// marketplace (V cancelling needs no answer but B4's).
    pub(super) fn after_cancel(&mut self, oi: usize, changed: &[usize], by: crate::model::AccountIdx, at_ms: u64) {
        for &si in changed {
            if self.accounts[self.orders.list[oi].subs[si].seller].seller_link().is_some() {
                self.orders.cancelled_ms.insert((oi, si), at_ms);
            }
        }
        if by == self.orders.list[oi].marketplace || !self.owes_outbound(oi) {
            return;
        }
        for &si in changed {
            if self.orders.list[oi].subs[si].parent.is_none() {
                self.orders.outbound.insert((oi, si));
            }
        }
    }

    /// An `InvoiceOrder` of an invoiced sub order: the same invoice number (or none given) is
    /// a repeat and changes nothing; another number is 409.
    pub(super) fn check_invoice_repeat(&self, oi: usize, si: usize, given: Option<&InvoiceBody>) -> Result<()> {
        let kept = self.orders.invoices.get(&(oi, si)).and_then(|i| i.number.clone());
        match (given.and_then(|b| b.number.as_deref()), kept) {
            (None, _) => Ok(()),
            (Some(n), Some(k)) if *k == *n => Ok(()),
            (Some(n), Some(k)) => Err(DomainError::conflict(format!("already invoiced with invoice `{k}`, not `{n}`"))),
            (Some(n), None) => {
                Err(DomainError::conflict(format!("already invoiced without an invoice number, not `{n}`")))
            }
        }
    }

    /// `RecordOutbound`: the worker's acknowledgement (`Sent`) or a call owed again (`Again`,
    /// only an invoice of an invoiced seller order that owes outbound calls). Recording `Sent`
    /// for a call not owed changes nothing (the worker may record twice).
    pub(crate) fn record_outbound(
        &mut self,
        seller: &str,
        id: &str,
        call: OutboundCall,
        outcome: OutboundOutcome,
        _work: &mut Work,
    ) -> Result<()> {
        let (_, oi, si) = self.order_of(seller, id)?;
        let Some(si) = si.filter(|&si| self.orders.list[oi].subs[si].parent.is_none()) else {
            return Err(DomainError::conflict("outbound calls are recorded for seller orders, by their seller"));
        };
        let status = self.orders.list[oi].subs[si].status;
        let matches = match call {
            OutboundCall::Invoice => status == OrderStatus::Invoiced,
            OutboundCall::Cancel => status == OrderStatus::Cancelled,
        };
        if !matches {
            return Err(DomainError::conflict(format!("the order is {}", status.as_str())));
        }
        match outcome {
            OutboundOutcome::Sent => {
                self.orders.outbound.remove(&(oi, si));
            }
            OutboundOutcome::Again if call == OutboundCall::Invoice && self.owes_outbound(oi) => {
                self.orders.outbound.insert((oi, si));
            }
            OutboundOutcome::Again => {
                return Err(DomainError::conflict(
                    "only an invoice to an external marketplace is owed again (a refused cancel)",
                ))
            }
        }
        Ok(())
    }

    /// Every call owed to an external marketplace, oldest order first.
    pub fn pending_outbound(&self) -> Vec<PendingOutbound> {
        self.orders.outbound.iter().filter_map(|&(oi, si)| self.pending_at(oi, si)).collect()
    }

    fn pending_at(&self, oi: usize, si: usize) -> Option<PendingOutbound> {
        let o = &self.orders.list[oi];
        let s = &o.subs[si];
        let x = o.external_ref.as_deref()?;
        let call = match s.status {
            OrderStatus::Invoiced => OutboundCall::Invoice,
            _ => OutboundCall::Cancel,
        };
        Some(PendingOutbound {
            marketplace: self.accounts[o.marketplace].id.clone(),
            order: o.id.clone(),
            seller: self.accounts[s.seller].id.clone(),
            seller_order: s.id.clone(),
            call,
            marketplace_order_id: Arc::from(x.marketplace_order_id.as_deref()?),
            services_endpoint: Arc::from(x.services_endpoint.as_deref()?),
            invoice: self.orders.invoices.get(&(oi, si)).map(|i| (**i).clone()),
        })
    }

    /// The invoice kept for `account`'s sub order `id` (its seller's view), if any.
    pub fn invoice_of(&self, account: &str, id: &str) -> Option<Invoice> {
        let (_, oi, si) = self.order_of(account, id).ok()?;
        self.orders.invoices.get(&(oi, si?)).map(|i| (**i).clone())
    }

    /// When `account`'s cancelled sub order `id` was cancelled: kept for external sellers'
    /// sub orders, else known once its whole order closed.
    pub fn cancelled_ms(&self, account: &str, id: &str) -> Option<u64> {
        let (_, oi, si) = self.order_of(account, id).ok()?;
        let si = si.filter(|&si| self.orders.list[oi].subs[si].status == OrderStatus::Cancelled)?;
        self.orders.cancelled_ms.get(&(oi, si)).copied().or(self.orders.list[oi].closed_ms)
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
