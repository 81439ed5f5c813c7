//! Conflicts with external sellers (`RecordExternalConflict`): refused unless the sub order is
//! cancelled, one event however often recorded, kept by snapshots (format 6) with the
//! affiliations' follow-up e-mails.

use super::*;
use crate::command::{AffiliationBody, Command, PriceBody, SellerBody, SkuBody, StockBody, WarehouseBody};
use crate::error::DomainError;
use crate::event::Event;
use crate::state::EngineConfig;

fn s(x: &str) -> String {
    x.to_string()
}

/// M and seller E (5 units of `k`, bound at M as `e-k`), E's affiliation with a follow-up
/// e-mail; order `o1` of 1 unit placed and authorised.
fn network() -> Engine {
    let mut e = Engine::new(EngineConfig::default());
    let mut put = |c: Command| e.apply(&c, 1).unwrap_or_else(|err| panic!("{c:?}: {err}"));
    for id in ["m", "e"] {
        put(Command::CreateAccount { id: s(id), name: s(id), currency: s("BRL"), token_hash: None });
    }
    let sku = SkuBody { name: Some(s("K")), ..Default::default() };
    put(Command::PutSku { account: s("e"), sku: s("k"), body: Box::new(sku) });
    put(Command::PutPrice { account: s("e"), sku: s("k"), body: PriceBody { price: Some(100), ..Default::default() } });
    put(Command::PutWarehouse { account: s("e"), warehouse: s("w"), body: WarehouseBody::default() });
    let stock = StockBody { quantity: Some(5), unlimited: None };
    put(Command::PutStock { account: s("e"), warehouse: s("w"), sku: s("k"), body: stock });
    let aff = AffiliationBody {
        trade_policy: Some(s("1")),
        follow_up_email: Some(s("orders@e.example")),
        ..Default::default()
    };
    put(Command::PutAffiliation { seller: s("e"), marketplace: s("m"), body: Box::new(aff) });
    put(Command::PutSeller { marketplace: s("m"), seller: s("e"), body: SellerBody::default() });
    let items = vec![OrderItemBody { sku: Some(s("e-k")), quantity: Some(1), seller: Some(s("e")) }];
    put(Command::PlaceOrder {
        marketplace: s("m"),
        body: OrderBody { id: Some(s("o1")), items: Some(items), ..Default::default() },
    });
    put(Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") });
    e
}

fn conflict(number: Option<&str>) -> Command {
    Command::RecordExternalConflict {
        seller: s("e"),
        id: s("m.o1"),
        what: ConflictKind::InvoiceAfterCancel,
        invoice_number: number.map(str::to_string),
    }
}

#[test]
fn a_late_invoice_is_one_conflict_event_kept_by_snapshots() {
    let mut e = network();
    let err = e.apply(&conflict(Some("NFe-1")), 5).unwrap_err();
    assert_eq!(err.code(), "conflict", "not cancelled: no conflict ({err})");
    e.apply(&Command::CancelOrder { account: s("m"), id: s("o1") }, 6).unwrap();
    let bad = e.apply(&conflict(Some(&"9".repeat(MAX_INVOICE_NUMBER_LEN + 1))), 7).unwrap_err();
    assert_eq!(bad.code(), "invalid_field", "{bad}");
    let events: Vec<Event> = e.apply(&conflict(Some("NFe-1")), 7).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(&*events[0].account, "m");
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"seq": events[0].seq, "account": "m", "type": "order.external_conflict", "marketplace": "m",
            "order": "o1", "id": "m.o1", "seller": "e", "what": "invoice_after_cancel", "invoice_number": "NFe-1",
            "at_ms": 7})
    );
    assert!(e.apply(&conflict(Some("NFe-1")), 8).unwrap().is_empty(), "the same conflict again: nothing");
    assert!(e.apply(&conflict(Some("NFe-2")), 9).unwrap().is_empty(), "one per sub order and kind");
    // Snapshot format 6 keeps the conflict and the follow-up e-mail; format 5 keeps neither.
    let bytes = e.snapshot_bytes();
    let mut copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    assert_eq!(copy.orders.conflicts, e.orders.conflicts);
    assert_eq!(copy.affiliation("e", "m").unwrap().follow_up_email.as_deref(), Some("orders@e.example"));
    assert!(copy.apply(&conflict(Some("NFe-1")), 10).unwrap().is_empty(), "still recorded after a load");
    let mut v5 = e.snapshot_bytes_kept_by(5);
    // The conflicts' count and the follow-up e-mails' count (8 bytes), both 0.
    assert_eq!(v5.split_off(v5.len() - 8), [0u8; 8]);
    v5[8..12].copy_from_slice(&5u32.to_le_bytes());
    let old = Engine::from_snapshot_bytes(EngineConfig::default(), &v5).unwrap();
    assert!(old.orders.conflicts.is_empty() && old.affiliation("e", "m").unwrap().follow_up_email.is_none());
    assert!(e.snapshot_matches(&v5), "what format 5 keeps of this state");
    assert!(!e.snapshot_matches(&bytes[..bytes.len() - 1]));
}

#[test]
fn a_follow_up_email_is_an_address() {
    let mut e = network();
    for bad in ["no-at-sign", "a@b@c", "@x.example", "a b@x.example"] {
        let aff = AffiliationBody { follow_up_email: Some(s(bad)), ..Default::default() };
        let cmd = Command::PatchAffiliation { seller: s("e"), marketplace: s("m"), body: Box::new(aff) };
        let err = e.apply(&cmd, 2).unwrap_err();
        assert!(matches!(&err, DomainError::InvalidField { field, .. } if field == "follow_up_email"), "{bad}: {err}");
    }
    let long = format!("{}@x.example", "a".repeat(250));
    let aff = AffiliationBody { follow_up_email: Some(long), ..Default::default() };
    assert!(e
        .apply(&Command::PatchAffiliation { seller: s("e"), marketplace: s("m"), body: Box::new(aff) }, 2)
        .is_err());
    assert_eq!(e.affiliation("e", "m").unwrap().follow_up_email.as_deref(), Some("orders@e.example"));
}
