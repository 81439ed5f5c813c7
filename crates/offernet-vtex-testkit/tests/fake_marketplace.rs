//! The fake VTEX marketplace itself: B5 answers from its binding table (404, then 200 once a
//! valid suggestion arrives), its validation refuses bad suggestions, notifications and
//! invoices (and records why), faults work, and an indexing simulation follows each B7.
//! Its requests come from the kit's own `SellerConnector` (so the connector's bodies are checked).

use std::time::Duration;

use offernet_vtex_testkit::{
    invoice, suggestion, AppCredentials, FakeExternalSeller, FakeVtexMarketplace, Fault, File, MarketplaceRoute, Part,
    Schemas, SellerConnector, SkuOffer, VtexDriver,
};
use serde_json::json;

fn client() -> reqwest::blocking::Client {
    // Built alone, reqwest has no TLS; in a workspace build it needs a provider (see Cargo.toml).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

fn marketplace() -> (FakeVtexMarketplace, SellerConnector) {
    let fake = FakeVtexMarketplace::start("vtexmkp").unwrap();
    let connector = SellerConnector::at(client(), &fake.api_base(), &fake.suggestions_base(), "s1", "s1-token");
    (fake, connector)
}

#[test]
fn change_notification_is_404_until_a_valid_suggestion_binds_the_sku() {
    let (fake, connector) = marketplace();
    let unknown = connector.change_notification("sku-9").unwrap();
    assert_eq!(unknown.status, 404);
    let message = unknown.json().unwrap()["error"]["message"].clone();
    assert_eq!(message, "Seller StockKeepingUnit sku-9 not found for this seller id s1");
    let body = suggestion("s1", "Mug", "Acme", "Kitchen/Mugs", "7891234567895");
    assert_eq!(connector.send_suggestion("sku-9", &body).unwrap().status, 200);
    assert_eq!(fake.suggestion("s1", "sku-9"), Some(body));
    assert_eq!(connector.change_notification("sku-9").unwrap().status, 200);
    assert_eq!(connector.change_notification_sku_binding("sku-9").unwrap().status, 200);
    fake.set_auto_bind(false);
    connector.send_suggestion("sku-10", &suggestion("s1", "Cup", "Acme", "Kitchen", "7891234567895")).unwrap();
    assert_eq!(connector.change_notification("sku-10").unwrap().status, 404);
    fake.bind("s1", "sku-10");
    assert_eq!(connector.change_notification_sku_binding("sku-10").unwrap().status, 200);
    assert_eq!(fake.count(MarketplaceRoute::ChangeNotification), 5);
    fake.assert_conforming();
}

#[test]
fn bad_suggestions_notifications_and_invoices_are_refused_and_recorded() {
    let (fake, connector) = marketplace();
    // Neither EAN nor RefId (overlay patch 6 asks for one of them).
    let mut no_code = suggestion("s1", "Mug", "Acme", "Kitchen", "7891234567895");
    no_code.as_object_mut().unwrap().remove("EAN");
    no_code.as_object_mut().unwrap().remove("RefId");
    assert_eq!(connector.send_suggestion("sku-1", &no_code).unwrap().status, 400);
    let other_seller = suggestion("s2", "Mug", "Acme", "Kitchen", "7891234567895");
    assert_eq!(connector.send_suggestion("sku-1", &other_seller).unwrap().status, 400);
    assert_eq!(
        connector.send_invoice("M.1", &json!({"type": "Output", "invoiceNumber": "NFe-1"})).unwrap().status,
        400
    );
    let url = format!("{}/notificator/s1/changenotification/sku-1/price", fake.api_base());
    let with_body = client().post(url).header("content-type", "application/json").body("{}").send().unwrap();
    assert_eq!(with_body.status(), 400);
    let violations = fake.violations();
    for expected in ["anyOf", "SellerId \"s2\"", "items", "has no body"] {
        assert!(violations.iter().any(|v| v.contains(expected)), "{expected}: {violations:#?}");
    }
    assert!(fake.suggestion("s1", "sku-1").is_none());
}

#[test]
fn notifications_invoices_and_cancels_are_answered_and_kept() {
    let (fake, connector) = marketplace();
    assert_eq!(connector.notify_price("sku-1").unwrap().status, 202);
    assert_eq!(connector.notify_inventory("sku-1").unwrap().status, 202);
    let kinds: Vec<String> = fake.notifications().into_iter().map(|n| n.kind).collect();
    assert_eq!(kinds, ["price", "inventory"]);
    let schemas = Schemas::load().unwrap();
    let sent = invoice("NFe-00002", &[("sku-1", 1, 5500)]);
    let first = connector.send_invoice("M.1001", &sent).unwrap();
    assert_eq!(first.status, 200);
    let answer = first.json().unwrap();
    let path = "/pvt/orders/{marketplaceOrderId}/invoice";
    assert_eq!(schemas.validate_operation(File::Esm, "post", path, Part::Response(200), &answer), Ok(()));
    assert_eq!(connector.send_invoice("M.1001", &sent).unwrap().body, first.body, "the same receipt again");
    let cancelled = connector.cancel_order("M.1002", "Product is unavailable.").unwrap();
    assert_eq!((cancelled.status, cancelled.json().unwrap()["orderId"].as_str()), (200, Some("M.1002")));
    assert_eq!(fake.invoices().len(), 2);
    let tracking = json!({"courier": "c", "trackingNumber": "T1", "trackingUrl": "https://c.example/T1", "dispatchedDate": "2026-12-01"});
    let url = format!("{}/pvt/orders/M.1001/invoice/NFe-00002", fake.services_endpoint());
    let tracked =
        client().post(&url).header("content-type", "application/json").body(tracking.to_string()).send().unwrap();
    let tracked: serde_json::Value = serde_json::from_str(&tracked.text().unwrap()).unwrap();
    assert_ne!(tracked["receipt"], answer["receipt"], "tracking is not the invoice");
    let untracked =
        client().post(&url).header("content-type", "application/json").body("{\"courier\": \"c\"}").send().unwrap();
    assert_eq!(untracked.status(), 400);
    assert_eq!(fake.tracking().len(), 1);
    assert!(fake.violations().iter().any(|v| v.contains("dispatchedDate")));
    assert_eq!(fake.cancels()[0].body, json!({"reason": "Product is unavailable."}));
}

#[test]
fn faults_and_credentials_on_the_marketplace() {
    let (fake, connector) = marketplace();
    fake.push_fault(MarketplaceRoute::PriceNotification, Fault::Status(503), 1);
    let busy = connector.notify_price("sku-1").unwrap();
    assert_eq!((busy.status, busy.retry_after.as_deref()), (503, Some("1")));
    assert_eq!(connector.notify_price("sku-1").unwrap().status, 202);
    fake.set_fault(MarketplaceRoute::Invoice, Some(Fault::Status(404)));
    assert_eq!(connector.send_invoice("M.1", &invoice("N-1", &[("a", 1, 1)])).unwrap().status, 404);
    fake.clear_faults();
    fake.expect_credentials("s1", "s1-token");
    assert_eq!(connector.notify_inventory("sku-1").unwrap().status, 202);
    let stranger = connector.with_credentials(AppCredentials::new("s1", "wrong"));
    assert_eq!(stranger.notify_inventory("sku-1").unwrap().status, 401);
    assert_eq!(fake.count(MarketplaceRoute::PriceNotification), 2);
    assert_eq!(fake.notifications().len(), 2, "faulted and refused notifications are not kept");
    assert_eq!(fake.violations().len(), 1);
}

#[test]
fn an_indexing_simulation_follows_each_notification() {
    let seller = FakeExternalSeller::start().unwrap();
    seller.put_sku("sku-1", SkuOffer::new(990, 4)).unwrap();
    let (fake, connector) = marketplace();
    fake.follow_notifications(VtexDriver::at(client(), &seller.fulfillment_endpoint(), "s1", "vtexmkp", "v-token"));
    connector.notify_price("sku-1").unwrap();
    assert!(seller.wait_for(offernet_vtex_testkit::SellerRoute::Simulation, 1, Duration::from_secs(5)));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fake.indexing_runs().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let runs = fake.indexing_runs();
    assert_eq!(runs.len(), 1);
    let answer = runs[0].answer.as_ref().expect("a conforming answer");
    assert_eq!(
        (answer["items"][0]["price"].as_i64(), answer["logisticsInfo"][0]["stockBalance"].as_i64()),
        (Some(990), Some(4))
    );
    let asked = &seller.requests()[0];
    assert_eq!(asked.body.as_ref().unwrap()["items"][0]["seller"], "s1");
    assert!(asked.body.as_ref().unwrap().get("postalCode").is_none(), "an indexing simulation has no address");
    seller.assert_conforming();
    fake.assert_conforming();
    connector.notify_inventory("sku-2").unwrap();
    drop(fake);
}
