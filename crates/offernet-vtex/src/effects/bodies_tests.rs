//! The A2–A4 bodies and the reading of answers (the fake seller validates them against ESF in
//! `crates/offernet/tests/vtex_orders.rs`).

use std::sync::Arc;

use offernet_core::orders::ExternalLine;
use offernet_core::ExternalEffectKind;

use super::*;

fn effect() -> ExternalEffect {
    ExternalEffect {
        kind: ExternalEffectKind::Place,
        seller: Arc::from("e"),
        id: Arc::from("m.o1"),
        buyer: Arc::from("m"),
        marketplace: Arc::from("m"),
        order: Arc::from("o1"),
        external_order_id: None,
        lines: vec![ExternalLine { sku: Arc::from("2000037"), quantity: 2, price: 67203 }],
        open: true,
        expired: false,
        expires_ms: 10 * 86_400_000 + 5,
        closed_ms: None,
        document_sha256: None,
        fulfillment_endpoint: Some(Arc::from("http://127.0.0.1:9/api/fulfillment")),
        sales_channel: Some(Arc::from("1")),
        affiliate_id: Some(Arc::from("OFN")),
    }
}

fn v1_document() -> Value {
    json!({"delivery": {
        "customer": {"email": "ana@example.com", "first_name": "Ana", "last_name": "Silva", "document_type": "cpf",
            "document": "12345678909", "phone": "+5521999999999"},
        "address": {"receiver_name": "Ana Silva", "postal_code": "22250-040", "city": "Rio de Janeiro", "state": "RJ",
            "country": "BRA", "street": "Praia de Botafogo", "number": "300", "neighborhood": "Botafogo"},
        "sla": "Express"}})
}

fn answer(slas: Value, quantity: u64) -> Value {
    json!({"items": [{"id": "2000037", "requestIndex": 0, "quantity": quantity, "availability": "available"}],
        "logisticsInfo": [{"itemIndex": 0, "slas": slas}]})
}

#[test]
fn both_document_shapes_give_the_delivery() {
    let d = delivery_of(&v1_document()).unwrap();
    assert_eq!((d.postal_code.as_str(), d.country.as_str(), d.sla.as_deref()), ("22250-040", "BRA", Some("Express")));
    assert_eq!(d.client["firstName"], "Ana");
    assert_eq!(d.client["isCorporate"], false);
    assert_eq!(d.address["receiverName"], "Ana Silva");
    assert_eq!(d.address["complement"], Value::Null);
    let vtex = json!({"clientProfileData": {"email": "x@y.z"}, "shippingData": {"address": {"postalCode": "1", "country": "BRA"},
        "logisticsInfo": [{"selectedSla": "Normal"}]}});
    let d = delivery_of(&vtex).unwrap();
    assert_eq!((d.postal_code.as_str(), d.sla.as_deref(), &d.client["email"]), ("1", Some("Normal"), &json!("x@y.z")));
    assert!(delivery_of(&json!({"items": []})).is_none());
}

#[test]
fn the_sla_is_the_buyers_choice_else_the_cheapest_then_the_fastest() {
    let (x, mut d) = (effect(), delivery_of(&v1_document()).unwrap());
    let slas = json!([{"id": "Normal", "price": 1000, "shippingEstimate": "3bd"},
        {"id": "Express", "price": 2000, "shippingEstimate": "1d"}, {"id": "Same", "price": 1000, "shippingEstimate": "4h"}]);
    let chosen = read_simulation(&x, &d, &answer(slas.clone(), 2), true).unwrap();
    assert_eq!(chosen[0].id, "Express");
    d.sla = Some("Other".into());
    assert_eq!(read_simulation(&x, &d, &answer(slas.clone(), 2), true).unwrap()[0].id, "Same");
    assert_eq!(read_simulation(&x, &d, &answer(slas.clone(), 1), true), Err("insufficient_stock"));
    assert!(read_simulation(&x, &d, &answer(slas, 1), false).is_ok(), "a withdrawal does not check stock");
    assert_eq!(read_simulation(&x, &d, &answer(json!([]), 2), true), Err("cannot_be_delivered"));
    assert_eq!(read_simulation(&x, &d, &json!({"items": []}), true), Err("insufficient_stock"));
}

#[test]
fn the_placement_is_one_order_in_an_array_with_the_address() {
    let (x, d) = (effect(), delivery_of(&v1_document()).unwrap());
    let sla = ChosenSla { id: "Express".into(), price: 2000, shipping_estimate: "1d".into() };
    let p = placement(&x, &d, &[sla], "https://offernet.example/", 5);
    let o = &p.as_array().unwrap()[0];
    assert_eq!(p.as_array().unwrap().len(), 1);
    assert_eq!(o["marketplaceOrderId"], "m.o1");
    assert_eq!(o["marketplaceServicesEndpoint"], "https://offernet.example/vtex/m/api/oms");
    assert_eq!(o["marketplacePaymentValue"], 2 * 67203 + 2000);
    assert_eq!(o["items"][0]["seller"], "e");
    assert_eq!(o["shippingData"]["address"]["postalCode"], "22250-040");
    assert_eq!(o["shippingData"]["logisticsInfo"][0]["lockTTL"], "10d");
    assert_eq!(o["paymentData"], Value::Null);
    assert_eq!(url(&x, "/pvt/orders").unwrap(), "http://127.0.0.1:9/api/fulfillment/pvt/orders?sc=1&affiliateId=OFN");
}

#[test]
fn answers_are_read() {
    let x = effect();
    let placed = read_placement(&x, &json!([{"marketplaceOrderId": "m.o1", "orderId": "7890"}]));
    assert_eq!(placed, Some(ExternalOutcome::Placed { order_id: "7890".into() }));
    assert_eq!(
        read_placement(&x, &json!({"orderId": 7891})),
        Some(ExternalOutcome::Placed { order_id: "7891".into() })
    );
    assert_eq!(read_placement(&x, &json!([{}])), None);
    assert!(cancel_accepted(Some(&json!({"receipt": "abc"}))));
    assert!(!cancel_accepted(Some(&json!({"receipt": null}))) && !cancel_accepted(None));
    let c = cancel(&ExternalEffect { expired: true, closed_ms: Some(0), ..x.clone() });
    assert_eq!(
        (c["reason"].as_str(), c["cancellationRequestId"].as_str().map(str::len)),
        (Some("reservation expired"), Some(32))
    );
    assert_eq!(c["cancellationRequestDate"], "1970-01-01T00:00:00.000Z");
    assert_eq!(cancel(&x)["cancellationRequestId"], c["cancellationRequestId"], "derived, the same on a retry");
    assert_eq!(fulfill(&x), json!({"marketplaceOrderId": "m.o1", "marketplaceOrderGroup": "o1"}));
}
