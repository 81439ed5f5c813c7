//! SKU content (description, images, dimensions) and trade policies' product URLs in the
//! engine: each bad field refused naming it, whatever the source of the command; a PUT
//! replaces the content (absent clears it); and content never reaches derivation: a
//! content-only change emits no `offer.changed`.

use offernet_core::*;
use serde_json::{json, Value};

fn cmd(v: Value) -> Command {
    serde_json::from_value(v).unwrap()
}

fn put_sku(e: &mut Engine, sku: &str, body: Value) -> Result<Vec<Event>, DomainError> {
    e.apply(&cmd(json!({"type": "put_sku", "account": "s", "sku": sku, "body": body})), 0)
}

/// Seller `s` with SKU `k1` (priced, 5 in stock) sold through marketplace `m`: one offer.
fn network() -> Engine {
    let mut e = Engine::default();
    let setup = [
        json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"}),
        json!({"type": "create_account", "id": "m", "name": "M", "currency": "BRL"}),
        json!({"type": "put_sku", "account": "s", "sku": "k1", "body": {"name": "Kettle", "ean": "4006381333931"}}),
        json!({"type": "put_price", "account": "s", "sku": "k1", "body": {"price": 1000}}),
        json!({"type": "put_warehouse", "account": "s", "warehouse": "w", "body": {}}),
        json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": "k1", "body": {"quantity": 5}}),
        json!({"type": "put_affiliation", "seller": "s", "marketplace": "m", "body": {"trade_policy": "1"}}),
        json!({"type": "put_seller", "marketplace": "m", "seller": "s", "body": {}}),
    ];
    for c in setup {
        e.apply(&cmd(c), 0).unwrap();
    }
    assert_eq!(e.offers_for_sku("m", "s-k1").unwrap().len(), 1, "the setup makes one offer");
    e
}

fn field_of(err: DomainError) -> String {
    match err {
        DomainError::InvalidField { field, .. } => field,
        other => panic!("not an invalid field: {other}"),
    }
}

#[test]
fn each_bad_content_field_is_refused_by_name_and_changes_nothing() {
    let mut e = network();
    let before = e.snapshot_bytes();
    let long_url = format!("https://cdn.example/{}", "x".repeat(2048));
    let eleven: Vec<String> = (0..11).map(|i| format!("https://cdn.example/{i}.jpg")).collect();
    let cases = [
        (json!({"description": "x".repeat(10_001)}), "description"),
        (json!({"description": "bell\u{7}"}), "description"),
        (json!({"description": " \n "}), "description"),
        (json!({"images": eleven}), "images"),
        (json!({"images": ["https://cdn.example/a.jpg", "http://cdn.example/b.jpg"]}), "images[1]"),
        (json!({"images": ["https://user@cdn.example/a.jpg"]}), "images[0]"),
        (json!({"images": [long_url]}), "images[0]"),
        (json!({"images": ["https:///a.jpg"]}), "images[0]"),
        (json!({"dimensions": {"height_cm": -1}}), "dimensions.height_cm"),
        (json!({"dimensions": {"width_cm": 10000.5}}), "dimensions.width_cm"),
        (json!({"dimensions": {"length_cm": 1e9}}), "dimensions.length_cm"),
        (json!({"dimensions": {"weight_g": 100000001}}), "dimensions.weight_g"),
    ];
    for (extra, field) in cases {
        let mut body = json!({"name": "Kettle"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let err = put_sku(&mut e, "k1", body.clone()).unwrap_err();
        assert_eq!(field_of(err), field, "{body}");
        // A new SKU is refused just the same (the body is checked before any lookup).
        let err = put_sku(&mut e, "new", body.clone()).unwrap_err();
        assert_eq!(field_of(err), field, "{body}");
    }
    let tp = |url: &str| {
        cmd(json!({"type": "put_trade_policy", "account": "s", "trade_policy": "web",
        "body": {"assortment": "all", "product_url": url}}))
    };
    for bad in ["https://shop.example/p/", "http://shop.example/p/{sku}", "https://{sku}.shop.example/", "/p/{sku}"] {
        assert_eq!(field_of(e.apply(&tp(bad), 0).unwrap_err()), "product_url", "{bad}");
    }
    assert_eq!(e.snapshot_bytes(), before, "refused commands change nothing");
    e.apply(&tp("https://shop.example/p/{sku}?ref=feed"), 0).unwrap();
    assert_eq!(
        e.trade_policy("s", "web").unwrap().product_url.as_deref(),
        Some("https://shop.example/p/{sku}?ref=feed")
    );
}

#[test]
fn a_put_replaces_the_content_and_absent_clears_it() {
    let mut e = network();
    let full = json!({"name": "Kettle", "ean": "4006381333931", "description": "Steel.\nOne litre.",
        "images": ["https://cdn.example/k1.jpg"], "dimensions": {"height_cm": 21.5, "weight_g": 900}});
    put_sku(&mut e, "k1", full).unwrap();
    let v = serde_json::to_value(e.sku("s", "k1").unwrap()).unwrap();
    assert_eq!(v["description"], "Steel.\nOne litre.");
    assert_eq!(v["images"], json!(["https://cdn.example/k1.jpg"]));
    assert_eq!(v["dimensions"], json!({"height_cm": 21.5, "width_cm": null, "length_cm": null, "weight_g": 900}));
    put_sku(&mut e, "k1", json!({"name": "Kettle", "ean": "4006381333931", "images": [], "dimensions": {}})).unwrap();
    let v = serde_json::to_value(e.sku("s", "k1").unwrap()).unwrap();
    assert_eq!((&v["description"], &v["images"], &v["dimensions"]), (&json!(null), &json!([]), &json!(null)));
    // The same bytes as a SKU that never had content: nothing is left behind.
    let mut fresh = network();
    put_sku(&mut fresh, "k1", json!({"name": "Kettle", "ean": "4006381333931"})).unwrap();
    assert_eq!(e.snapshot_bytes()[29..], fresh.snapshot_bytes()[29..], "all but the header's counters");
}

#[test]
fn content_alone_changes_no_offer() {
    let mut e = network();
    let offers = e.offers("m", &OfferFilter::default()).unwrap();
    let body = json!({"name": "Kettle", "ean": "4006381333931", "description": "New text",
        "images": ["https://cdn.example/k1.jpg"], "dimensions": {"length_cm": 30}});
    assert_eq!(put_sku(&mut e, "k1", body).unwrap(), vec![], "no event for content");
    let tp = json!({"type": "put_trade_policy", "account": "s", "trade_policy": "1",
        "body": {"assortment": "all", "product_url": "https://s.example/{sku}"}});
    assert_eq!(e.apply(&cmd(tp), 0).unwrap(), vec![], "no event for a product URL");
    assert_eq!(e.offers("m", &OfferFilter::default()).unwrap(), offers);
    // While a change the offer reads does emit one (the check above can fail).
    let events = put_sku(&mut e, "k1", json!({"name": "Kettle", "ean": "4006381333931", "active": false})).unwrap();
    assert!(matches!(events[..], [Event { body: EventBody::OfferChanged { .. }, .. }]), "{events:?}");
}

/// A command stays small (queues and journal batches hold many): the SKU body, the largest
/// with its content, is boxed.
#[test]
fn a_command_stays_small() {
    let size = std::mem::size_of::<Command>();
    println!("Command: {size} bytes");
    assert!(size <= 160, "{size}");
}

/// A marketplace SKU created from a seller's suggestion starts with the seller's content (what a
/// channel shows of it), like its name, brand and EAN.
#[test]
fn a_sku_created_from_a_suggestion_copies_the_content() {
    let mut e = network();
    let body = json!({"name": "Teapot", "ean": "5901234123457", "description": "Glass.",
        "images": ["https://cdn.example/k2.jpg"], "dimensions": {"weight_g": 450}});
    put_sku(&mut e, "k2", body).unwrap();
    let created = serde_json::to_value(e.sku("m", "s-k2").unwrap()).unwrap();
    let seller = serde_json::to_value(e.sku("s", "k2").unwrap()).unwrap();
    for field in ["description", "images", "dimensions"] {
        assert_eq!(created[field], seller[field], "{field}");
    }
    assert_eq!(created["description"], "Glass.");
}
