//! Role (b) of the VTEX Marketplace Protocol against the real binary (vtex-compat.md §5, rows
//! B1–B4): an offernet seller `shop` serves a VTEX marketplace `vtex-v` (a mirror account) at
//! `/vtex/shop/api/fulfillment`. Every answer is validated against VTEX's published schemas
//! plus the overlay of their known defects (`offernet-vtex-testkit`).

mod common;
// The path form of the inbound auth (`/vtex/{s}/k/{key}/…`) through the same network.
#[path = "vtex_seller/keyed.rs"]
mod keyed;

use common::*;
use offernet_vtex_testkit::{File, Schemas};
use serde_json::{json, Value};

const V: &str = "vtex-v";
const S: &str = "shop";
/// The forwarder: sells `up`'s SKU and needs own stock for it (the stock gate).
const F: &str = "fwd";
const UP: &str = "up";
const BASE: &str = "/vtex/shop/api/fulfillment";

struct Net {
    s: Server,
    v: String,
    shop: String,
    fwd: String,
    schemas: Schemas,
}

impl Net {
    /// A request as V sends it: AppKey/AppToken headers.
    fn vtex(&self, path: &str, body: &Value) -> (u16, Value) {
        self.vtex_as((V, &self.v), path, body)
    }

    fn vtex_as(&self, (key, token): (&str, &str), path: &str, body: &Value) -> (u16, Value) {
        self.send(&[("X-VTEX-API-AppKey", key), ("X-VTEX-API-AppToken", token)], path, body)
    }

    /// A POST with `headers`; an error answer must have VTEX's shape.
    fn send(&self, headers: &[(&str, &str)], path: &str, body: &Value) -> (u16, Value) {
        let (st, text) = self.s.raw("POST", path, None, Some(&body.to_string()), headers);
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON answer") };
        if st >= 400 {
            assert_eq!(v["error"]["exception"], Value::Null, "VTEX's error shape: {v}");
            assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string(), "{v}");
        }
        (st, v)
    }

    /// `schema` of ESF (with the overlay) holds for `v`.
    fn valid(&self, schema: &str, v: &Value) {
        if let Err(e) = self.schemas.validate(File::Esf, schema, v) {
            panic!("{schema} does not hold for the answer: {e:?}\n{v:#}");
        }
    }

    fn put(&self, path: &str, token: &str, body: Value) {
        let (st, v) = self.s.req("PUT", path, Some(token), Some(&body.to_string()));
        assert_eq!(st, 200, "{path}: {v}");
    }
}

/// V with S registered (`auto`), S with SKU `6` (ESF's example SKU) affiliated to V as seller
/// `01`, its shipping profile; forwarder F selling `up`'s SKU `x` to V (gated: no own stock).
fn network(name: &str, extra: &[&str]) -> Net {
    let dir = temp_dir(name);
    let mut args = vec!["--vtex", "--public-url", "https://offernet.example"];
    args.extend_from_slice(extra);
    network_on(Server::start(&dir, &args))
}

/// [`network`] on a server already started.
fn network_on(s: Server) -> Net {
    let (v, shop, fwd, up) = (create(&s, V), create(&s, S), create(&s, F), create(&s, UP));
    let schemas = Schemas::load().expect("the VTEX schemas load");
    let n = Net { s, v, shop, fwd, schemas };
    let (v, shop, fwd) = (n.v.clone(), n.shop.clone(), n.fwd.clone());
    n.put("/v1/accounts/shop/skus/6", &shop, json!({"name": "Shirt", "brand": "Acme"}));
    n.put("/v1/accounts/shop/prices/6", &shop, json!({"price": 2499, "list_price": 3000}));
    n.put("/v1/accounts/shop/warehouses/w", &shop, json!({}));
    n.put("/v1/accounts/shop/warehouses/w/stock/6", &shop, json!({"quantity": 5}));
    n.put("/v1/accounts/shop/affiliations/vtex-v", &shop, json!({"trade_policy": "1", "remote_seller_id": "01"}));
    n.put("/v1/accounts/vtex-v/sellers/shop", &v, json!({"match_mode": "auto"}));
    let profile = json!({"ships_to": ["BRA"], "slas": [
        {"id": "Normal", "name": "Normal", "price": 1000, "shipping_estimate": "3bd"},
        {"id": "Express", "name": "Express", "price": 2500, "shipping_estimate": "1d"}]});
    n.put("/v1/accounts/shop/shipping", &shop, profile);
    n.put("/v1/accounts/up/skus/x", &up, json!({"name": "Lamp", "brand": "Acme"}));
    n.put("/v1/accounts/up/prices/x", &up, json!({"price": 500}));
    n.put("/v1/accounts/up/warehouses/w", &up, json!({}));
    n.put("/v1/accounts/up/warehouses/w/stock/x", &up, json!({"quantity": 9}));
    n.put("/v1/accounts/up/affiliations/fwd", &up, json!({"trade_policy": "1", "resale": "all"}));
    n.put("/v1/accounts/fwd/sellers/up", &fwd, json!({"match_mode": "auto"}));
    n.put("/v1/accounts/fwd/prices/up-x", &fwd, json!({"price": 800}));
    n.put("/v1/accounts/fwd/affiliations/vtex-v", &fwd, json!({"trade_policy": "1"}));
    n.put("/v1/accounts/vtex-v/sellers/fwd", &v, json!({"match_mode": "auto"}));
    n
}

/// ESF's request example (`22270-030`, `BRA`, SKU `6`, seller `01`, `sc 1`).
fn checkout(items: Value) -> Value {
    json!({"postalCode": "22270-030", "geoCoordinates": ["-22.9443504"], "country": "BRA", "items": items, "sc": "1"})
}

#[test]
fn b1_simulation_answers_the_offer_at_the_marketplace() {
    let n = network("vtex-b1", &[]);
    let path = format!("{BASE}/pvt/orderForms/simulation");
    // Checkout simulation: the offer, the SLAs, validated.
    let (st, a) = n.vtex(&path, &checkout(json!([{"id": "6", "quantity": 1, "seller": "01"}])));
    assert_eq!(st, 200, "{a}");
    n.valid("responseFulfillmentSimulation", &a);
    let item = &a["items"][0];
    assert_eq!((&item["price"], &item["listPrice"], &item["requestIndex"]), (&json!(2499), &json!(3000), &json!(0)));
    assert_eq!(
        (&item["availability"], &item["seller"], &item["quantity"]),
        (&json!("available"), &json!("01"), &json!(1))
    );
    let li = &a["logisticsInfo"][0];
    assert_eq!((&li["itemIndex"], &li["stockBalance"], &li["shipsTo"]), (&json!(0), &json!(5), &json!(["BRA"])));
    assert_eq!(li["deliveryChannels"], json!([{"id": "delivery", "stockBalance": 5}]));
    let slas: Vec<&Value> = li["slas"].as_array().unwrap().iter().map(|s| &s["id"]).collect();
    assert_eq!(slas, [&json!("Normal"), &json!("Express")], "{a}");
    assert_eq!(li["slas"][0]["shippingEstimate"], "3bd");
    // Indexing simulation (no address): no SLAs, nulls echoed; an unknown SKU and another
    // seller's id are left out, so the known one keeps its request index.
    let items = json!([{"id": "nope", "quantity": 1, "seller": "01"}, {"id": "6", "quantity": 9, "seller": "02"},
        {"id": "6", "quantity": 9, "seller": "01"}]);
    let (st, a) = n.vtex(&path, &json!({"items": items}));
    assert_eq!(st, 200, "{a}");
    n.valid("responseFulfillmentSimulation", &a);
    assert_eq!((&a["postalCode"], &a["country"]), (&Value::Null, &Value::Null));
    assert_eq!(a["items"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!((&a["items"][0]["requestIndex"], &a["items"][0]["quantity"]), (&json!(2), &json!(5)));
    assert_eq!((&a["logisticsInfo"][0]["itemIndex"], &a["logisticsInfo"][0]["slas"]), (&json!(2), &json!([])));
    // A country the seller does not ship to.
    let mut arg = checkout(json!([{"id": "6", "quantity": 1, "seller": "01"}]));
    arg["country"] = json!("ARG");
    let (_, a) = n.vtex(&path, &arg);
    n.valid("responseFulfillmentSimulation", &a);
    assert_eq!(
        (&a["items"][0]["availability"], &a["logisticsInfo"][0]["slas"]),
        (&json!("cannotBeDelivered"), &json!([]))
    );
    // Unlimited stock shows as 1,000,000; a price change shows at once; without a list price
    // the list price is the price.
    n.put("/v1/accounts/shop/warehouses/w/stock/6", &n.shop, json!({"unlimited": true}));
    n.put("/v1/accounts/shop/prices/6", &n.shop, json!({"price": 2299}));
    let (_, a) = n.vtex(&path, &checkout(json!([{"id": "6", "quantity": 1, "seller": "01"}])));
    n.valid("responseFulfillmentSimulation", &a);
    assert_eq!((&a["logisticsInfo"][0]["stockBalance"], &a["items"][0]["price"]), (&json!(1_000_000), &json!(2299)));
    assert_eq!(a["items"][0]["listPrice"], 2299);
}

#[test]
fn b1_a_gated_forwarder_answers_stock_balance_zero() {
    let n = network("vtex-b1-gate", &[]);
    let path = "/vtex/fwd/api/fulfillment/pvt/orderForms/simulation";
    let body = checkout(json!([{"id": "up-x", "quantity": 1, "seller": "fwd"}]));
    // A gated forwarder sends nothing: V does not know its SKU yet, so it is left out.
    let (st, a) = n.vtex(path, &body);
    assert_eq!((st, &a["items"]), (200, &json!([])), "{a}");
    // With own stock it sends (V binds the SKU); then it sells out of its own.
    n.put("/v1/accounts/fwd/warehouses/store", &n.fwd, json!({}));
    n.put("/v1/accounts/fwd/warehouses/store/stock/up-x", &n.fwd, json!({"quantity": 1}));
    let (_, a) = n.vtex(path, &body);
    assert_eq!(a["logisticsInfo"][0]["stockBalance"], 10, "{a}");
    n.put("/v1/accounts/fwd/warehouses/store/stock/up-x", &n.fwd, json!({"quantity": 0}));
    let (st, a) = n.vtex(path, &body);
    assert_eq!(st, 200, "{a}");
    n.valid("responseFulfillmentSimulation", &a);
    // The upstream seller's 9 units are not exposed while the forwarder holds none of its own.
    assert_eq!((&a["logisticsInfo"][0]["stockBalance"], &a["items"][0]["quantity"]), (&json!(0), &json!(0)), "{a}");
    assert_eq!(a["items"][0]["availability"], "withoutStock");
    assert_eq!(a["logisticsInfo"][0]["deliveryChannels"][0]["stockBalance"], 0);
    // Own stock opens the gate again: its own 2 and the upstream's 9.
    n.put("/v1/accounts/fwd/warehouses/store/stock/up-x", &n.fwd, json!({"quantity": 2}));
    let (_, a) = n.vtex(path, &body);
    n.valid("responseFulfillmentSimulation", &a);
    assert_eq!(a["logisticsInfo"][0]["stockBalance"], 11, "{a}");
    // In stock, but the forwarder has no shipping profile: it delivers nowhere.
    assert_eq!(
        (&a["items"][0]["availability"], &a["logisticsInfo"][0]["slas"]),
        (&json!("cannotBeDelivered"), &json!([]))
    );
}

#[test]
fn the_vtex_routes_authenticate_and_admit_only_a_connected_marketplace() {
    let n = network("vtex-auth", &[]);
    let path = format!("{BASE}/pvt/orderForms/simulation");
    let body = checkout(json!([{"id": "6", "quantity": 1, "seller": "01"}]));
    let (st, _) = n.vtex_as((V, "vtex-v.initial.wrong"), &path, &body);
    assert_eq!(st, 401);
    let (st, _) = n.vtex_as((S, &n.v), &path, &body);
    assert_eq!(st, 401, "AppKey must name the token's account");
    // Valid credentials of an account that is not a marketplace of the seller.
    let (st, a) = n.vtex_as((UP, &create(&n.s, "other")), &path, &body);
    assert_eq!((st, &a["error"]["code"]), (401, &json!("unauthorized")), "{a}");
    let other = create(&n.s, "stranger");
    let (st, a) = n.vtex_as(("stranger", &other), &path, &body);
    assert_eq!((st, &a["error"]["code"]), (403, &json!("forbidden")), "{a}");
    // No credentials; a bearer token; the operator speaking for V; an unknown seller.
    let (st, text) = n.s.raw("POST", &path, None, Some(&body.to_string()), &[]);
    assert_eq!(st, 401, "{text}");
    let (st, _) = n.s.raw("POST", &path, Some(&n.v), Some(&body.to_string()), &[]);
    assert_eq!(st, 200);
    let (st, _) = n.vtex_as((V, ADMIN), &path, &body);
    assert_eq!(st, 200);
    let (st, _) = n.vtex("/vtex/nobody/api/fulfillment/pvt/orderForms/simulation", &body);
    assert_eq!(st, 404);
    // Lenient bodies, but malformed ones are named; and the body limit.
    let (st, a) = n.vtex(&path, &json!({"items": [{"id": "6", "quantity": 0, "seller": "01"}]}));
    assert_eq!((st, &a["error"]["code"]), (400, &json!("invalid_field")), "{a}");
    assert!(a["error"]["message"].as_str().unwrap().contains("items[0].quantity"), "{a}");
    let headers = [("X-VTEX-API-AppKey", V), ("X-VTEX-API-AppToken", n.v.as_str())];
    let (st, text) = n.s.raw("POST", &path, None, Some("{\"items\": ["), &headers);
    assert_eq!(st, 400, "{text}");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1 << 20));
    let (st, text) = n.s.raw("POST", &path, None, Some(&big), &headers);
    assert!(st == 413 && text.contains("body_too_large") && text.contains("\"exception\":null"), "{st} {text}");
}

/// ESF's placement example with `id`/`seller` set to S's, the services and attachments emptied
/// and no delivery window.
fn placement(quantity: u64, price: u64) -> Value {
    let mut p: Value = n_example();
    p["items"][0]["id"] = json!("6");
    p["items"][0]["seller"] = json!("01");
    p["items"][0]["quantity"] = json!(quantity);
    p["items"][0]["price"] = json!(price);
    for k in ["bundleItems", "attachments", "itemsAttachment"] {
        p["items"][0][k] = json!([]);
    }
    p["shippingData"]["logisticsInfo"][0]["deliveryWindow"] = Value::Null;
    p
}

/// ESF's request example of `POST /pvt/orders`, as the file gives it.
fn n_example() -> Value {
    let esf: Value = serde_json::from_str(
        &std::fs::read_to_string(offernet_vtex_testkit::openapi_dir().join("external-seller-fulfillment.json"))
            .unwrap(),
    )
    .unwrap();
    esf["paths"]["/pvt/orders"]["post"]["requestBody"]["content"]["application/json"]["example"].clone()
}

fn order_of(n: &Net, account: &str, token: &str, id: &str) -> (u16, Value) {
    n.s.req("GET", &format!("/v1/accounts/{account}/orders/{id}"), Some(token), None)
}

/// Long on purpose: B2's row of §5, one placement through its retries and refusals.
#[test]
fn b2_placement_reserves_once_and_keeps_personal_data_out_of_the_journal() {
    let n = network("vtex-b2", &[]);
    let path = format!("{BASE}/pvt/orders");
    let (st, a) = n.vtex(&path, &json!([placement(2, 2499)]));
    assert_eq!(st, 200, "{a}");
    assert!(a.is_array() && a.as_array().unwrap().len() == 1, "the answer in the request's container: {a}");
    n.valid("responseOrderPlacement", &a[0]);
    assert_eq!(
        (&a[0]["orderId"], &a[0]["marketplaceOrderId"]),
        (&json!("vtex-v.1138342255777-01"), &json!("1138342255777-01"))
    );
    assert_eq!(a[0]["paymentData"], Value::Null);
    assert!(a[0].get("followUpEmail").is_none(), "the affiliation has none: {a}");
    // Reserved along the chain: V's offer shows 3 left; lockTTL 8d sets the expiry.
    let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["status"], "reserved", "{o}");
    let ttl = o["expires_ms"].as_u64().unwrap() - o["created_ms"].as_u64().unwrap();
    assert_eq!(ttl, 8 * 24 * 3_600_000, "{o}");
    assert_eq!(o["external_ref"]["marketplace_order_id"], "1138342255777-01");
    let (_, offers) = n.s.req("GET", "/v1/accounts/vtex-v/offers/shop-6", Some(&n.v), None);
    assert_eq!(offers["offers"][0]["quantity"], 3, "{offers}");
    // A retry (as VTEX retries) gives the same answer and one reservation; as an object too.
    let (st, again) = n.vtex(&path, &json!([placement(2, 2499)]));
    assert_eq!((st, &again), (200, &a));
    let (st, obj) = n.vtex(&path, &placement(2, 2499));
    assert_eq!((st, &obj), (200, &a[0]), "an object gives an object");
    let (_, offers) = n.s.req("GET", "/v1/accounts/vtex-v/offers/shop-6", Some(&n.v), None);
    assert_eq!(offers["offers"][0]["quantity"], 3, "{offers}");
    // Another quantity under the same id; short stock; a price below the seller's; the original.
    let (st, e) = n.vtex(&path, &json!([placement(1, 2499)]));
    assert_eq!((st, &e["error"]["code"]), (409, &json!("idempotency_mismatch")), "{e}");
    let mut short = placement(4, 2499);
    short["marketplaceOrderId"] = json!("1138342255777-02");
    let (st, e) = n.vtex(&path, &json!([short]));
    assert_eq!((st, &e["error"]["code"]), (409, &json!("insufficient_stock")), "{e}");
    let mut cheap = placement(1, 2000);
    cheap["marketplaceOrderId"] = json!("1138342255777-03");
    let (st, e) = n.vtex(&path, &json!([cheap]));
    assert_eq!((st, &e["error"]["code"]), (409, &json!("price_changed")), "{e}");
    let (st, e) = n.vtex(&path, &json!([n_example()]));
    assert_eq!((st, &e["error"]["code"]), (400, &json!("unsupported")), "the file's example as it is: {e}");
    let mut original = n_example();
    original["items"][0]["id"] = json!("6");
    original["items"][0]["seller"] = json!("01");
    let (st, e) = n.vtex(&path, &json!([original]));
    assert_eq!((st, &e["error"]["code"]), (400, &json!("unsupported")), "{e}");
    let (_, offers) = n.s.req("GET", "/v1/accounts/vtex-v/offers/shop-6", Some(&n.v), None);
    assert_eq!(offers["offers"][0]["quantity"], 3, "nothing more reserved: {offers}");
    // The document: V and S see it whole; it is in no journal entry.
    let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["document"]["clientProfileData"]["email"], "customer@examplemail.com", "{o}");
    let (_, so) = order_of(&n, S, &n.shop, "vtex-v.1138342255777-01");
    assert_eq!(so["document"]["shippingData"]["address"]["receiverName"], "receiver-name", "{so}");
    // Stopped: the shutdown writes a snapshot, which must not hold the data either.
    let dir = n.s.dir.clone();
    n.s.stop();
    let journal_text = journal_text(&dir.join("journal.sqlite"));
    assert!(journal_text.contains("1138342255777-01"), "the order is journaled");
    assert!(journal_text.contains("document_sha256"), "the command carries the hash");
    for pii in ["customer@examplemail.com", "receiver-name", "Praia de Botafogo", "123456789\"", "first-name"] {
        assert!(!journal_text.contains(pii), "`{pii}` is in the journal or a snapshot");
    }
}

/// The journal's, snapshots' and event history's rows as text (commands, binary forms,
/// snapshot chunks decoded lossily): what must not hold personal data. The order documents
/// table is left out on purpose: it is where the data belongs.
fn journal_text(db: &std::path::Path) -> String {
    use sqlx::{Connection, Row};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", db.display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("the journal opens");
        let mut out = String::new();
        for q in [
            "SELECT command, bin FROM journal",
            "SELECT data, NULL FROM snapshot_chunks",
            "SELECT event, NULL FROM events",
        ] {
            for r in sqlx::query(q).fetch_all(&mut c).await.unwrap() {
                let a: Vec<u8> = r.try_get::<Option<Vec<u8>>, _>(0).unwrap().unwrap_or_default();
                let b: Vec<u8> = r.try_get::<Option<Vec<u8>>, _>(1).unwrap().unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&a));
                out.push_str(&String::from_utf8_lossy(&b));
                out.push('\n');
            }
        }
        out
    })
}

/// Long on purpose: B3 and B4 of §5, fulfil and cancel with their retries.
#[test]
fn b3_fulfil_and_b4_cancel_answer_the_same_bytes_on_retries() {
    let n = network("vtex-b34", &[]);
    let (st, _) = n.vtex(&format!("{BASE}/pvt/orders"), &json!([placement(2, 2499)]));
    assert_eq!(st, 200);
    let fulfil = format!("{BASE}/pvt/orders/vtex-v.1138342255777-01/fulfill");
    // ESF's fulfil example carries cancellation fields; the connector guide's body is the id.
    let esf = json!({"marketplaceOrderId": "1138342255777-01", "marketplaceOrderGroup": "group-123",
        "cancellationRequestId": "85838ab408514b52aa139e4236ce0c43", "cancellationRequestDate": "2024-03-04T15:45:02.1306363+00:00",
        "reason": "Incorrect product", "requestedByUser": true});
    let (st, a) = n.vtex(&fulfil, &esf);
    assert_eq!(st, 200, "{a}");
    n.valid("repsonseOrderId", &a);
    assert_eq!(
        (&a["orderId"], &a["marketplaceOrderId"]),
        (&json!("vtex-v.1138342255777-01"), &json!("1138342255777-01"))
    );
    assert_eq!(a["receipt"].as_str().unwrap().len(), 32);
    assert!(a["date"].as_str().unwrap().ends_with('Z'), "{a}");
    let (st, again) = n.vtex(&fulfil, &json!({"marketplaceOrderId": "1138342255777-01"}));
    assert_eq!((st, &again), (200, &a), "byte-identical on a retry");
    let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["status"], "authorized", "{o}");
    // Another marketplace order id is refused; an unknown order is 404.
    let (st, _) = n.vtex(&fulfil, &json!({"marketplaceOrderId": "999"}));
    assert_eq!(st, 400);
    let (st, _) = n.vtex(&format!("{BASE}/pvt/orders/vtex-v.nope/fulfill"), &json!({}));
    assert_eq!(st, 404);
    // Cancel: released everywhere, the same answer again.
    let cancel = format!("{BASE}/pvt/orders/vtex-v.1138342255777-01/cancel");
    let body = json!({"marketplaceOrderId": "1138342255777-01", "marketplaceOrderGroup": "group-123",
        "cancellationRequestId": "85835ab408514b52aa139e4236ce0c33", "cancellationRequestDate": "2024-03-04T15:45:02.1306363+00:00",
        "reason": "Out of stock", "requestedByUser": true});
    let (st, c) = n.vtex(&cancel, &body);
    assert_eq!(st, 200, "{c}");
    n.valid("repsonseOrderId", &c);
    assert_ne!(c["receipt"], a["receipt"]);
    let (st, again) = n.vtex(&cancel, &body);
    assert_eq!((st, &again), (200, &c));
    let (_, offers) = n.s.req("GET", "/v1/accounts/vtex-v/offers/shop-6", Some(&n.v), None);
    assert_eq!(offers["offers"][0]["quantity"], 5, "released: {offers}");
    let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["status"], "cancelled", "{o}");
    // An invoiced order cannot be cancelled by the marketplace.
    let mut second = placement(1, 2499);
    second["marketplaceOrderId"] = json!("1138342255777-02");
    let (st, _) = n.vtex(&format!("{BASE}/pvt/orders"), &json!([second]));
    assert_eq!(st, 200);
    let (st, _) = n.vtex(&format!("{BASE}/pvt/orders/vtex-v.1138342255777-02/fulfill"), &json!({}));
    assert_eq!(st, 200);
    let (st, v) = n.s.req("POST", "/v1/accounts/shop/orders/vtex-v.1138342255777-02/invoice", Some(&n.shop), None);
    assert_eq!(st, 200, "{v}");
    let (st, e) = n.vtex(&format!("{BASE}/pvt/orders/vtex-v.1138342255777-02/cancel"), &json!({}));
    assert_eq!((st, &e["error"]["code"]), (409, &json!("conflict")), "{e}");
}

#[test]
fn b3_an_expired_reservation_is_a_conflict() {
    let n = network("vtex-b3-expired", &[]);
    let mut p = placement(1, 2499);
    p["shippingData"]["logisticsInfo"][0]["lockTTL"] = json!("1m");
    let (st, _) = n.vtex(&format!("{BASE}/pvt/orders"), &json!([p]));
    assert_eq!(st, 200);
    let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["expires_ms"].as_u64().unwrap() - o["created_ms"].as_u64().unwrap(), 60_000);
    // A minute is the shortest reservation: wait for the ticker to expire it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(75);
    loop {
        let (_, o) = order_of(&n, V, &n.v, "1138342255777-01");
        if o["status"] == "expired" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the order did not expire: {o}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let (st, e) = n.vtex(&format!("{BASE}/pvt/orders/vtex-v.1138342255777-01/fulfill"), &json!({}));
    assert_eq!((st, &e["error"]["code"]), (409, &json!("conflict")), "{e}");
}

#[test]
fn vtex_is_off_by_default_and_needs_a_public_url() {
    let dir = temp_dir("vtex-off");
    let s = Server::start(&dir, &[]);
    let (st, _) = s.raw("POST", "/vtex/shop/api/fulfillment/pvt/orderForms/simulation", Some(ADMIN), Some("{}"), &[]);
    assert_eq!(st, 404);
    let (_, spec) = s.req("GET", "/openapi.json", None, None);
    assert_eq!(spec["paths"]["/vtex/{s}/api/fulfillment/pvt/orders"]["post"]["tags"], json!(["vtex"]));
    s.stop();
    let out = std::process::Command::new(BIN)
        .args(["serve", "--vtex", "--data-dir", dir.to_str().unwrap(), "--print-config"])
        .env_remove("OFFERNET_PUBLIC_URL")
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("public_url"), "{out:?}");
}

/// More than `--vtex-inbound-rps` requests of one caller (past its burst of ten seconds'
/// worth): 429 `rate_limited` in VTEX's shape; another caller is not held back.
#[test]
fn the_vtex_routes_limit_each_callers_rate() {
    let n = network("vtex-rate", &["--vtex-inbound-rps", "1"]);
    let path = format!("{BASE}/pvt/orderForms/simulation");
    let body = checkout(json!([{"id": "6", "quantity": 1, "seller": "01"}]));
    let answers: Vec<(u16, Value)> = (0..20).map(|_| n.vtex(&path, &body)).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert!(statuses[..10].iter().all(|&s| s == 200), "the burst: {statuses:?}");
    let limited: Vec<&Value> = answers.iter().filter(|a| a.0 == 429).map(|a| &a.1).collect();
    assert!(limited.len() >= 5, "{statuses:?}");
    assert_eq!(limited[0]["error"]["code"], "rate_limited", "{}", limited[0]);
    assert!(limited[0]["error"].as_object().unwrap().contains_key("exception"));
    let (st, _) = n.vtex_as((V, ADMIN), &path, &body);
    assert_eq!(st, 200, "the operator is another caller");
}
