//! Unit tests of orders at external sellers: the states of vtex-compat.md §3.4, the effects
//! owed, the refusal that cancels a whole order, and the snapshot section (format 5).

use super::*;
use crate::command::*;
use crate::event::EventBody;
use crate::integration::{IntegrationBody, QuoteBody};
use crate::state::EngineConfig;

const T0: u64 = 1_800_000_000_000;

fn s(x: &str) -> String {
    x.to_string()
}

/// Marketplace `m` sells SKU `k` of external seller `e` (quoted: 10 units) and of ordinary
/// seller `l` (10 units), bound as `e-k` and `l-k`.
fn network() -> Engine {
    let mut e = Engine::default();
    let mut run = |c: Command| e.apply(&c, T0).unwrap_or_else(|err| panic!("{c:?}: {err}"));
    for id in ["e", "l", "m"] {
        run(Command::CreateAccount { id: s(id), name: s(id), currency: s("BRL"), token_hash: None });
    }
    for seller in ["e", "l"] {
        let body = Box::new(SkuBody { name: Some(s("K")), ..Default::default() });
        run(Command::PutSku { account: s(seller), sku: s("k"), body });
        let aff = AffiliationBody { trade_policy: Some(s("1")), ..Default::default() };
        run(Command::PutAffiliation { seller: s(seller), marketplace: s("m"), body: Box::new(aff) });
        run(Command::PutSeller { marketplace: s("m"), seller: s(seller), body: SellerBody::default() });
    }
    let body = Box::new(IntegrationBody {
        protocol: Some(s("vtex")),
        role: Some(s("seller")),
        fulfillment_endpoint: Some(s("https://e.example/api/fulfillment")),
        ..Default::default()
    });
    run(Command::PutIntegration { account: s("e"), body });
    let quote = QuoteBody { sku: s("k"), price: Some(100), list_price: None, available: 10, valid_until_ms: None };
    run(Command::ApplySellerQuotes { seller: s("e"), fetched_ms: T0, quotes: vec![quote] });
    run(Command::PutPrice { account: s("l"), sku: s("k"), body: PriceBody { price: Some(90), ..Default::default() } });
    run(Command::PutWarehouse { account: s("l"), warehouse: s("w"), body: WarehouseBody::default() });
    let stock = StockBody { quantity: Some(10), unlimited: None };
    run(Command::PutStock { account: s("l"), warehouse: s("w"), sku: s("k"), body: stock });
    e
}

fn place(e: &mut Engine, id: &str) -> Vec<crate::event::Event> {
    let line =
        |sku: &str, seller: &str| OrderItemBody { sku: Some(s(sku)), quantity: Some(2), seller: Some(s(seller)) };
    let items = Some(vec![line("e-k", "e"), line("l-k", "l")]);
    let body = OrderBody { id: Some(s(id)), items, document_sha256: Some("ab".repeat(32)), ..Default::default() };
    e.apply(&Command::PlaceOrder { marketplace: s("m"), body }, T0).unwrap()
}

fn record(e: &mut Engine, id: &str, outcome: ExternalOutcome) -> Result<Vec<crate::event::Event>> {
    e.apply(&Command::RecordExternalOrder { seller: s("e"), id: s(id), outcome }, T0 + 1_000)
}

fn placed(id: &str) -> ExternalOutcome {
    ExternalOutcome::Placed { order_id: s(id) }
}

fn kinds(e: &Engine) -> Vec<(ExternalEffectKind, String)> {
    e.pending_external_effects().into_iter().map(|x| (x.kind, x.id.to_string())).collect()
}

fn external(e: &Engine, account: &str, id: &str) -> serde_json::Value {
    let o = e.order(account, id).unwrap();
    o["seller_orders"].as_array().unwrap().iter().find(|x| x["seller"] == "e").unwrap()["external"].clone()
}

#[test]
fn a_placement_is_pending_until_recorded_and_holds_the_authorisation() {
    let mut e = network();
    place(&mut e, "o1");
    assert_eq!(kinds(&e), [(ExternalEffectKind::Place, s("m.o1"))]);
    let x = &e.pending_external_effects()[0];
    assert_eq!((&*x.order, &*x.buyer, x.open, x.lines.len()), ("o1", "m", true, 1));
    assert_eq!((&*x.lines[0].sku, x.lines[0].quantity, x.lines[0].price), ("k", 2, 100));
    assert_eq!(
        external(&e, "m", "o1"),
        serde_json::json!({"placement": "pending", "dispatch": "none", "cancel": "none"})
    );
    assert!(e.order("l", "m.o1").unwrap().get("external").is_none(), "an ordinary seller's order has none");
    let held = e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") }, T0).unwrap_err();
    assert_eq!(held.code(), "external_placement_pending");
    let ev = record(&mut e, "m.o1", placed("E-7")).unwrap();
    assert!(ev.iter().any(|x| x.account.as_ref() == "m"
        && matches!(&x.body, EventBody::OrderExternalPlaced(p) if p.external_order_id.as_deref() == Some("E-7"))));
    assert!(kinds(&e).is_empty());
    assert!(record(&mut e, "m.o1", placed("E-7")).unwrap().is_empty(), "the same outcome again changes nothing");
    assert_eq!(record(&mut e, "m.o1", placed("E-8")).unwrap_err().code(), "conflict");
    let refused = ExternalOutcome::Refused { code: s("insufficient_stock") };
    assert_eq!(record(&mut e, "m.o1", refused).unwrap_err().code(), "conflict");
    assert_eq!(record(&mut e, "m.o1", ExternalOutcome::Dispatched {}).unwrap_err().code(), "conflict");
    e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") }, T0).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Fulfill, s("m.o1"))]);
    assert_eq!(e.pending_external_effects()[0].external_order_id.as_deref(), Some("E-7"));
    record(&mut e, "m.o1", ExternalOutcome::Dispatched {}).unwrap();
    assert!(kinds(&e).is_empty());
    assert_eq!(external(&e, "m", "o1")["dispatch"], "done");
    e.check_invariants().unwrap();
}

#[test]
fn a_refusal_cancels_the_whole_order_and_releases_it() {
    let mut e = network();
    place(&mut e, "o1");
    let ev = record(&mut e, "m.o1", ExternalOutcome::Refused { code: s("insufficient_stock") }).unwrap();
    let o = e.order("m", "o1").unwrap();
    assert_eq!(o["status"], "cancelled");
    assert!(o["seller_orders"].as_array().unwrap().iter().all(|x| x["status"] == "cancelled"));
    assert_eq!(external(&e, "m", "o1")["error"], "insufficient_stock");
    assert!(ev.iter().any(
        |x| matches!(&x.body, EventBody::OrderExternalRefused(r) if r.code.as_deref() == Some("insufficient_stock"))
    ));
    let cancelled: Vec<_> = ev
        .iter()
        .filter_map(|x| match &x.body {
            EventBody::OrderCancelled(c) => Some((x.account.to_string(), c.reason.clone(), c.by.clone())),
            _ => None,
        })
        .collect();
    assert!(cancelled.contains(&(s("l"), Some(Arc::from(REASON_EXTERNAL_SELLER_REFUSED)), Some(Arc::from("e")))));
    assert!(cancelled.iter().any(|c| c.0 == "m"));
    assert_eq!(e.sku("l", "k").unwrap().stock[0].reserved, 0, "released along the chain");
    assert!(kinds(&e).is_empty(), "nothing to cancel at a seller that refused");
    e.check_invariants().unwrap();
}

#[test]
fn cancels_and_expiries_owe_a_cancel_once_placed() {
    let mut e = network();
    place(&mut e, "o1");
    record(&mut e, "m.o1", placed("E-1")).unwrap();
    e.apply(&Command::CancelOrder { account: s("m"), id: s("o1") }, T0 + 5).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Cancel, s("m.o1"))]);
    assert!(!e.pending_external_effects()[0].expired);
    record(&mut e, "m.o1", ExternalOutcome::CancelConfirmed {}).unwrap();
    record(&mut e, "m.o1", ExternalOutcome::CancelConfirmed {}).unwrap();
    assert!(kinds(&e).is_empty() && e.orders.external.is_empty());
    // Expired while placed: the cancel says so.
    place(&mut e, "o2");
    record(&mut e, "m.o2", placed("E-2")).unwrap();
    let at = e.next_expiry_ms().unwrap();
    e.apply(&Command::ExpireOrders {}, at).unwrap();
    let x = e.pending_external_effects();
    assert_eq!((x.len(), x[0].kind, x[0].expired), (1, ExternalEffectKind::Cancel, true));
    record(&mut e, "m.o2", ExternalOutcome::CancelConfirmed {}).unwrap();
    // Cancelled after the authorisation, before the fulfil went: only the cancel is owed.
    place(&mut e, "o3");
    record(&mut e, "m.o3", placed("E-3")).unwrap();
    e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o3") }, T0 + 7).unwrap();
    e.apply(&Command::CancelOrder { account: s("m"), id: s("o3") }, T0 + 8).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Cancel, s("m.o3"))]);
    assert_eq!(record(&mut e, "m.o3", ExternalOutcome::Dispatched {}).unwrap_err().code(), "conflict");
    record(&mut e, "m.o3", ExternalOutcome::CancelConfirmed {}).unwrap();
    assert!(e.orders.external.is_empty(), "nothing left to do");
    e.check_invariants().unwrap();
}

#[test]
fn a_placement_pending_when_the_order_closes_is_withdrawn() {
    let mut e = network();
    place(&mut e, "o1");
    e.apply(&Command::CancelOrder { account: s("m"), id: s("o1") }, T0 + 5).unwrap();
    let x = e.pending_external_effects();
    assert_eq!((x.len(), x[0].kind, x[0].open), (1, ExternalEffectKind::Place, false));
    // The placement (sent again: the seller deduplicates) names the order, which is cancelled.
    record(&mut e, "m.o1", placed("E-1")).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Cancel, s("m.o1"))]);
    // A withdrawal the seller refuses leaves nothing owed, and cancels nothing more.
    place(&mut e, "o2");
    e.apply(&Command::CancelOrder { account: s("l"), id: s("m.o2") }, T0 + 6).unwrap();
    assert_eq!(e.order("m", "o2").unwrap()["status"], "reserved", "l cancelled only its own part");
    e.apply(&Command::CancelOrder { account: s("e"), id: s("m.o2") }, T0 + 6).unwrap();
    record(&mut e, "m.o2", ExternalOutcome::Refused { code: s("timeout") }).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Cancel, s("m.o1"))]);
    e.check_invariants().unwrap();
}

#[test]
fn an_order_with_an_external_seller_needs_its_document() {
    let mut e = network();
    let line = OrderItemBody { sku: Some(s("e-k")), quantity: Some(1), seller: Some(s("e")) };
    let body = OrderBody { id: Some(s("o1")), items: Some(vec![line]), ..Default::default() };
    let err = e.apply(&Command::PlaceOrder { marketplace: s("m"), body }, T0).unwrap_err();
    assert!(matches!(&err, DomainError::InvalidField { field, .. } if field == "delivery"), "{err}");
    let line = OrderItemBody { sku: Some(s("l-k")), quantity: Some(1), seller: Some(s("l")) };
    let body = OrderBody { id: Some(s("o1")), items: Some(vec![line]), ..Default::default() };
    e.apply(&Command::PlaceOrder { marketplace: s("m"), body }, T0).unwrap();
}

#[test]
fn outcomes_are_checked_and_only_for_external_sub_orders() {
    let mut e = network();
    place(&mut e, "o1");
    let bad = [placed(""), placed("has space"), ExternalOutcome::Refused { code: s("Bad-Code") }];
    for outcome in bad {
        assert_eq!(record(&mut e, "m.o1", outcome).unwrap_err().code(), "invalid_field");
    }
    let local = Command::RecordExternalOrder { seller: s("l"), id: s("m.o1"), outcome: placed("x") };
    assert_eq!(e.apply(&local, T0).unwrap_err().code(), "conflict");
    let own = Command::RecordExternalOrder { seller: s("m"), id: s("o1"), outcome: placed("x") };
    assert_eq!(e.apply(&own, T0).unwrap_err().code(), "conflict");
    assert_eq!(record(&mut e, "m.o9", placed("x")).unwrap_err().code(), "not_found");
}

#[test]
fn external_states_survive_a_snapshot_and_format_4_keeps_none() {
    let mut e = network();
    place(&mut e, "o1");
    place(&mut e, "o2");
    record(&mut e, "m.o1", placed("E-1")).unwrap();
    e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") }, T0).unwrap();
    place(&mut e, "o3");
    record(&mut e, "m.o3", ExternalOutcome::Refused { code: s("cannot_be_delivered") }).unwrap();
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    assert_eq!(copy.pending_external_effects(), e.pending_external_effects());
    assert_eq!(copy.orders.external, e.orders.external);
    for o in ["o1", "o2", "o3"] {
        assert_eq!(external(&copy, "m", o), external(&e, "m", o));
    }
    copy.check_invariants().unwrap();
    // What a format-4 snapshot keeps: no sub order external (its section's count is 0).
    let v4 = e.snapshot_bytes_kept_by(4);
    assert_eq!(v4[v4.len() - 4..], [0u8; 4]);
    assert_ne!(v4, bytes);
}

/// A chain order filled from an external seller is an external sub order too: its buyer is
/// the seller below it, which hears of the placement with the marketplace.
#[test]
fn a_chain_order_at_an_external_seller_is_external() {
    let mut e = network();
    let mut run = |c: Command| e.apply(&c, T0).unwrap_or_else(|err| panic!("{c:?}: {err}"));
    // `l` resells `e`'s `k` as its own `k` (10 own units first, then e's).
    let aff =
        AffiliationBody { trade_policy: Some(s("1")), resale: Some(WordOrList::Word(s("all"))), ..Default::default() };
    run(Command::PutAffiliation { seller: s("e"), marketplace: s("l"), body: Box::new(aff) });
    let manual = SellerBody { match_mode: Some(s("manual")), ..Default::default() };
    run(Command::PutSeller { marketplace: s("l"), seller: s("e"), body: manual });
    let approve =
        Command::ApproveSuggestion { marketplace: s("l"), seller: s("e"), seller_sku: s("k"), sku: Some(s("k")) };
    run(approve);
    let line = OrderItemBody { sku: Some(s("l-k")), quantity: Some(12), seller: Some(s("l")) };
    let body = OrderBody {
        id: Some(s("o1")),
        items: Some(vec![line]),
        document_sha256: Some("cd".repeat(32)),
        ..Default::default()
    };
    e.apply(&Command::PlaceOrder { marketplace: s("m"), body }, T0).unwrap();
    let x = e.pending_external_effects();
    assert_eq!(x.len(), 1, "{x:?}");
    assert_eq!((&*x[0].id, &*x[0].buyer, &*x[0].seller), ("m.o1.l", "l", "e"));
    assert_eq!((x[0].lines[0].quantity, x[0].lines[0].price), (2, 100));
    let held = e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") }, T0).unwrap_err();
    assert_eq!(held.code(), "external_placement_pending");
    let ev = record(&mut e, "m.o1.l", placed("E-9")).unwrap();
    let heard: Vec<&str> =
        ev.iter().filter(|x| matches!(x.body, EventBody::OrderExternalPlaced(_))).map(|x| x.account.as_ref()).collect();
    assert_eq!(heard, ["m", "l"]);
    e.apply(&Command::AuthorizeOrder { marketplace: s("m"), id: s("o1") }, T0).unwrap();
    assert_eq!(kinds(&e), [(ExternalEffectKind::Fulfill, s("m.o1.l"))]);
    e.check_invariants().unwrap();
}
