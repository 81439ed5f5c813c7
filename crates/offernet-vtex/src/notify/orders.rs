//! B8/B9 (vtex-compat.md §2.2): the invoice and the seller cancel S owes V for its seller order
//! at V, built from committed state (`Engine::pending_outbound`). Pure.

use offernet_core::{Engine, OrderAnswer, OutboundCall, PendingOutbound};
use serde_json::{json, Value};

use crate::lifecycle::iso_date;

/// B9's reason.
pub const SELLER_CANCEL_REASON: &str = "cancelled by the seller";

/// A path segment with everything but RFC 3986's unreserved characters percent-encoded.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL of call `p`: `{services endpoint}/pvt/orders/{marketplaceOrderId}/invoice|cancel`.
pub fn url(p: &PendingOutbound) -> String {
    let what = match p.call {
        OutboundCall::Invoice => "invoice",
        OutboundCall::Cancel => "cancel",
    };
    format!("{}/pvt/orders/{}/{what}", p.services_endpoint.trim_end_matches('/'), segment(&p.marketplace_order_id))
}

/// ESM `requestSendInvoice` (B8) or `requestCancelOrderMarketplace` (B9) for `p`; `None` when
/// the seller order is no longer readable.
pub fn body(e: &Engine, p: &PendingOutbound) -> Option<Value> {
    if p.call == OutboundCall::Cancel {
        return Some(json!({"reason": SELLER_CANCEL_REASON}));
    }
    let Ok(OrderAnswer::Seller(sub)) = e.order_view(&p.seller, &p.seller_order) else { return None };
    let items: Vec<Value> =
        sub.items.iter().map(|it| json!({"id": it.sku, "quantity": it.quantity, "price": it.price})).collect();
    let total: i64 = sub.items.iter().map(|it| it.price.saturating_mul(it.quantity as i64)).sum();
    let inv = p.invoice.clone().unwrap_or_default();
    let issued = inv.issued_ms.unwrap_or(inv.at_ms);
    let mut b = json!({
        "type": "Output",
        "invoiceNumber": inv.number.as_deref().unwrap_or(&p.seller_order),
        "invoiceValue": inv.value.unwrap_or(total),
        "issuanceDate": iso_date(issued),
        "items": items,
    });
    for (field, v) in
        [("courier", &inv.courier), ("trackingNumber", &inv.tracking_number), ("trackingUrl", &inv.tracking_url)]
    {
        if let Some(v) = v {
            b[field] = json!(v);
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_the_marketplace_order_id() {
        let p = PendingOutbound {
            marketplace: "v".into(),
            order: "o".into(),
            seller: "s".into(),
            seller_order: "v.o".into(),
            call: OutboundCall::Cancel,
            marketplace_order_id: "1138/34 ?".into(),
            services_endpoint: "https://v.example/api/oms/".into(),
            invoice: None,
        };
        assert_eq!(url(&p), "https://v.example/api/oms/pvt/orders/1138%2F34%20%3F/cancel");
        assert_eq!(segment("A-1_b.c~"), "A-1_b.c~");
    }
}
