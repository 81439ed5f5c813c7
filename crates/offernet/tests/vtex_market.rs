//! Role (c) and the quote path of role (a) against the real binary (vtex-compat.md §5, rows C1,
//! C2, C3/C4 and the A1 rows): an external seller `ext` (a mirror account whose integration
//! points at a `FakeExternalSeller`) sells at offernet marketplace `mkt`. Its notifications and
//! suggestions reach `/vtex/mkt/…`; offernet asks the fake (A1) and `mkt`'s offer follows. Every
//! request offernet sends the fake is validated against ESF (`assert_conforming`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use offernet_vtex_testkit::{
    suggestion, AppCredentials, FakeExternalSeller, Fault, SellerConnector, SellerRoute, SkuOffer,
};
use serde_json::{json, Value};

const M: &str = "mkt";
const E: &str = "ext";
const APP_KEY: &str = "vtexappkey-ext-OFFERNET";
const APP_TOKEN: &str = "ext-app-token-given-to-offernet-0123456789";
/// EAN-13 with a valid check digit.
const GTIN: &str = "4006381333931";

struct Net {
    s: Server,
    fake: FakeExternalSeller,
    m: String,
    e: String,
    conn: SellerConnector,
}

impl Net {
    fn put(&self, path: &str, token: &str, body: Value) {
        let (st, v) = self.s.req("PUT", path, Some(token), Some(&body.to_string()));
        assert_eq!(st, 200, "{path}: {v}");
    }

    /// `mkt`'s offer of `ext`'s SKU `sku` (auto-bound as `ext-{sku}`), or `Null`.
    fn offer(&self, sku: &str) -> Value {
        let (_, v) = self.s.req("GET", &format!("/v1/accounts/{M}/offers/{E}-{sku}"), Some(&self.m), None);
        v["offers"].as_array().and_then(|o| o.first()).cloned().unwrap_or(Value::Null)
    }

    /// Waits (up to `limit`) until `mkt`'s offer of `sku` satisfies `pred`; how long it took.
    fn wait_offer(&self, sku: &str, limit: Duration, pred: impl Fn(&Value) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            let o = self.offer(sku);
            if pred(&o) {
                return start.elapsed();
            }
            assert!(start.elapsed() < limit, "the offer of {sku} did not change within {limit:?}: {o}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Suggests `sku` (C2) with `ean` (SKUs with one EAN bind to one marketplace SKU) and waits
    /// until its offer shows the fake's price.
    fn suggest_and_quote(&self, sku: &str, ean: &str, price: i64) {
        let r = self.conn.send_suggestion(sku, &suggestion(E, sku, "Acme", "Home/Lamps", ean)).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        self.wait_offer(sku, Duration::from_secs(10), |o| o["price"] == price && o["sellable"] == true);
    }
}

/// `mkt` registers `ext` with `match_mode`; `ext` is an external seller at the fake with the
/// given TTL and refresh period, affiliated to `mkt`; the fake sells `k1` (19.90, 7 units).
fn network(name: &str, match_mode: &str, ttl_minutes: u32, refresh_minutes: u32) -> Net {
    let dir = temp_dir(name);
    let s = Server::start(&dir, &["--vtex", "--public-url", "https://offernet.example", "--outbound-allow-local"]);
    let (m, e) = (create(&s, M), create(&s, E));
    let fake = FakeExternalSeller::start().expect("the fake seller starts");
    fake.expect_credentials(APP_KEY, APP_TOKEN);
    fake.put_sku("k1", SkuOffer::new(1990, 7)).unwrap();
    let conn = fake.connector(client_builder().build().unwrap(), &format!("http://{}", s.addr), M, E, &e);
    let n = Net { s, fake, m, e, conn };
    let integration = json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": n.fake.fulfillment_endpoint(),
        "affiliate_id": "OFN", "quote_ttl_minutes": ttl_minutes, "refresh_minutes": refresh_minutes});
    n.put(&format!("/v1/accounts/{E}/integration"), ADMIN, integration);
    n.put(
        &format!("/v1/accounts/{E}/integration/credentials"),
        ADMIN,
        json!({"app_key": APP_KEY, "app_token": APP_TOKEN}),
    );
    n.put(&format!("/v1/accounts/{E}/affiliations/{M}"), &n.e, json!({"trade_policy": "1"}));
    n.put(&format!("/v1/accounts/{M}/sellers/{E}"), &n.m, json!({"match_mode": match_mode}));
    n
}

fn code(r: &offernet_vtex_testkit::Reply) -> String {
    r.error_code().unwrap_or_default()
}

#[test]
fn c2_a_suggestion_becomes_the_sellers_sku_binds_and_sells_at_the_quoted_price() {
    let n = network("vtex-c2", "auto", 60, 15);
    // SUG's own example: another SellerId, then an EAN without a valid check digit.
    let mut original = json!({"ProductId": "321", "ProductName": "Product sample", "ProductDescription": "sample",
        "BrandName": "Brand 1", "SkuName": "Sku sample", "SellerId": "string", "Height": 1, "Width": 1, "Length": 1,
        "Weight": 1, "Updated": null, "RefId": "REFID123", "CategoryFullPath": "Category 1", "EAN": "EAN123",
        "Images": [{"imageName": "Principal", "imageUrl": "https://i.example/2d96.jpg"}],
        "Pricing": {"Currency": "BRL", "SalePrice": 399, "CurrencySymbol": "R$"}, "AvailableQuantity": 111});
    let r = n.conn.send_suggestion("k1", &original).unwrap();
    assert!(r.status == 400 && code(&r) == "invalid_field" && r.body.contains("SellerId"), "{r:?}");
    original["SellerId"] = json!(E);
    let r = n.conn.send_suggestion("k1", &original).unwrap();
    assert!(r.status == 400 && r.body.contains("`EAN`"), "{r:?}");
    assert_eq!(n.s.req("GET", "/v1/accounts/ext/skus/k1", Some(&n.e), None).0, 404, "nothing stored");

    // The fake answers its first simulation late, so the offer is seen before its quote.
    n.fake.push_fault(SellerRoute::Simulation, Fault::Delay(Duration::from_millis(1_500)), 1);
    original["EAN"] = json!(GTIN);
    original["CategoryFullPath"] = json!("/Home/Lamps/");
    let r = n.conn.send_suggestion("k1", &original).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let (_, sku) = n.s.req("GET", "/v1/accounts/ext/skus/k1", Some(&n.e), None);
    let want = json!({"name": "Sku sample", "product_id": "321", "brand": "Brand 1", "category": "Home/Lamps",
        "ean": GTIN, "ref_id": "REFID123", "description": "sample", "images": ["https://i.example/2d96.jpg"]});
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&sku[k], v, "{k}: {sku}");
    }
    assert_eq!(sku["dimensions"]["weight_g"], 1, "{sku}");
    let before = n.offer("k1");
    assert_eq!(before["sellable"], false, "{before}");
    let reasons = before["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("no_price")) && reasons.contains(&json!("out_of_stock")), "{before}");
    // After A1: the fake's price and stock.
    n.wait_offer("k1", Duration::from_secs(10), |o| o["sellable"] == true);
    let o = n.offer("k1");
    assert_eq!((&o["price"], &o["quantity"]), (&json!(1990), &json!(7)), "{o}");
    let sim = n.fake.requests().into_iter().find(|r| r.route == SellerRoute::Simulation).unwrap();
    let body = sim.body.unwrap();
    assert_eq!(body["items"], json!([{"id": "k1", "quantity": 1, "seller": E}]));
    assert_eq!((&body["postalCode"], &body["country"]), (&Value::Null, &Value::Null));
    assert_eq!(sim.query.as_deref(), Some("sc=1&affiliateId=OFN"));
    assert_eq!(sim.app_key.as_deref(), Some(APP_KEY));
    let (st, status) = n.s.req("GET", "/v1/accounts/ext/integration/status", Some(ADMIN), None);
    assert!(st == 200 && status["last_quote_fetch_ms"].as_u64().is_some_and(|t| t > 0), "{status}");
    n.fake.assert_conforming();
    n.s.stop();
}

#[test]
fn c1_is_404_in_vtex_words_until_the_marketplace_approves_then_200_and_a_quote() {
    let n = network("vtex-c1", "manual", 60, 15);
    let r = n.conn.send_suggestion("k1", &suggestion(E, "k1", "Acme", "Home", GTIN)).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    for notify in [SellerConnector::change_notification, SellerConnector::change_notification_sku_binding] {
        let r = notify(&n.conn, "k1").unwrap();
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(
            r.json().unwrap()["error"]["message"],
            "Seller StockKeepingUnit k1 not found for this seller id ext"
        );
    }
    let approve = format!("/v1/accounts/{M}/suggestions/{E}/k1/approve");
    let (st, v) = n.s.req("POST", &approve, Some(&n.m), Some(r#"{"sku": "lamp"}"#));
    assert_eq!(st, 200, "{v}");
    let asked = n.fake.count(SellerRoute::Simulation);
    for notify in [SellerConnector::change_notification, SellerConnector::change_notification_sku_binding] {
        let r = notify(&n.conn, "k1").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, ""), "{r:?}");
    }
    assert!(n.fake.wait_for(SellerRoute::Simulation, asked + 1, Duration::from_secs(5)), "an A1 call follows");
    let (_, offers) = n.s.req("GET", &format!("/v1/accounts/{M}/offers/lamp"), Some(&n.m), None);
    assert_eq!(offers["offers"][0]["seller_sku"], "k1", "{offers}");
    // Who may call: E only (403 for another seller's path), with credentials (401).
    let other = n.conn.as_seller("someone");
    assert_eq!(other.change_notification("k1").unwrap().status, 403);
    let anonymous = n.conn.with_credentials(AppCredentials::default());
    assert_eq!(code(&anonymous.change_notification("k1").unwrap()), "unauthorized");
    // A marketplace that has not registered E, and none at all: 404.
    create(&n.s, "m2");
    for market in ["m2", "nobody"] {
        let at = n.fake.connector(client_builder().build().unwrap(), &format!("http://{}", n.s.addr), market, E, &n.e);
        let r = at.change_notification("k1").unwrap();
        assert_eq!((r.status, code(&r)), (404, "not_found".to_string()), "{market}: {r:?}");
        assert_eq!(at.notify_price("k1").unwrap().status, 404, "{market}");
    }
    n.fake.assert_conforming();
    n.s.stop();
}

#[test]
fn c3_c4_notifications_refresh_the_offer_within_a_second_and_coalesce() {
    let n = network("vtex-c3", "auto", 60, 15);
    n.suggest_and_quote("k1", GTIN, 1990);
    // A new price at the fake: the offer shows it within 1 s of the 202.
    n.fake.update_sku("k1", |o| {
        o.price = 2150;
        o.list_price = 2500;
    });
    let r = n.conn.notify_price("k1").unwrap();
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let took = n.wait_offer("k1", Duration::from_secs(5), |o| o["price"] == 2150);
    assert!(took <= Duration::from_secs(1), "fresh within 1 s: {took:?}");
    assert_eq!(n.offer("k1")["list_price"], 2500);
    std::thread::sleep(Duration::from_millis(600)); // past the hold-off of k1's last ask
    n.fake.update_sku("k1", |o| o.stock_balance = 3);
    assert_eq!(n.conn.notify_inventory("k1").unwrap().status, 202);
    let took = n.wait_offer("k1", Duration::from_secs(5), |o| o["quantity"] == 3);
    assert!(took <= Duration::from_secs(1), "fresh within 1 s: {took:?}");
    // Sold out at the fake (stock balance 0): out of stock here.
    std::thread::sleep(Duration::from_millis(600));
    n.fake.update_sku("k1", |o| o.stock_balance = 0);
    assert_eq!(n.conn.notify_inventory("k1").unwrap().status, 202);
    n.wait_offer("k1", Duration::from_secs(5), |o| o["sellable"] == false && o["quantity"] == 0);
    // Gone from the fake's table: absent from its answer, so 0 with the price kept.
    std::thread::sleep(Duration::from_millis(600));
    n.fake.update_sku("k1", |o| o.stock_balance = 4);
    assert_eq!(n.conn.notify_inventory("k1").unwrap().status, 202);
    n.wait_offer("k1", Duration::from_secs(5), |o| o["quantity"] == 4);
    std::thread::sleep(Duration::from_millis(600));
    n.fake.remove_sku("k1");
    assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
    n.wait_offer("k1", Duration::from_secs(5), |o| o["quantity"] == 0 && o["price"] == 2150);
    n.fake.put_sku("k1", SkuOffer::new(2150, 4)).unwrap();

    // 50 notifications of one SKU: at most 2 simulations.
    std::thread::sleep(Duration::from_millis(600));
    let before = n.fake.count(SellerRoute::Simulation);
    for i in 0..50 {
        let r = if i % 2 == 0 { n.conn.notify_price("k1") } else { n.conn.notify_inventory("k1") };
        assert_eq!(r.unwrap().status, 202);
    }
    n.wait_offer("k1", Duration::from_secs(5), |o| o["quantity"] == 4);
    std::thread::sleep(Duration::from_millis(1_500));
    let calls = n.fake.count(SellerRoute::Simulation) - before;
    assert!((1..=2).contains(&calls), "50 notifications made {calls} simulations");

    // Unknown SKU, another seller's path, no credentials.
    let r = n.conn.notify_price("ghost").unwrap();
    assert_eq!((r.status, code(&r)), (404, "not_found".into()), "{r:?}");
    assert_eq!(n.conn.as_seller("someone").notify_price("k1").unwrap().status, 403);
    let anonymous = n.conn.with_credentials(AppCredentials::default());
    assert_eq!(anonymous.notify_inventory("k1").unwrap().status, 401);
    let (_, metrics) = n.s.req("GET", "/metrics", None, None);
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(metrics.contains("\noffernet_vtex_refresh_queue_keys 0\n"), "{metrics}");
    assert!(metrics.contains("\noffernet_vtex_refresh_dropped_total 0\n"), "{metrics}");
    n.fake.assert_conforming();
    n.s.stop();
}

/// A1 hangs past its 2.5 s timeout: nothing changes; once the TTL has passed since the last
/// quote, the offer is `quote_stale`. The TTL is the smallest the integration allows, one
/// minute, and the test waits it out (about 65 s): no clock is faked, the server's expiry
/// ticker submits `ExpireQuotes` as in production.
#[test]
fn a1_a_hanging_seller_changes_nothing_then_its_quote_goes_stale_after_the_ttl() {
    let n = network("vtex-a1-hang", "auto", 1, 1);
    n.suggest_and_quote("k1", GTIN, 1990);
    let quoted = Instant::now();
    n.fake.set_fault(SellerRoute::Simulation, Some(Fault::Delay(Duration::from_secs(3))));
    n.fake.update_sku("k1", |o| o.price = 2500);
    std::thread::sleep(Duration::from_millis(600));
    let asked = n.fake.count(SellerRoute::Simulation);
    assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
    assert!(n.fake.wait_for(SellerRoute::Simulation, asked + 1, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(3_500));
    let o = n.offer("k1");
    assert_eq!((&o["price"], &o["quantity"], &o["sellable"]), (&json!(1990), &json!(7), &json!(true)), "{o}");
    let reasons = |o: &Value| o["reasons"].as_array().cloned().unwrap_or_default();
    n.wait_offer("k1", Duration::from_secs(75), |o| reasons(o).contains(&json!("quote_stale")));
    assert!(quoted.elapsed() >= Duration::from_secs(55), "not stale before its TTL: {:?}", quoted.elapsed());
    let o = n.offer("k1");
    assert_eq!((&o["sellable"], &o["price"]), (&json!(false), &json!(1990)), "the quote is kept: {o}");
    // The seller answers again: fresh, at its new price.
    n.fake.set_fault(SellerRoute::Simulation, None);
    assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
    n.wait_offer("k1", Duration::from_secs(10), |o| o["price"] == 2500 && o["sellable"] == true);
    assert!(!reasons(&n.offer("k1")).contains(&json!("quote_stale")));
    n.fake.assert_conforming();
    n.s.stop();
}

/// Five failed simulations in a row open the seller's circuit: for 30 s (the breaker's default,
/// the one `serve` uses) the fake receives no request, notifications are still accepted; then a
/// probe goes through and, answered, closes it.
#[test]
fn a1_five_failures_open_the_circuit_and_the_seller_is_not_asked_for_30_s() {
    let n = network("vtex-a1-circuit", "auto", 60, 15);
    n.suggest_and_quote("k1", GTIN, 1990);
    n.fake.set_fault(SellerRoute::Simulation, Some(Fault::Status(500)));
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(600));
        let asked = n.fake.count(SellerRoute::Simulation);
        assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
        assert!(n.fake.wait_for(SellerRoute::Simulation, asked + 1, Duration::from_secs(5)));
    }
    let opened = Instant::now();
    let counted = n.fake.count(SellerRoute::Simulation);
    std::thread::sleep(Duration::from_millis(200)); // the fifth answer reaches the breaker
    let (_, status) = n.s.req("GET", "/v1/accounts/ext/integration/status", Some(ADMIN), None);
    assert_eq!(status["circuit"]["state"], "open", "{status}");
    assert_eq!(status["errors"][0]["call"], "quote_simulation", "{status}");
    while opened.elapsed() < Duration::from_secs(29) {
        assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
        std::thread::sleep(Duration::from_millis(700));
        assert_eq!(n.fake.count(SellerRoute::Simulation), counted, "asked while open, at {:?}", opened.elapsed());
    }
    assert_eq!(n.offer("k1")["price"], 1990);
    n.fake.set_fault(SellerRoute::Simulation, None);
    n.fake.update_sku("k1", |o| o.price = 2300);
    let probed = Instant::now();
    while n.fake.count(SellerRoute::Simulation) == counted {
        assert!(probed.elapsed() < Duration::from_secs(15), "no probe after the open time");
        assert_eq!(n.conn.notify_price("k1").unwrap().status, 202);
        std::thread::sleep(Duration::from_millis(600));
    }
    assert!(opened.elapsed() >= Duration::from_secs(30), "probed at {:?}", opened.elapsed());
    n.wait_offer("k1", Duration::from_secs(10), |o| o["price"] == 2300);
    n.fake.assert_conforming();
    n.s.stop();
}

/// The notification-to-offer latency (BENCHMARKS.md): after a price change at the fake, C3 is
/// sent; the time from its 202 until `mkt`'s offer shows the new price (read in a tight loop of
/// GETs). SKUs rotate over 400 so that none waits for its hold-off (a round takes a few ms). Run:
/// `cargo test --release -p offernet --test vtex_market -- --ignored --nocapture latency`
/// (`OFFERNET_BENCH_ROUNDS`, default 500).
#[test]
#[ignore]
fn latency_of_a_price_notification_until_the_offer_shows_it() {
    const SKUS: usize = 400;
    let rounds: usize = std::env::var("OFFERNET_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let n = network("vtex-bench", "auto", 60, 60);
    for i in 0..SKUS {
        n.fake.put_sku(&format!("b{i}"), SkuOffer::new(1_000, 5)).unwrap();
        n.suggest_and_quote(&format!("b{i}"), "", 1_000);
    }
    let mut took = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let (sku, price) = (format!("b{}", r % SKUS), 2_000 + r as i64);
        n.fake.update_sku(&sku, |o| o.price = price);
        assert_eq!(n.conn.notify_price(&sku).unwrap().status, 202);
        let start = Instant::now();
        while n.offer(&sku)["price"] != price {
            assert!(start.elapsed() < Duration::from_secs(10), "{sku} never showed {price}");
        }
        took.push(start.elapsed());
    }
    // Baseline in the same run: one simulation of one SKU sent to the fake directly (what
    // offernet's own A1 costs at least), over the same kind of connection.
    let client = client_builder().build().unwrap();
    let url = format!("{}/pvt/orderForms/simulation?sc=1", n.fake.fulfillment_endpoint());
    let mut base = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let body = json!({"items": [{"id": format!("b{}", r % SKUS), "quantity": 1, "seller": E}],
            "postalCode": null, "country": null});
        let start = Instant::now();
        let a = client
            .post(&url)
            .header("x-vtex-api-appkey", APP_KEY)
            .header("x-vtex-api-apptoken", APP_TOKEN)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(a.status(), 200);
        a.text().unwrap();
        base.push(start.elapsed());
    }
    let report = |what: &str, mut v: Vec<Duration>| {
        v.sort();
        let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
        println!("{what} over {rounds}: p50 {:?}, p99 {:?}, max {:?}", at(0.50), at(0.99), v[v.len() - 1]);
    };
    report("notification-to-offer latency (C3 202 until the offer shows the price)", took);
    report("baseline: one simulation sent to the fake directly", base);
    n.fake.assert_conforming();
    n.s.stop();
}
