//! Generators of what the VTEX protocol added (vtex-compat.md §2.1): a seller's id at an
//! external marketplace, an order's optional fields, shipping profiles.

use offernet_core::orders::ExternalRef;
use offernet_core::*;

use super::{s, Rng};

/// A seller id at an external marketplace, sometimes; rarely a malformed one.
pub fn remote_seller_id(r: &mut Rng) -> Option<String> {
    match r.below(10) {
        0 => Some(s("seller-01")),
        1 => Some(s("bad id")),
        _ => None,
    }
}

/// An affiliation's follow-up e-mail (B2's `followUpEmail`), sometimes; rarely a malformed
/// one. Drawn from an RNG of its own (as `order_extras`), so the other draws stay as they were.
pub fn follow_up_email(main: &Rng) -> Option<String> {
    let r = &mut Rng(main.0 ^ 0x4d41_494c); // "MAIL"
    match r.below(10) {
        0 => Some(s("orders@shop.example")),
        1 => Some(s("no-at-sign")),
        _ => None,
    }
}

/// The optional parts of an order body (vtex-compat.md §2.1 item 4): a reservation time, the
/// most the marketplace charges per item (sometimes below the offer's price: `price_changed`),
/// the external order it stands for, its document's hash; rarely malformed. Drawn from an RNG
/// of its own (seeded from `main`'s state, which it does not advance), so that adding them
/// left the rest of a case's draws as they were.
pub fn order_extras(main: &Rng, e: &Engine, m: &str, mut body: OrderBody) -> OrderBody {
    let r = &mut Rng(main.0 ^ 0x5654_4558); // "VTEX"
    if r.chance(20) {
        let minutes = [1, 480, 11_520, 20_160, 20_160, 20_161, 0, 60, 30, 90];
        body.reservation_minutes = Some(minutes[r.below(minutes.len() as u64) as usize]);
    }
    if r.chance(30) {
        let items = body.items.as_deref().unwrap_or_default();
        let price = |it: &OrderItemBody| {
            let sku = it.sku.as_deref().unwrap_or_default();
            let offers = e.offers_for_sku(m, sku).unwrap_or_default();
            offers.iter().find(|o| Some(&*o.seller) == it.seller.as_deref()).and_then(|o| o.price).unwrap_or(100)
        };
        // Mostly at or above the seller's price; one in ten below it (`price_changed`).
        let mut prices: Vec<i64> =
            items.iter().map(|it| price(it) + if r.chance(10) { -1 } else { r.below(2) as i64 }).collect();
        if r.chance(5) {
            prices.push(1);
        }
        body.max_prices = Some(prices);
    }
    if r.chance(20) {
        let id = body.id.clone().unwrap_or_default();
        let endpoint = r.chance(50).then(|| s("https://v.example/api/oms"));
        body.external_ref = Some(Box::new(ExternalRef { marketplace_order_id: Some(id), services_endpoint: endpoint }));
    }
    // Mostly with a document: an order that includes an external seller needs one (`delivery`).
    if r.chance(70) {
        body.document_sha256 = Some(if r.chance(95) { format!("{:016x}", r.next()).repeat(4) } else { s("x") });
    }
    body
}

/// A shipping profile, sometimes with a malformed country or estimate.
pub fn shipping_command(r: &mut Rng, a: String) -> Command {
    let country = s(r.pick(&["BRA", "ARG", "br"]));
    let estimate = s(r.pick(&["3bd", "2d", "4h", "3w"]));
    let sla = |id: &str, price| SlaBody {
        id: Some(s(id)),
        name: Some(s("Normal")),
        price: Some(price),
        shipping_estimate: Some(estimate.clone()),
    };
    let slas = (0..r.below(3)).map(|i| sla(["normal", "express", "normal"][i as usize], 1000 * i as i64)).collect();
    Command::PutShippingProfile { account: a, body: ShippingBody { ships_to: Some(vec![country]), slas: Some(slas) } }
}

/// An invoice for `InvoiceOrder`, sometimes (numbers from a small set, so a repeat is as often
/// the same invoice as another one: 409); rarely malformed. Drawn from an RNG of its own, as
/// `order_extras`.
pub fn invoice_extras(main: &Rng) -> Option<Box<InvoiceBody>> {
    let r = &mut Rng(main.0 ^ 0x494e_5643); // "INVC"
    if !r.chance(40) {
        return None;
    }
    let number = s(r.pick(&["NFe-1", "NFe-2", "NFe-1", ""]));
    Some(Box::new(InvoiceBody {
        number: r.chance(95).then_some(number),
        value: r.chance(50).then(|| r.below(10_000) as i64 - 5),
        issued_ms: r.chance(50).then(|| 1_800_000_000_000 + r.below(1_000_000)),
        courier: r.chance(30).then(|| s("Correios")),
        tracking_number: r.chance(30).then(|| s("BR123")),
        tracking_url: r.chance(30).then(|| s(r.pick(&["https://t.example/1", "ftp://x"]))),
    }))
}

/// What the outbound worker would record (`RecordOutbound`): mostly an owed call as sent,
/// sometimes an invoice owed again (a refused cancel), sometimes a call for an order that owes
/// nothing or for the wrong kind. Drawn from an RNG of its own, as `order_extras`.
pub fn outbound_command(main: &Rng, e: &Engine, placed: &[(String, String, Vec<String>)]) -> Option<Command> {
    let r = &mut Rng(main.0 ^ 0x4f55_5442); // "OUTB"
    if !r.chance(60) {
        return None;
    }
    let pending = e.pending_outbound();
    let call = if r.chance(50) { OutboundCall::Invoice } else { OutboundCall::Cancel };
    let outcome = if r.chance(80) { OutboundOutcome::Sent } else { OutboundOutcome::Again };
    if !pending.is_empty() && r.chance(70) {
        let p = &pending[r.below(pending.len() as u64) as usize];
        let call = if r.chance(90) { p.call } else { call };
        return Some(Command::RecordOutbound {
            seller: p.seller.to_string(),
            id: p.seller_order.to_string(),
            call,
            outcome,
        });
    }
    let (m, id, sellers) = placed.get(r.below(placed.len().max(1) as u64) as usize)?;
    let seller = sellers.first().cloned().unwrap_or_else(|| m.clone());
    Some(Command::RecordOutbound { seller, id: format!("{m}.{id}"), call, outcome })
}

/// What the server would record when an external seller invoices a sub order cancelled here
/// (`RecordExternalConflict`): for a placed order's seller order, with an invoice number from a
/// small set (a repeat is the same conflict: no second event), rarely malformed; refused unless
/// the sub order is cancelled. Drawn from an RNG of its own, as `order_extras`.
pub fn conflict_command(main: &Rng, placed: &[(String, String, Vec<String>)]) -> Option<Command> {
    let r = &mut Rng(main.0 ^ 0x434e_464c); // "CNFL"
    if !r.chance(50) {
        return None;
    }
    let (m, id, sellers) = placed.get(r.below(placed.len().max(1) as u64) as usize)?;
    let seller = sellers.get(r.below(sellers.len().max(1) as u64) as usize).cloned().unwrap_or_else(|| m.clone());
    let number = r.chance(90).then(|| s(r.pick(&["NFe-1", "NFe-2", "", "NFe-1"])));
    Some(Command::RecordExternalConflict {
        seller,
        id: format!("{m}.{id}"),
        what: offernet_core::orders::ConflictKind::InvoiceAfterCancel,
        invoice_number: number,
    })
}
