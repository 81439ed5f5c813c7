//! Role (a) orders against the real binary (vtex-compat.md §5, row A1–A4, the order parts):
//! marketplace `m` sells SKU `2000037` of external seller `e`, whose system is the testkit's
//! `FakeExternalSeller` (ESF's example SKU, price 67203). An order with `e` is checked by a
//! checkout simulation at the delivery address, placed as a one-element array, fulfilled after
//! the authorisation and cancelled after a cancel or an expiry; failures are retried, refusals cancel the
//! whole order, and a crash between a placement and its record places once. Every request the
//! fake received is validated against ESF plus the overlay (`assert_conforming`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use offernet_vtex_testkit::{FakeExternalSeller, Fault, SellerRoute, SkuOffer, Sla};
use serde_json::{json, Value};

const SKU: &str = "2000037";
const WAIT: Duration = Duration::from_secs(20);

struct Net {
    s: Server,
    fake: FakeExternalSeller,
    m: String,
    l: String,
}

fn args(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> =
        ["--vtex", "--public-url", "https://offernet.example", "--outbound-allow-local"].map(String::from).to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
    let a = args(extra);
    Server::start(dir, &a.iter().map(String::as_str).collect::<Vec<_>>())
}

fn put(s: &Server, path: &str, token: &str, body: Value) {
    let (st, v) = s.req("PUT", path, Some(token), Some(&body.to_string()));
    assert_eq!(st, 200, "{path}: {v}");
}

/// `e` (external, the fake behind it, 199 units quoted by the operator) and `l` (an ordinary
/// seller, 10 units) both sell to `m`, which registers both (`auto`).
fn network(dir: &std::path::Path, extra: &[&str]) -> Net {
    let fake = FakeExternalSeller::start().expect("the fake seller starts");
    let slas = vec![Sla::new("Normal", 1000, "3bd"), Sla::new("Express", 2500, "1d")];
    fake.put_sku(SKU, SkuOffer::esf_example().slas(slas)).unwrap();
    fake.expect_credentials("e-key", "e-token");
    let s = start(dir, extra);
    let (te, m, l) = (create(&s, "e"), create(&s, "m"), create(&s, "l"));
    let integration = json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": fake.fulfillment_endpoint(),
        "affiliate_id": "OFN"});
    put(&s, "/v1/accounts/e/integration", ADMIN, integration);
    put(&s, "/v1/accounts/e/integration/credentials", ADMIN, json!({"app_key": "e-key", "app_token": "e-token"}));
    put(&s, &format!("/v1/accounts/e/skus/{SKU}"), &te, json!({"name": "Lamp"}));
    put(&s, &format!("/v1/accounts/e/prices/{SKU}"), ADMIN, json!({"price": 67203}));
    put(&s, &format!("/v1/accounts/e/warehouses/vtex/stock/{SKU}"), ADMIN, json!({"quantity": 199}));
    put(&s, "/v1/accounts/l/skus/k", &l, json!({"name": "Shirt"}));
    put(&s, "/v1/accounts/l/prices/k", &l, json!({"price": 900}));
    put(&s, "/v1/accounts/l/warehouses/w", &l, json!({}));
    put(&s, "/v1/accounts/l/warehouses/w/stock/k", &l, json!({"quantity": 10}));
    for (seller, token) in [("e", &te), ("l", &l)] {
        put(&s, &format!("/v1/accounts/{seller}/affiliations/m"), token, json!({"trade_policy": "1"}));
        put(&s, &format!("/v1/accounts/m/sellers/{seller}"), &m, json!({"match_mode": "auto"}));
    }
    Net { s, fake, m, l }
}

fn delivery() -> Value {
    json!({"customer": {"email": "ana@example.com", "first_name": "Ana", "last_name": "Silva", "document_type": "cpf",
            "document": "12345678909", "phone": "+5521999999999"},
        "address": {"receiver_name": "Ana Silva", "postal_code": "22250-040", "city": "Rio de Janeiro", "state": "RJ",
            "country": "BRA", "street": "Praia de Botafogo", "number": "300", "neighborhood": "Botafogo",
            "complement": "3rd floor"},
        "sla": "Express"})
}

fn order(id: &str, with_l: bool) -> Value {
    let mut items = vec![json!({"sku": format!("e-{SKU}"), "quantity": 2, "seller": "e"})];
    if with_l {
        items.push(json!({"sku": "l-k", "quantity": 1, "seller": "l"}));
    }
    json!({"id": id, "items": items, "delivery": delivery()})
}

impl Net {
    fn place(&self, body: &Value) -> (u16, Value) {
        self.s.req("POST", "/v1/accounts/m/orders", Some(&self.m), Some(&body.to_string()))
    }
    fn get(&self, id: &str) -> Value {
        let (st, v) = self.s.req("GET", &format!("/v1/accounts/m/orders/{id}"), Some(&self.m), None);
        assert_eq!(st, 200, "{v}");
        v
    }
    fn action(&self, id: &str, what: &str) -> (u16, Value) {
        self.s.req("POST", &format!("/v1/accounts/m/orders/{id}/{what}"), Some(&self.m), None)
    }
    /// `e`'s sub order of order `id` (its `external` part) once `done` holds of it.
    fn external_until(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let o = self.get(id);
            let x = external(&o);
            if done(&x) {
                return o;
            }
            assert!(Instant::now() < deadline, "timed out; the order is {o:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn external(o: &Value) -> Value {
    let subs = o["seller_orders"].as_array().cloned().unwrap_or_default();
    subs.iter().find(|s| s["seller"] == "e").map(|s| s["external"].clone()).unwrap_or(Value::Null)
}

fn bodies(fake: &FakeExternalSeller, route: SellerRoute) -> Vec<Value> {
    fake.requests().into_iter().filter(|r| r.route == route).filter_map(|r| r.body).collect()
}

#[test]
fn a2_a3_an_order_is_checked_placed_with_its_address_and_fulfilled() {
    let dir = temp_dir("vtex-a2-a3");
    let n = network(&dir, &[]);
    let (st, v) = n.place(&json!({"id": "o0", "items": [{"sku": format!("e-{SKU}"), "quantity": 1, "seller": "e"}]}));
    assert_eq!(
        (st, v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (400, Some("invalid_field"), Some("delivery"))
    );
    let mut bad = order("o0", false);
    bad["delivery"]["address"]["country"] = json!("Brazil");
    let (st, v) = n.place(&bad);
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("delivery.address.country")), "{v}");
    // Placed before the POST answers (it waits up to place_wait_ms).
    let (st, v) = n.place(&order("o1", true));
    assert_eq!(st, 201, "{v}");
    let x = external(&v);
    assert_eq!((x["placement"].as_str(), x["order_id"].as_str()), (Some("placed"), Some("7890")), "{v:#}");
    // The checkout simulation carried the address; the placement was one order in an array.
    let sim = bodies(&n.fake, SellerRoute::Simulation);
    assert_eq!((&sim[0]["postalCode"], &sim[0]["country"]), (&json!("22250-040"), &json!("BRA")));
    assert_eq!(sim[0]["items"], json!([{"id": SKU, "quantity": 2, "seller": "e"}]));
    let placement = bodies(&n.fake, SellerRoute::Placement);
    let p = &placement[0].as_array().expect("an array")[..];
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["marketplaceOrderId"], "m.o1");
    assert_eq!(p[0]["marketplaceServicesEndpoint"], "https://offernet.example/vtex/m/api/oms");
    assert_eq!(p[0]["shippingData"]["address"]["postalCode"], "22250-040");
    assert_eq!(p[0]["shippingData"]["address"]["receiverName"], "Ana Silva");
    assert_eq!(p[0]["clientProfileData"]["email"], "ana@example.com");
    assert_eq!(p[0]["shippingData"]["logisticsInfo"][0]["selectedSla"], "Express", "the buyer's choice");
    assert_eq!(p[0]["marketplacePaymentValue"], 2 * 67203 + 2500);
    assert_eq!(n.fake.orders().len(), 1);
    // The marketplace sees its delivery; the document is not in the order command.
    let o = n.get("o1");
    assert_eq!(o["document"]["delivery"]["address"]["city"], "Rio de Janeiro", "{o:#}");
    // Authorised: the fulfil goes to the seller's order id with the sub and the group.
    let (st, v) = n.action("o1", "authorize");
    assert_eq!(st, 200, "{v}");
    n.external_until("o1", |x| x["dispatch"] == "done");
    assert_eq!(
        bodies(&n.fake, SellerRoute::Fulfill),
        [json!({"marketplaceOrderId": "m.o1", "marketplaceOrderGroup": "o1"})]
    );
    assert!(n.fake.requests().iter().any(|r| r.path.ends_with("/pvt/orders/7890/fulfill")));
    assert!(n.fake.order("m.o1").unwrap().dispatched);
    // Nothing owed any more: the backlog is empty again.
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, status) = n.s.req("GET", "/v1/accounts/e/integration/status", Some(ADMIN), None);
        if status["pending_effects"] == json!({}) {
            break;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(50));
    }
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a4_a_cancel_is_sent_and_asked_again_until_it_has_a_receipt() {
    let dir = temp_dir("vtex-a4");
    let n = network(&dir, &[]);
    assert_eq!(n.place(&order("o1", false)).0, 201);
    // The seller first answers "still evaluating" (an empty body): offernet asks again.
    n.fake.push_fault(SellerRoute::Cancel, Fault::EmptyBody, 1);
    let (st, v) = n.action("o1", "cancel");
    assert_eq!((st, v["status"].as_str()), (200, Some("cancelled")), "{v}");
    n.external_until("o1", |x| x["cancel"] == "done");
    let cancels = bodies(&n.fake, SellerRoute::Cancel);
    assert_eq!(cancels.len(), 2, "asked again after the empty answer");
    assert_eq!(cancels[0], cancels[1], "the same request id and date each time");
    assert_eq!(cancels[0]["reason"], "cancelled by the marketplace");
    assert_eq!((&cancels[0]["marketplaceOrderId"], &cancels[0]["requestedByUser"]), (&json!("m.o1"), &json!(false)));
    assert!(n.fake.order("m.o1").unwrap().cancelled);
    assert_eq!(n.fake.sku(SKU).unwrap().stock_balance, 199, "the seller has its units back");
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An expiry cancels at the seller too, saying so. The shortest reservation that leaves the
/// placement its minute before the deadline is 2 minutes: this test waits for it.
#[test]
fn a4_an_expired_reservation_is_cancelled_at_the_seller() {
    let dir = temp_dir("vtex-a4-expiry");
    let n = network(&dir, &[]);
    let mut body = order("o1", false);
    body["reservation_minutes"] = json!(2);
    let (st, v) = n.place(&body);
    assert_eq!((st, external(&v)["placement"].as_str()), (201, Some("placed")), "{v}");
    let deadline = Instant::now() + Duration::from_secs(200);
    let o = loop {
        let o = n.get("o1");
        if external(&o)["cancel"] == "done" {
            break o;
        }
        assert!(Instant::now() < deadline, "never cancelled at the seller: {o:#}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(o["status"], "expired");
    let cancels = bodies(&n.fake, SellerRoute::Cancel);
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0]["reason"], "reservation expired");
    assert!(n.fake.order("m.o1").unwrap().cancelled);
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a2_a_failing_placement_is_retried_and_placed_once_and_authorising_waits_for_it() {
    let dir = temp_dir("vtex-a2-retry");
    let n = network(&dir, &["--place-wait-ms", "0"]);
    n.fake.push_fault(SellerRoute::Placement, Fault::Status(500), 2);
    let (st, v) = n.place(&order("o1", false));
    assert_eq!((st, external(&v)["placement"].as_str()), (201, Some("pending")), "{v}");
    let (st, v) = n.action("o1", "authorize");
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("external_placement_pending")), "{v}");
    n.external_until("o1", |x| x["placement"] == "placed");
    assert_eq!(n.fake.count(SellerRoute::Placement), 3, "500, 500, then 200");
    assert_eq!(n.fake.orders().len(), 1, "one order at the seller");
    assert_eq!(n.action("o1", "authorize").0, 200);
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a2_a_refused_placement_cancels_the_whole_order() {
    let dir = temp_dir("vtex-a2-refused");
    let n = network(&dir, &[]);
    n.fake.push_fault(SellerRoute::Placement, Fault::Status(400), 1);
    let (st, v) = n.place(&order("o1", true));
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"], "cancelled", "{v:#}");
    let x = external(&v);
    assert_eq!((x["placement"].as_str(), x["error"].as_str()), (Some("refused"), Some("placement_refused_400")));
    // Released along the chain: `l`'s part is cancelled, its unit free again.
    let (_, lo) = n.s.req("GET", "/v1/accounts/l/orders/m.o1", Some(&n.l), None);
    assert_eq!(lo["status"], "cancelled", "{lo}");
    let (_, stock) = n.s.req("GET", "/v1/accounts/l/skus/k/stock", Some(&n.l), None);
    assert_eq!(stock["stock"][0]["reserved"], 0, "{stock}");
    let (_, events) = n.s.req("GET", "/v1/accounts/m/events", Some(&n.m), None);
    let events = events["events"].as_array().cloned().unwrap_or_default();
    assert!(events.iter().any(|e| e["type"] == "order.external_refused"), "{events:#?}");
    assert!(events.iter().any(|e| e["type"] == "order.cancelled" && e["reason"] == "external_seller_refused"));
    // The seller's shortage (its simulation) refuses too, before any placement.
    n.fake.update_sku(SKU, |o| o.stock_balance = 1);
    let (_, v) = n.place(&order("o2", false));
    assert_eq!((v["status"].as_str(), external(&v)["error"].as_str()), (Some("cancelled"), Some("insufficient_stock")));
    assert_eq!(n.fake.count(SellerRoute::Placement), 1);
    assert!(n.fake.orders().is_empty());
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// kill -9 after the seller made the order but before offernet recorded it: after the restart
/// (replay calls no one) the worker places again with the same `marketplaceOrderId`, which the
/// seller deduplicates: one order there.
#[test]
fn a2_a_crash_between_placement_and_record_leaves_one_order_at_the_seller() {
    let dir = temp_dir("vtex-a2-crash");
    let n = network(&dir, &["--place-wait-ms", "0"]);
    // History that replay re-applies: an order placed, authorised and fulfilled.
    assert_eq!(n.place(&order("o0", false)).0, 201);
    n.external_until("o0", |x| x["placement"] == "placed");
    assert_eq!(n.action("o0", "authorize").0, 200);
    n.external_until("o0", |x| x["dispatch"] == "done");
    // The seller makes the next order but answers late; offernet dies meanwhile.
    n.fake.push_fault(SellerRoute::Placement, Fault::Late(Duration::from_secs(60)), 1);
    assert_eq!(n.place(&order("o1", false)).0, 201);
    let deadline = Instant::now() + WAIT;
    while n.fake.order("m.o1").is_none() {
        assert!(Instant::now() < deadline, "the seller never got the placement");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, status) = n.s.req("GET", "/v1/accounts/e/integration/status", Some(ADMIN), None);
    assert_eq!(status["pending_effects"], json!({"placement": 1}), "the backlog shows: {status}");
    let Net { s, fake, m, l } = n;
    s.kill9();
    let before = fake.requests().len();
    let s = start(&dir, &["--place-wait-ms", "0"]);
    let n = Net { s, fake, m, l };
    let o = n.external_until("o1", |x| x["placement"] == "placed");
    assert_eq!(external(&o)["order_id"], "7891", "{o:#}");
    assert_eq!(n.fake.orders().len(), 2, "o0 and o1, each once");
    assert_eq!(n.fake.order("m.o1").unwrap().placements, 2, "sent again, deduplicated by the seller");
    // The quote worker's sweep at startup asks E's prices (an indexing simulation, no address):
    // that is the live worker, not replay; the order calls are the ones that count here.
    let after: Vec<_> = n.fake.requests().into_iter().skip(before).filter(|r| !indexing(r)).collect();
    let routes: Vec<SellerRoute> = after.iter().map(|r| r.route).collect();
    assert_eq!(routes, [SellerRoute::Simulation, SellerRoute::Placement], "replay called no one: {after:#?}");
    assert!(after.iter().all(|r| r.body.as_ref().is_some_and(|b| b.to_string().contains(SKU))));
    assert_eq!(external(&n.get("o0"))["dispatch"], "done", "o0's history replayed, its fulfil not sent again");
    n.fake.assert_conforming();
    n.s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A quote refresh (an indexing simulation: no postal code), not an order's call.
fn indexing(r: &offernet_vtex_testkit::Recorded<SellerRoute>) -> bool {
    r.route == SellerRoute::Simulation && r.body.as_ref().is_some_and(|b| b["postalCode"].is_null())
}
