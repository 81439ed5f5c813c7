//! The fake external seller itself: it answers from its table in ESF's shapes, its validation
//! refuses a bad request (and records why), it deduplicates placements, and each fault works.
//! Its requests come from the kit's own `VtexDriver` (so the driver's bodies are checked too).

use std::time::{Duration, Instant};

use offernet_vtex_testkit::{
    AppCredentials, FakeExternalSeller, Fault, File, FulfillmentCall, Part, Schemas, SellerRoute, SkuOffer, Sla,
    VtexDriver,
};
use serde_json::{json, Value};

fn client(timeout: Duration) -> reqwest::blocking::Client {
    // Built alone, reqwest has no TLS; in a workspace build it needs a provider (see Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().no_proxy().timeout(timeout).build().unwrap()
}

fn seller() -> (FakeExternalSeller, VtexDriver) {
    let fake = FakeExternalSeller::start().unwrap();
    fake.put_sku("2000037", SkuOffer::esf_example()).unwrap();
    fake.put_sku("7", SkuOffer::new(1500, 0).list_price(2000).slas(vec![Sla::new("Express", 2500, "1d")])).unwrap();
    let driver =
        VtexDriver::at(client(Duration::from_secs(10)), &fake.fulfillment_endpoint(), "1", "vtexappkey-m", "token");
    (fake, driver)
}

fn post(fake: &FakeExternalSeller, path: &str, body: &str) -> reqwest::blocking::Response {
    let url = format!("{}{path}", fake.fulfillment_endpoint());
    client(Duration::from_secs(10))
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
}

#[test]
fn simulations_answer_from_the_table_in_esf_shape() {
    let (fake, driver) = seller();
    let reply = driver.indexing_simulation(&[("2000037", 1), ("unknown", 1), ("7", 3)]).unwrap();
    let answer = driver.check(FulfillmentCall::Simulation, &reply).unwrap();
    assert_eq!(answer["items"].as_array().unwrap().len(), 2, "an unknown SKU is left out: {answer}");
    assert_eq!(answer["items"][0]["price"], 67203);
    assert_eq!(answer["items"][1]["requestIndex"], 2);
    assert_eq!(answer["items"][1]["listPrice"], 2000);
    assert_eq!(answer["items"][1]["availability"], "withoutStock");
    assert_eq!(answer["logisticsInfo"][0]["stockBalance"], 199);
    assert_eq!(answer["logisticsInfo"][0]["slas"], json!([]), "no SLAs without an address");
    assert_eq!(answer["country"], Value::Null);

    let checkout = driver
        .check(
            FulfillmentCall::Simulation,
            &driver.checkout_simulation(&[("2000037", 500)], "22270-030", "BRA").unwrap(),
        )
        .unwrap();
    assert_eq!(checkout["items"][0]["quantity"], 199, "the most available");
    assert_eq!(checkout["logisticsInfo"][0]["slas"][0]["id"], "Normal");
    let abroad = driver
        .check(FulfillmentCall::Simulation, &driver.checkout_simulation(&[("2000037", 1)], "1000", "ARG").unwrap())
        .unwrap();
    assert_eq!(abroad["items"][0]["availability"], "cannotBeDelivered");
    assert_eq!(abroad["logisticsInfo"][0]["slas"], json!([]));
    assert_eq!(fake.count(SellerRoute::Simulation), 3);
    fake.assert_conforming();
}

#[test]
fn a_request_outside_the_schema_is_refused_and_recorded() {
    let (fake, _) = seller();
    let reply =
        post(&fake, "/pvt/orderForms/simulation", r#"{"items": [{"id": "2000037", "quantity": "1", "seller": "1"}]}"#);
    assert_eq!(reply.status(), 400);
    let body: Value = serde_json::from_str(&reply.text().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "invalid_field");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("/items/0/quantity"), "{body}");
    let cancel_without_fields = post(&fake, "/pvt/orders/7890/cancel", r#"{"marketplaceOrderId": "m-1"}"#);
    assert_eq!(cancel_without_fields.status(), 400, "cancel keeps requestOrderId as published");
    assert_eq!(post(&fake, "/pvt/orders", "{not json").status(), 400);
    assert_eq!(post(&fake, "/pvt/nothing", "{}").status(), 404);
    let violations = fake.violations();
    for expected in ["/items/0/quantity", "cancellationRequestId", "not JSON", "no such route"] {
        assert!(violations.iter().any(|v| v.contains(expected)), "{expected}: {violations:#?}");
    }
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fake.assert_conforming())).is_err());
}

#[test]
fn placements_are_deduplicated_and_answered_in_their_container() {
    let (fake, driver) = seller();
    let order = driver.order("M.1001.E", &[("2000037", 2, 67203)]);
    let first = driver.place(&order).unwrap();
    let answer = driver.check(FulfillmentCall::Placement, &first).unwrap();
    assert_eq!(answer[0]["orderId"], "7890", "ESF's example id comes first");
    assert_eq!(answer[0]["marketplaceOrderId"], "M.1001.E");
    let again = driver.place(&order).unwrap();
    assert_eq!(again.body, first.body, "a repeated marketplaceOrderId gets the same answer");
    let orders = fake.orders();
    assert_eq!((orders.len(), orders[0].placements), (1, 2));
    assert_eq!(fake.sku("2000037").unwrap().stock_balance, 197);

    let object = driver.place_raw(&driver.order("M.1002.E", &[("2000037", 1, 67203)])).unwrap();
    assert!(driver.check(FulfillmentCall::Placement, &object).unwrap().is_object());
    let short = driver.place(&driver.order("M.1003.E", &[("2000037", 500, 67203)])).unwrap();
    assert_eq!((short.status, short.error_code().as_deref()), (400, Some("1")));
    assert_eq!(fake.orders().len(), 2, "a refused placement leaves no order");
    fake.assert_conforming();
}

#[test]
fn fulfill_and_cancel_are_idempotent_and_give_stock_back() {
    let (fake, driver) = seller();
    driver.place(&driver.order("M.2001.E", &[("2000037", 3, 67203)])).unwrap();
    let fulfilled = driver
        .fulfill_raw("7890", &json!({"marketplaceOrderId": "M.2001.E", "marketplaceOrderGroup": "2001"}))
        .unwrap();
    let answer = driver.check(FulfillmentCall::Fulfill, &fulfilled).unwrap();
    assert_eq!((answer["orderId"].as_str(), answer["receipt"].as_str()), (Some("7890"), Some("fulfill-7890")));
    assert_eq!(driver.fulfill("7890", "M.2001.E").unwrap().body, fulfilled.body);
    assert_eq!(driver.fulfill("7890", "M.other").unwrap().status, 400, "the order's own marketplaceOrderId only");
    assert_eq!(driver.fulfill("404", "M.2001.E").unwrap().status, 404);
    assert_eq!(fake.sku("2000037").unwrap().stock_balance, 196);
    let cancelled = driver.cancel("7890", "M.2001.E", "reservation expired").unwrap();
    driver.check(FulfillmentCall::Cancel, &cancelled).unwrap();
    assert_eq!(driver.cancel("7890", "M.2001.E", "again").unwrap().body, cancelled.body);
    assert_eq!(fake.sku("2000037").unwrap().stock_balance, 199, "given back once");
    let order = fake.order("M.2001.E").unwrap();
    assert!(order.dispatched && order.cancelled);
    fake.assert_conforming();
}

#[test]
fn faults_are_injected_per_route() {
    let (fake, driver) = seller();
    fake.push_fault(SellerRoute::Placement, Fault::Status(500), 2);
    let order = driver.order("M.3001.E", &[("2000037", 1, 67203)]);
    assert_eq!(driver.place(&order).unwrap().status, 500);
    assert_eq!(driver.place(&order).unwrap().status, 500);
    assert_eq!(driver.place(&order).unwrap().status, 200);
    assert_eq!((fake.count(SellerRoute::Placement), fake.orders().len()), (3, 1));

    fake.push_fault(SellerRoute::Simulation, Fault::Status(429), 1);
    let limited = driver.indexing_simulation(&[("2000037", 1)]).unwrap();
    assert_eq!((limited.status, limited.retry_after.as_deref()), (429, Some("1")));
    fake.push_fault(SellerRoute::Simulation, Fault::Delay(Duration::from_millis(300)), 1);
    let started = Instant::now();
    assert_eq!(driver.indexing_simulation(&[("2000037", 1)]).unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    fake.set_fault(SellerRoute::Simulation, Some(Fault::Hang));
    let impatient = VtexDriver::at(client(Duration::from_millis(300)), &fake.fulfillment_endpoint(), "1", "k", "t");
    assert!(impatient.indexing_simulation(&[("2000037", 1)]).is_err(), "a hang runs past the caller's timeout");
    fake.set_fault(SellerRoute::Simulation, None);
    assert_eq!(driver.indexing_simulation(&[("2000037", 1)]).unwrap().status, 200);

    fake.push_fault(SellerRoute::Cancel, Fault::EmptyBody, 1);
    let evaluating = driver.cancel("7890", "M.3001.E", "r").unwrap();
    assert_eq!((evaluating.status, evaluating.body.as_str()), (200, ""));
    assert_eq!(driver.check(FulfillmentCall::Cancel, &evaluating), Ok(Value::Null));
    assert!(!fake.order("M.3001.E").unwrap().cancelled, "still evaluating");
    assert!(driver.check(FulfillmentCall::Cancel, &driver.cancel("7890", "M.3001.E", "r").unwrap()).is_ok());
    fake.assert_conforming();
}

/// `Late`: the work is done before the late answer, so a caller that gives up (or dies) in
/// between leaves the order made at the seller.
#[test]
fn a_late_answer_comes_after_the_work() {
    let (fake, _) = seller();
    fake.push_fault(SellerRoute::Placement, Fault::Late(Duration::from_secs(2)), 1);
    let impatient = VtexDriver::at(client(Duration::from_millis(300)), &fake.fulfillment_endpoint(), "1", "k", "t");
    let order = impatient.order("M.4001.E", &[("2000037", 1, 67203)]);
    let started = Instant::now();
    assert!(impatient.place(&order).is_err(), "the answer comes past the caller's timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(fake.order("M.4001.E").is_some(), "the order was made before the answer");
    fake.assert_conforming();
}

#[test]
fn expected_credentials_are_checked() {
    let (fake, driver) = seller();
    fake.expect_credentials("vtexappkey-m", "token");
    assert_eq!(driver.indexing_simulation(&[("2000037", 1)]).unwrap().status, 200);
    let anonymous = driver.with_credentials(AppCredentials::default());
    assert_eq!(anonymous.indexing_simulation(&[("2000037", 1)]).unwrap().status, 401);
    assert_eq!(fake.violations().len(), 1);
    assert_eq!(fake.requests()[0].app_key.as_deref(), Some("vtexappkey-m"));
    let with_query = driver.clone().with_query("1", "OFN");
    assert_eq!(with_query.indexing_simulation(&[("2000037", 1)]).unwrap().status, 200);
    assert_eq!(fake.requests()[2].query.as_deref(), Some("sc=1&affiliateId=OFN"));
}

#[test]
fn dropping_the_fake_ends_a_hung_request() {
    let (fake, driver) = seller();
    fake.set_fault(SellerRoute::Simulation, Some(Fault::Hang));
    let caller = std::thread::spawn(move || driver.indexing_simulation(&[("2000037", 1)]));
    assert!(fake.wait_for(SellerRoute::Simulation, 1, Duration::from_secs(5)));
    let (addr, started) = (fake.addr(), Instant::now());
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(caller.join().unwrap().is_err(), "the hung request ends with the fake");
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
}

#[test]
fn the_fakes_answers_validate() {
    let (fake, driver) = seller();
    let schemas = Schemas::load().unwrap();
    let reply = driver.checkout_simulation(&[("2000037", 1), ("7", 1)], "22270-030", "BRA").unwrap();
    let answer = reply.json().unwrap();
    assert_eq!(
        schemas.validate_operation(File::Esf, "post", "/pvt/orderForms/simulation", Part::Response(200), &answer),
        Ok(())
    );
    assert_eq!(schemas.validate(File::Esf, "responseFulfillmentSimulation", &answer), Ok(()));
    drop(fake);
}
