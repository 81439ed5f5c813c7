//! Role (b) outbound and role (c) order routes against the real binary (vtex-compat.md §5, rows
//! B4's invoiced part, B5–B9, C5, C6): offernet seller `shop` (seller `01` at V) sells at the
//! VTEX mirror `vtex-v`, whose API is a [`FakeVtexMarketplace`] that validates every request
//! offernet sends (SUG with the overlay, MA, ESM) and checks the credentials of `shop` at V.

mod common;

use std::time::{Duration, Instant};

use common::*;
use offernet_vtex_testkit::{
    invoice, AppCredentials, FakeVtexMarketplace, Fault, File, MarketplaceRoute as R, Schemas, SellerConnector,
    VtexDriver,
};
use serde_json::{json, Value};

const V: &str = "vtex-v";
const S: &str = "shop";
const WAIT: Duration = Duration::from_secs(20);

struct Net {
    s: Server,
    fake: FakeVtexMarketplace,
    v: String,
    shop: String,
}

impl Net {
    fn put(&self, path: &str, token: &str, body: Value) {
        let (st, v) = self.s.req("PUT", path, Some(token), Some(&body.to_string()));
        assert_eq!(st, 200, "{path}: {v}");
    }

    fn driver(&self) -> VtexDriver {
        VtexDriver::new(client_builder().build().unwrap(), &format!("http://{}", self.s.addr), S, "01", V, &self.v)
            .with_services_endpoint(&self.fake.services_endpoint())
    }

    /// B2 then B3 of V's order `id` for `quantity` of SKU 6.
    fn placed_and_authorised(&self, id: &str, quantity: i64) {
        let d = self.driver();
        let r = d.place(&d.order(id, &[("6", quantity, 2499)])).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let r = d.fulfill(&format!("{V}.{id}"), id).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }

    fn status(&self) -> Value {
        self.s.req("GET", "/v1/accounts/vtex-v/integration/status", Some(ADMIN), None).1
    }
}

/// Waits until `f` holds; false after [`WAIT`].
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while !f() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// The server (on `dir`) with V's integration pointing at `fake`.
fn start(dir: &std::path::Path) -> Server {
    Server::start(dir, &["--vtex", "--public-url", "https://offernet.example", "--outbound-allow-local"])
}

/// V (a mirror of `fake`, with shop's credentials there), shop with SKU 6 (5 units) affiliated
/// to V as seller `01`, registered at V with `match_mode: auto`.
fn network(name: &str) -> Net {
    let dir = temp_dir(name);
    let s = start(&dir);
    let fake = FakeVtexMarketplace::start("vtexv").unwrap();
    let (v, shop) = (create(&s, V), create(&s, S));
    let n = Net { s, fake, v, shop };
    let integration = json!({"protocol": "vtex", "role": "marketplace", "api_base": n.fake.api_base(),
        "suggestions_base": n.fake.suggestions_base(), "default_dimensions": {"height": 10, "width": 10.5, "length": 20, "weight_g": 300}});
    n.put("/v1/accounts/vtex-v/integration", ADMIN, integration);
    n.put(
        "/v1/accounts/vtex-v/integration/credentials/shop",
        ADMIN,
        json!({"app_key": "vtexappkey-01", "app_token": "T0k3n"}),
    );
    n.fake.expect_credentials("vtexappkey-01", "T0k3n");
    let sku = json!({"name": "Shirt", "brand": "Acme", "category": "Clothes/Shirts", "ean": "4006381333931",
        "images": ["https://img.example/6.jpg"]});
    n.put("/v1/accounts/shop/skus/6", &n.shop, sku);
    n.put("/v1/accounts/shop/prices/6", &n.shop, json!({"price": 2499, "list_price": 3000}));
    n.put("/v1/accounts/shop/warehouses/w", &n.shop, json!({}));
    n.put("/v1/accounts/shop/warehouses/w/stock/6", &n.shop, json!({"quantity": 5}));
    n.put("/v1/accounts/shop/affiliations/vtex-v", &n.shop, json!({"trade_policy": "1", "remote_seller_id": "01"}));
    n.put("/v1/accounts/vtex-v/sellers/shop", &n.v, json!({"match_mode": "auto"}));
    n
}

#[test]
fn b5_then_b6_suggests_a_new_sku_and_what_cannot_be_suggested_is_counted() {
    let n = network("vtex-b5b6");
    assert!(eventually(|| n.fake.count(R::Suggestion) >= 1), "{:?}", n.fake.requests());
    let routes: Vec<R> = n
        .fake
        .requests()
        .iter()
        .map(|r| r.route)
        .filter(|r| matches!(r, R::ChangeNotification | R::Suggestion))
        .collect();
    assert_eq!(routes[..2], [R::ChangeNotification, R::Suggestion], "B5 first, then B6");
    let b = n.fake.suggestion("01", "6").expect("the suggestion of SKU 6");
    assert_eq!((&b["SellerId"], &b["BrandName"], &b["EAN"]), (&json!("01"), &json!("Acme"), &json!("4006381333931")));
    assert_eq!(
        (&b["CategoryFullPath"], &b["Width"], &b["Weight"]),
        (&json!("Clothes/Shirts"), &json!(11), &json!(300))
    );
    assert_eq!((&b["Pricing"]["SalePrice"], &b["AvailableQuantity"]), (&json!(2499), &json!(5)), "{b}");
    assert_eq!(b["Images"][0]["imageUrl"], "https://img.example/6.jpg");
    // The fake bound it on the suggestion: the next B5 for it answers 200 and nothing more goes.
    // A SKU with a ref_id and no EAN is suggested too (overlay patch 6); one without a brand is not.
    n.put("/v1/accounts/shop/skus/nobrand", &n.shop, json!({"name": "Plain", "category": "C", "ref_id": "r0"}));
    n.put(
        "/v1/accounts/shop/skus/7",
        &n.shop,
        json!({"name": "Hat", "brand": "Acme", "category": "C", "ref_id": "r7"}),
    );
    assert!(eventually(|| n.fake.suggestion("01", "7").is_some()));
    assert!(eventually(|| n.status()["pending_effects"]["not_suggestible"] == 1), "{}", n.status());
    assert!(n.fake.requests().iter().all(|r| !r.path.contains("nobrand")));
    // While V answers B5 with 404, a change of the SKU sends the suggestion again.
    n.fake.set_auto_bind(false);
    n.put(
        "/v1/accounts/shop/skus/8",
        &n.shop,
        json!({"name": "Cap", "brand": "Acme", "category": "C", "ref_id": "r8"}),
    );
    assert!(eventually(|| n.fake.suggestion("01", "8").is_some()));
    n.put(
        "/v1/accounts/shop/skus/8",
        &n.shop,
        json!({"name": "Red cap", "brand": "Acme", "category": "C", "ref_id": "r8"}),
    );
    assert!(eventually(|| n.fake.suggestion("01", "8").is_some_and(|b| b["SkuName"] == "Red cap")));
    n.fake.assert_conforming();
}

#[test]
fn b7_price_changes_are_coalesced_and_stock_changes_notify_the_inventory() {
    let n = network("vtex-b7");
    assert!(eventually(|| n.fake.notifications().iter().any(|x| x.kind == "inventory")));
    std::thread::sleep(Duration::from_millis(1500));
    let count = |kind: &str| n.fake.notifications().iter().filter(|x| x.kind == kind && x.sku == "6").count();
    let (prices, stock) = (count("price"), count("inventory"));
    let started = Instant::now();
    for i in 0..10 {
        n.put("/v1/accounts/shop/prices/6", &n.shop, json!({"price": 2500 + i}));
    }
    // One notification per 1 s window from a window's first change: 10 PUTs within 1 s make at
    // most 2 (more only if this machine took longer for the PUTs).
    let took = started.elapsed();
    let windows = took.as_millis() as usize / 1000 + 2;
    assert!(eventually(|| count("price") > prices));
    std::thread::sleep(Duration::from_millis(2500));
    let sent = count("price") - prices;
    println!("10 price PUTs in {took:?}: {sent} price notifications");
    assert!((1..=windows).contains(&sent), "10 price changes: {sent} notifications, at most {windows}");
    assert_eq!(count("inventory"), stock, "a price change is not an inventory change");
    n.put("/v1/accounts/shop/warehouses/w/stock/6", &n.shop, json!({"quantity": 4}));
    assert!(eventually(|| count("inventory") > stock));
    assert!(n.fake.notifications().iter().all(|x| x.seller == "01"));
    n.fake.assert_conforming();
}

#[test]
fn b8_an_invoice_reaches_v_and_b4_after_it_is_refused_and_sends_it_again() {
    let n = network("vtex-b8");
    n.placed_and_authorised("1138342255777-01", 2);
    let inv =
        json!({"invoice": {"number": "NFe-00002", "courier": "Correios", "tracking_url": "https://track.example/1"}});
    let (st, v) = n.s.req(
        "POST",
        "/v1/accounts/shop/orders/vtex-v.1138342255777-01/invoice",
        Some(&n.shop),
        Some(&inv.to_string()),
    );
    assert_eq!(st, 200, "{v}");
    assert!(eventually(|| n.fake.invoices().len() == 1));
    let b8 = &n.fake.invoices()[0];
    assert_eq!(b8.order_id, "1138342255777-01");
    assert_eq!((&b8.body["type"], &b8.body["invoiceNumber"]), (&json!("Output"), &json!("NFe-00002")));
    assert_eq!(b8.body["items"], json!([{"id": "6", "quantity": 2, "price": 2499}]));
    assert_eq!((&b8.body["invoiceValue"], &b8.body["courier"]), (&json!(4998), &json!("Correios")));
    assert!(eventually(|| n.status()["pending_effects"].get("invoice").is_none()), "{}", n.status());
    // V asks to cancel the invoiced order: 409, and the invoice goes again (the seller's refusal).
    let r = n.driver().cancel("vtex-v.1138342255777-01", "1138342255777-01", "customer asked").unwrap();
    assert_eq!((r.status, r.error_code().as_deref()), (409, Some("conflict")), "{}", r.body);
    assert!(eventually(|| n.fake.invoices().len() == 2));
    assert_eq!(n.fake.invoices()[1].body, b8.body, "the same invoice");
    n.fake.assert_conforming();
}

#[test]
fn b9_a_cancel_by_the_seller_reaches_v_and_one_by_v_does_not() {
    let n = network("vtex-b9");
    n.placed_and_authorised("A-1", 1);
    n.placed_and_authorised("A-2", 1);
    let r = n.driver().cancel("vtex-v.A-1", "A-1", "by V").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let (st, v) = n.s.req("POST", "/v1/accounts/shop/orders/vtex-v.A-2/cancel", Some(&n.shop), None);
    assert_eq!(st, 200, "{v}");
    assert!(eventually(|| !n.fake.cancels().is_empty()));
    std::thread::sleep(Duration::from_millis(500));
    let cancels = n.fake.cancels();
    assert_eq!(cancels.len(), 1, "only the seller's cancel is told: {cancels:?}");
    assert_eq!(
        (cancels[0].order_id.as_str(), &cancels[0].body),
        ("A-2", &json!({"reason": "cancelled by the seller"}))
    );
    n.fake.assert_conforming();
}

#[test]
fn b8_owed_when_killed_is_sent_after_the_restart() {
    let mut n = network("vtex-b8-kill");
    n.placed_and_authorised("K-1", 1);
    n.fake.set_fault(R::Invoice, Some(Fault::Status(503)));
    let (st, v) = n.s.req("POST", "/v1/accounts/shop/orders/vtex-v.K-1/invoice", Some(&n.shop), None);
    assert_eq!(st, 200, "{v}");
    assert!(eventually(|| n.fake.count(R::Invoice) >= 1), "tried while V fails");
    assert!(n.fake.invoices().is_empty());
    let dir = n.s.dir.clone();
    n.s.kill9();
    n.fake.set_fault(R::Invoice, None);
    n.s = start(&dir);
    assert!(eventually(|| n.fake.invoices().len() == 1), "sent after the restart");
    assert_eq!(n.fake.invoices()[0].body["invoiceNumber"], "vtex-v.K-1", "the seller order id without a number");
    assert!(eventually(|| n.status()["pending_effects"].get("invoice").is_none()), "{}", n.status());
}

/// `m`, `e` and `up` as described on the test below, with their tokens.
fn role_c(s: &Server) -> (String, String, String) {
    let (m, e, up) = (create(s, "m"), create(s, "e"), create(s, "up"));
    let put = |path: &str, token: &str, body: Value| {
        let (st, v) = s.req("PUT", path, Some(token), Some(&body.to_string()));
        assert_eq!(st, 200, "{path}: {v}");
    };
    put("/v1/accounts/up/skus/x", &up, json!({"name": "Lamp"}));
    put("/v1/accounts/up/prices/x", &up, json!({"price": 500}));
    put("/v1/accounts/up/warehouses/w", &up, json!({}));
    put("/v1/accounts/up/warehouses/w/stock/x", &up, json!({"quantity": 9}));
    put("/v1/accounts/up/affiliations/e", &up, json!({"trade_policy": "1", "resale": "all"}));
    put("/v1/accounts/e/sellers/up", &e, json!({"match_mode": "auto"}));
    put("/v1/accounts/e/prices/up-x", &e, json!({"price": 800}));
    put("/v1/accounts/e/warehouses/w", &e, json!({}));
    put("/v1/accounts/e/warehouses/w/stock/up-x", &e, json!({"quantity": 4}));
    put("/v1/accounts/e/affiliations/m", &e, json!({"trade_policy": "1", "resale": "all"}));
    put("/v1/accounts/m/sellers/e", &m, json!({"match_mode": "auto"}));
    (m, e, up)
}

/// Role (c): marketplace `m` buys from seller `e` (its own 4 units, then through its chain from
/// `up`: o1 takes 3 of e's own, o2 e's last one and 2 of up's); `e` invoices (C5) or cancels
/// (C6) its sub order as a VTEX seller connector does.
#[test]
fn c5_invoices_and_c6_cancels_a_sellers_sub_order() {
    let dir = temp_dir("vtex-c5c6");
    let s = start(&dir);
    let (m, e, up) = role_c(&s);
    let place = |id: &str| {
        let body = json!({"id": id, "items": [{"sku": "e-up-x", "quantity": 3, "seller": "e"}]});
        let (st, v) = s.req("POST", "/v1/accounts/m/orders", Some(&m), Some(&body.to_string()));
        assert_eq!(st, 201, "{v}");
        assert_eq!(s.req("POST", &format!("/v1/accounts/m/orders/{id}/authorize"), Some(&m), None).0, 200);
    };
    place("o1");
    place("o2");
    let schemas = Schemas::load().unwrap();
    let valid = |r: &offernet_vtex_testkit::Reply| {
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json().unwrap();
        schemas.validate(File::Esm, "responseFulfill", &v).unwrap_or_else(|e| panic!("{e:?}: {v}"));
        v
    };
    let c = SellerConnector::new(client_builder().build().unwrap(), &format!("http://{}", s.addr), "m", "e", &e);
    // C5: partial → 409, Input → 400, the whole invoice → invoiced, the same again → the same.
    let partial = c.send_invoice("m.o1", &invoice("NFe-1", &[("up-x", 2, 800)])).unwrap();
    assert_eq!((partial.status, partial.error_code().as_deref()), (409, Some("partial_invoice_unsupported")));
    let mut input = invoice("NFe-1", &[("up-x", 3, 800)]);
    input["type"] = json!("Input");
    let r = c.send_invoice("m.o1", &input).unwrap();
    assert_eq!((r.status, r.error_code().as_deref()), (400, Some("unsupported")), "{}", r.body);
    let first = valid(&c.send_invoice("m.o1", &invoice("NFe-1", &[("up-x", 3, 800)])).unwrap());
    assert_eq!(first["orderId"], "m.o1");
    let again = valid(&c.send_invoice("m.o1", &invoice("NFe-1", &[("up-x", 3, 800)])).unwrap());
    assert_eq!(again, first, "idempotent");
    let other = c.send_invoice("m.o1", &invoice("NFe-9", &[("up-x", 3, 800)])).unwrap();
    assert_eq!((other.status, other.error_code().as_deref()), (409, Some("conflict")), "{}", other.body);
    let (_, o) = s.req("GET", "/v1/accounts/e/orders/m.o1", Some(&e), None);
    assert_eq!(o["status"], "invoiced", "{o}");
    // Another account, and an unknown order: refused.
    let stranger = create(&s, "stranger");
    let r = c.with_credentials(AppCredentials::new("stranger", &stranger)).cancel_order("m.o2", "x").unwrap();
    assert_eq!(r.status, 404, "{}", r.body);
    // C6: e's sub order and its chain order at up are cancelled, every unit released.
    let (_, o) = s.req("GET", "/v1/accounts/m/orders/o2", Some(&m), None);
    assert_eq!(o["seller_orders"][0]["chain_orders"][0]["seller"], "up", "{o}");
    let first = valid(&c.cancel_order("m.o2", "Product is unavailable.").unwrap());
    assert_eq!(valid(&c.cancel_order("m.o2", "Product is unavailable.").unwrap()), first, "idempotent");
    let (_, o) = s.req("GET", "/v1/accounts/m/orders/o2", Some(&m), None);
    assert_eq!(o["status"], "cancelled", "{o}");
    assert_eq!(o["seller_orders"][0]["chain_orders"][0]["status"], "cancelled", "{o}");
    let stock = s.req("GET", "/v1/accounts/up/skus/x", Some(&up), None).1["stock"][0].clone();
    assert_eq!((&stock["quantity"], &stock["reserved"]), (&json!(9), &json!(0)), "o2's 2 released: {stock}");
    let stock = s.req("GET", "/v1/accounts/e/skus/up-x", Some(&e), None).1["stock"][0].clone();
    assert_eq!(
        (&stock["quantity"], &stock["reserved"]),
        (&json!(1), &json!(0)),
        "o1's 3 invoiced, o2's 1 released: {stock}"
    );
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A late invoice (vtex-compat.md §6 Q2): `m` cancelled its order here at once, then `e`'s
/// invoice (C5) arrives. It is refused (409) and the conflict becomes one
/// `order.external_conflict` for `m`, however often `e` retries, with what the operator needs
/// (order, seller, invoice number) and nothing personal.
#[test]
fn c5_a_late_invoice_on_a_cancelled_order_is_a_conflict_event() {
    let dir = temp_dir("vtex-c5-conflict");
    let s = start(&dir);
    let (m, e, _) = role_c(&s);
    let body = json!({"id": "o3", "items": [{"sku": "e-up-x", "quantity": 1, "seller": "e"}]});
    assert_eq!(s.req("POST", "/v1/accounts/m/orders", Some(&m), Some(&body.to_string())).0, 201);
    assert_eq!(s.req("POST", "/v1/accounts/m/orders/o3/authorize", Some(&m), None).0, 200);
    assert_eq!(s.req("POST", "/v1/accounts/m/orders/o3/cancel", Some(&m), None).0, 200);
    let c = SellerConnector::new(client_builder().build().unwrap(), &format!("http://{}", s.addr), "m", "e", &e);
    for _ in 0..2 {
        let r = c.send_invoice("m.o3", &invoice("NFe-7", &[("up-x", 1, 800)])).unwrap();
        assert_eq!((r.status, r.error_code().as_deref()), (409, Some("conflict")), "{}", r.body);
    }
    let events = |account: &str, token: &str| -> Vec<Value> {
        let (_, v) = s.req("GET", &format!("/v1/accounts/{account}/events"), Some(token), None);
        v["events"].as_array().cloned().unwrap_or_default()
    };
    let conflicts: Vec<Value> =
        events("m", &m).into_iter().filter(|x| x["type"] == "order.external_conflict").collect();
    assert_eq!(conflicts.len(), 1, "one event for two attempts: {conflicts:#?}");
    let x = &conflicts[0];
    assert_eq!(
        (&x["marketplace"], &x["order"], &x["id"], &x["seller"], &x["what"], &x["invoice_number"]),
        (&json!("m"), &json!("o3"), &json!("m.o3"), &json!("e"), &json!("invoice_after_cancel"), &json!("NFe-7")),
        "{x}"
    );
    assert!(x["at_ms"].as_u64().is_some_and(|t| t > 0), "{x}");
    assert!(events("e", &e).iter().all(|x| x["type"] != "order.external_conflict"), "for the marketplace");
    // The order stays cancelled; an invoice of an order that is not cancelled is no conflict.
    let (_, o) = s.req("GET", "/v1/accounts/m/orders/o3", Some(&m), None);
    assert_eq!(o["status"], "cancelled", "{o}");
    // Kept across a restart (journal and snapshot): the same retry makes no second event.
    s.stop();
    let s = start(&dir);
    let c = SellerConnector::new(client_builder().build().unwrap(), &format!("http://{}", s.addr), "m", "e", &e);
    let r = c.send_invoice("m.o3", &invoice("NFe-7", &[("up-x", 1, 800)])).unwrap();
    assert_eq!(r.status, 409, "{}", r.body);
    let (_, v) = s.req("GET", "/v1/accounts/m/events", Some(&m), None);
    let n = v["events"].as_array().unwrap().iter().filter(|x| x["type"] == "order.external_conflict").count();
    assert_eq!(n, 1, "{v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
