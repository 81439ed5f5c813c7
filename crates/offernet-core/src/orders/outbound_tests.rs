//! Invoices and owed outbound calls: set by invoices and cancels, acknowledged or owed again by
//! `RecordOutbound`, kept by snapshots.

use super::*;
use crate::command::{AffiliationBody, Command, PriceBody, SellerBody, SkuBody, StockBody, WarehouseBody};
use crate::integration::IntegrationBody;
use crate::orders::{ExternalRef, OrderBody, OrderItemBody};
use crate::state::EngineConfig;

fn s(x: &str) -> String {
    x.to_string()
}

/// V (a VTEX mirror when `mirror`) and seller S with 10 units of `k`, bound at V as `s-k`.
fn network(mirror: bool) -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    let mut put = |c: Command| e.apply(&c, 1).unwrap();
    for id in ["v", "s"] {
        put(Command::CreateAccount { id: s(id), name: s(id), currency: s("BRL"), token_hash: None });
    }
    put(Command::PutSku {
        account: s("s"),
        sku: s("k"),
        body: Box::new(SkuBody { name: Some(s("K")), ..Default::default() }),
    });
    put(Command::PutPrice { account: s("s"), sku: s("k"), body: PriceBody { price: Some(100), ..Default::default() } });
    put(Command::PutWarehouse { account: s("s"), warehouse: s("w"), body: WarehouseBody::default() });
    let stock = StockBody { quantity: Some(10), unlimited: None };
    put(Command::PutStock { account: s("s"), warehouse: s("w"), sku: s("k"), body: stock });
    let aff = AffiliationBody { trade_policy: Some(s("1")), ..Default::default() };
    put(Command::PutAffiliation { seller: s("s"), marketplace: s("v"), body: Box::new(aff) });
    put(Command::PutSeller { marketplace: s("v"), seller: s("s"), body: SellerBody::default() });
    if mirror {
        let body = IntegrationBody {
            protocol: Some(s("vtex")),
            role: Some(s("marketplace")),
            api_base: Some(s("https://v.example/api")),
            suggestions_base: Some(s("https://api.vtex.example/v")),
            ..Default::default()
        };
        put(Command::PutIntegration { account: s("v"), body: Box::new(body) });
    }
    e
}

fn place(e: &mut Engine, id: &str, endpoint: Option<&str>) {
    let body = OrderBody {
        id: Some(s(id)),
        items: Some(vec![OrderItemBody { sku: Some(s("s-k")), quantity: Some(2), seller: Some(s("s")) }]),
        external_ref: Some(Box::new(ExternalRef {
            marketplace_order_id: Some(format!("V-{id}")),
            services_endpoint: endpoint.map(str::to_string),
        })),
        ..OrderBody::default()
    };
    e.apply(&Command::PlaceOrder { marketplace: s("v"), body }, 2).unwrap();
    e.apply(&Command::AuthorizeOrder { marketplace: s("v"), id: s(id) }, 3).unwrap();
}

fn invoice(number: &str) -> Option<Box<InvoiceBody>> {
    Some(Box::new(InvoiceBody {
        number: Some(s(number)),
        value: Some(200),
        tracking_url: Some(s("https://t.example/1")),
        ..Default::default()
    }))
}

fn record(id: &str, call: OutboundCall, outcome: OutboundOutcome) -> Command {
    Command::RecordOutbound { seller: s("s"), id: s(id), call, outcome }
}

#[test]
fn an_invoice_owes_the_marketplace_its_invoice_until_recorded() {
    let mut e = network(true);
    place(&mut e, "o1", Some("https://v.example/api/oms"));
    let inv = Command::InvoiceOrder { account: s("s"), id: s("v.o1"), invoice: invoice("NFe-1") };
    e.apply(&inv, 5).unwrap();
    let p = e.pending_outbound();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].call, &*p[0].marketplace_order_id, &*p[0].seller_order), (OutboundCall::Invoice, "V-o1", "v.o1"));
    let kept = p[0].invoice.clone().unwrap();
    assert_eq!((kept.at_ms, kept.number.as_deref(), kept.value), (5, Some("NFe-1"), Some(200)));
    // The same number is a repeat; none given too; another number is 409.
    e.apply(&inv, 6).unwrap();
    e.apply(&Command::InvoiceOrder { account: s("s"), id: s("v.o1"), invoice: None }, 6).unwrap();
    let other = Command::InvoiceOrder { account: s("s"), id: s("v.o1"), invoice: invoice("NFe-2") };
    assert!(e.apply(&other, 6).unwrap_err().to_string().contains("NFe-1"));
    assert_eq!(e.invoice_of("s", "v.o1").unwrap().at_ms, 5, "a repeat keeps the first invoice");
    // A cancel is not what is owed; the invoice is, once.
    assert!(e.apply(&record("v.o1", OutboundCall::Cancel, OutboundOutcome::Sent), 7).is_err());
    e.apply(&record("v.o1", OutboundCall::Invoice, OutboundOutcome::Sent), 7).unwrap();
    assert!(e.pending_outbound().is_empty());
    e.apply(&record("v.o1", OutboundCall::Invoice, OutboundOutcome::Sent), 7).unwrap();
    // V asked to cancel it (B4): the invoice is owed again, and survives a snapshot.
    e.apply(&record("v.o1", OutboundCall::Invoice, OutboundOutcome::Again), 8).unwrap();
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.pending_outbound(), e.pending_outbound());
    assert_eq!(copy.snapshot_bytes(), bytes);
    // A format-4 snapshot keeps neither (nor the external orders' section): it reads without them, and `journal verify` finds it
    // matches this state (what format 4 keeps of it).
    let mut v4 = e.snapshot_bytes_kept_by(4);
    // The external orders' count (4 bytes), the outbound section's three (12), the conflicts'
    // (4) and the follow-up e-mails' (4), all 0.
    assert_eq!(v4.split_off(v4.len() - 24), [0u8; 24]);
    v4[8..12].copy_from_slice(&4u32.to_le_bytes());
    let old = Engine::from_snapshot_bytes(EngineConfig::default(), &v4).unwrap();
    assert!(old.pending_outbound().is_empty() && old.invoice_of("s", "v.o1").is_none());
    assert!(e.snapshot_matches(&v4));
}

#[test]
fn a_cancel_by_the_seller_owes_the_seller_cancel_and_one_by_the_marketplace_does_not() {
    let mut e = network(true);
    for id in ["o1", "o2"] {
        place(&mut e, id, Some("https://v.example/api/oms"));
    }
    e.apply(&Command::CancelOrder { account: s("s"), id: s("v.o1") }, 5).unwrap();
    e.apply(&Command::CancelOrder { account: s("v"), id: s("o2") }, 5).unwrap();
    let p = e.pending_outbound();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].call, &*p[0].order), (OutboundCall::Cancel, "o1"));
    // Only an invoice is owed again.
    assert!(e.apply(&record("v.o1", OutboundCall::Cancel, OutboundOutcome::Again), 6).is_err());
    e.apply(&record("v.o1", OutboundCall::Cancel, OutboundOutcome::Sent), 6).unwrap();
    assert!(e.pending_outbound().is_empty());
}

#[test]
fn orders_without_a_mirror_marketplace_or_an_endpoint_owe_nothing() {
    for (mirror, endpoint) in [(false, Some("https://v.example/api/oms")), (true, None)] {
        let mut e = network(mirror);
        place(&mut e, "o1", endpoint);
        place(&mut e, "o2", endpoint);
        e.apply(&Command::InvoiceOrder { account: s("s"), id: s("v.o1"), invoice: None }, 5).unwrap();
        e.apply(&Command::CancelOrder { account: s("s"), id: s("v.o2") }, 5).unwrap();
        assert!(e.pending_outbound().is_empty());
        assert!(e.invoice_of("s", "v.o1").is_none(), "nothing to keep without an invoice or a call owed");
        let again = record("v.o1", OutboundCall::Invoice, OutboundOutcome::Again);
        assert!(e.apply(&again, 6).is_err());
    }
}

#[test]
fn invoices_are_checked_before_state() {
    let mut e = network(true);
    let bad = |b: InvoiceBody| Command::InvoiceOrder { account: s("s"), id: s("nope"), invoice: Some(Box::new(b)) };
    let cases = [
        (InvoiceBody::default(), "invoice.number"),
        (InvoiceBody { number: Some("x".repeat(65)), ..Default::default() }, "invoice.number"),
        (InvoiceBody { number: Some(s("1")), value: Some(-1), ..Default::default() }, "invoice.value"),
        (InvoiceBody { number: Some(s("1")), issued_ms: Some(u64::MAX), ..Default::default() }, "invoice.issued_ms"),
        (InvoiceBody { number: Some(s("1")), courier: Some(s("")), ..Default::default() }, "invoice.courier"),
        (
            InvoiceBody { number: Some(s("1")), tracking_url: Some(s("ftp://x")), ..Default::default() },
            "invoice.tracking_url",
        ),
    ];
    for (body, field) in cases {
        let err = e.apply(&bad(body), 5).unwrap_err().to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
}
