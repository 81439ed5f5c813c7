//! The HTTP API with the real binary on port 0: the documents' example end to end (as a user
//! would send it with curl), live events, tenant isolation, bad input, and restarts.

mod common;

use common::*;
use serde_json::{json, Value};

struct Net {
    tokens: std::collections::HashMap<String, String>,
}

fn ok(s: &Server, method: &str, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = s.req(method, path, Some(token), Some(&body.to_string()));
    assert!(st == 200 || st == 201 || st == 204, "{method} {path} {body}: {st} {v}");
    v
}

/// The documents' example up to Seller A's authorisation; returns the tokens.
fn example(s: &Server) -> Net {
    let mut tokens = std::collections::HashMap::new();
    for id in ["seller-a", "marketplace-a", "marketplace-b"] {
        tokens.insert(id.to_string(), create(s, id));
    }
    let t = |a: &str| tokens[a].clone();
    ok(
        s,
        "PUT",
        "/v1/accounts/seller-a/skus/shoe-1",
        &t("seller-a"),
        json!({"name": "Running shoe", "brand": "Acme", "ean": "4006381333931"}),
    );
    ok(s, "PUT", "/v1/accounts/seller-a/prices/shoe-1", &t("seller-a"), json!({"price": 10000, "list_price": 12000}));
    ok(s, "PUT", "/v1/accounts/seller-a/warehouses/main", &t("seller-a"), json!({"trade_policies": ["1"]}));
    ok(s, "PUT", "/v1/accounts/seller-a/warehouses/main/stock/shoe-1", &t("seller-a"), json!({"quantity": 10}));
    ok(s, "PUT", "/v1/accounts/seller-a/affiliations/marketplace-a", &t("seller-a"), json!({"trade_policy": "1"}));
    ok(s, "PUT", "/v1/accounts/marketplace-a/sellers/seller-a", &t("marketplace-a"), json!({"match_mode": "auto"}));
    ok(s, "PUT", "/v1/accounts/marketplace-a/prices/seller-a-shoe-1", &t("marketplace-a"), json!({"price": 11000}));
    ok(
        s,
        "PUT",
        "/v1/accounts/marketplace-a/affiliations/marketplace-b",
        &t("marketplace-a"),
        json!({"trade_policy": "1"}),
    );
    ok(s, "PUT", "/v1/accounts/marketplace-b/sellers/marketplace-a", &t("marketplace-b"), json!({}));
    Net { tokens }
}

/// Long on purpose: the documents' example is one story, stage after stage, with restarts.
#[test]
fn the_documents_example_over_http() {
    let dir = temp_dir("example");
    let s = Server::start(&dir, &[]);
    let net = example(&s);
    let t = |a: &str| net.tokens[a].clone();
    // Stage 1: Marketplace A holds none: nothing is sent to B.
    let (_, v) = s.req("GET", "/v1/accounts/marketplace-b/suggestions", Some(&t("marketplace-b")), None);
    assert_eq!(v["suggestions"], json!([]), "{v}");
    let (_, v) = s.req(
        "GET",
        "/v1/accounts/marketplace-a/sent-offers?marketplace=marketplace-b",
        Some(&t("marketplace-a")),
        None,
    );
    assert_eq!(v["sent_offers"][0]["reasons"], json!(["forwarder_has_no_own_stock", "resale_not_authorized"]), "{v}");
    // Stage 2: A stocks 3: B sees 3.
    ok(&s, "PUT", "/v1/accounts/marketplace-a/warehouses/store", &t("marketplace-a"), json!({}));
    ok(
        &s,
        "PUT",
        "/v1/accounts/marketplace-a/warehouses/store/stock/seller-a-shoe-1",
        &t("marketplace-a"),
        json!({"quantity": 3}),
    );
    let sku_b = "marketplace-a-seller-a-shoe-1";
    let (st, v) = s.req("GET", &format!("/v1/accounts/marketplace-b/offers/{sku_b}"), Some(&t("marketplace-b")), None);
    assert_eq!(st, 200);
    assert_eq!(
        (v["offers"][0]["quantity"].clone(), v["offers"][0]["sellable"].clone()),
        (json!(3), json!(true)),
        "{v}"
    );
    // Live events at B: subscribe, then Seller A authorises resale: B's offer becomes 13.
    let mut stream = s.stream("/v1/accounts/marketplace-b/events?after=0", &t("marketplace-b"));
    ok(
        &s,
        "PATCH",
        "/v1/accounts/seller-a/affiliations/marketplace-a",
        &t("seller-a"),
        json!({"resale": ["marketplace-b"]}),
    );
    let ev = read_until(&mut stream, |e| e["type"] == "offer.changed" && e["offer"]["quantity"] == 13);
    assert_eq!(ev["account"], "marketplace-b");
    let (_, v) =
        s.req("GET", &format!("/v1/accounts/marketplace-b/offers/{sku_b}/explain"), Some(&t("marketplace-b")), None);
    assert_eq!(v["offers"][0]["path"]["own"], 3, "{v}");
    assert_eq!(v["offers"][0]["path"]["sources"][0]["account"], "seller-a", "{v}");
    assert_eq!(v["offers"][0]["path"]["sources"][0]["included"], true, "{v}");
    // Stage 4: require_own_stock = false and A sells out: B sees Seller A's 10.
    ok(
        &s,
        "PUT",
        "/v1/accounts/marketplace-a/warehouses/store/stock/seller-a-shoe-1",
        &t("marketplace-a"),
        json!({"quantity": 0}),
    );
    ok(
        &s,
        "PATCH",
        "/v1/accounts/marketplace-a/affiliations/marketplace-b",
        &t("marketplace-a"),
        json!({"require_own_stock": false}),
    );
    let (_, v) = s.req("GET", "/v1/accounts/marketplace-b/offers?sellable=true", Some(&t("marketplace-b")), None);
    assert_eq!(v["offers"][0]["quantity"], 10, "{v}");
    // Events as JSON, resumable from a sequence number; only B's own.
    let (_, v) = s.req("GET", "/v1/accounts/marketplace-b/events?after=0", Some(&t("marketplace-b")), None);
    let evs = v["events"].as_array().unwrap();
    assert!(evs.iter().all(|e| e["account"] == "marketplace-b"));
    let mid = evs[1]["seq"].as_u64().unwrap();
    let (_, w) =
        s.req("GET", &format!("/v1/accounts/marketplace-b/events?after={mid}"), Some(&t("marketplace-b")), None);
    assert!(w["events"].as_array().unwrap().iter().all(|e| e["seq"].as_u64().unwrap() > mid));
    // The spec and the operational routes.
    let (st, spec) = s.req("GET", "/openapi.json", None, None);
    assert_eq!(st, 200);
    assert!(spec["paths"]["/v1/accounts/{m}/offers/{sku}/explain"]["get"].is_object());
    let (st, text) = s.raw("GET", "/metrics", None, None, &[]);
    assert_eq!(st, 200);
    assert!(
        text.contains("offernet_offers_changed_total")
            && text.contains("offernet_http_request_duration_seconds_bucket")
    );
    // Restart (graceful) keeps everything; so does kill -9.
    s.stop();
    let s = Server::start(&dir, &[]);
    let (_, v) = s.req("GET", &format!("/v1/accounts/marketplace-b/offers/{sku_b}"), Some(&t("marketplace-b")), None);
    assert_eq!(v["offers"][0]["quantity"], 10, "after a graceful restart: {v}");
    let before = s.req("GET", "/healthz", None, None).1["event_seq"].as_u64().unwrap();
    ok(&s, "PUT", "/v1/accounts/seller-a/warehouses/main/stock/shoe-1", &t("seller-a"), json!({"quantity": 6}));
    s.kill9();
    let s = Server::start(&dir, &[]);
    let (_, v) = s.req("GET", &format!("/v1/accounts/marketplace-b/offers/{sku_b}"), Some(&t("marketplace-b")), None);
    assert_eq!(v["offers"][0]["quantity"], 6, "after kill -9: {v}");
    // The events of the replayed commands are there again: a client resumes where it was.
    let (st, v) =
        s.req("GET", &format!("/v1/accounts/marketplace-b/events?after={before}"), Some(&t("marketplace-b")), None);
    assert_eq!(st, 200, "{v}");
    assert!(
        v["events"].as_array().unwrap().iter().any(|e| e["type"] == "offer.changed" && e["offer"]["quantity"] == 6),
        "{v}"
    );
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_write_route_refuses_other_tenants() {
    let dir = temp_dir("tenants");
    let s = Server::start(&dir, &[]);
    let net = example(&s);
    let other = create(&s, "mallory");
    let writes: Vec<(&str, &str, Value)> = vec![
        ("PUT", "/v1/accounts/seller-a/skus/x", json!({"name": "X"})),
        ("PUT", "/v1/accounts/seller-a/trade-policies/t", json!({"assortment": "all"})),
        ("PUT", "/v1/accounts/seller-a/warehouses/w2", json!({})),
        ("PUT", "/v1/accounts/seller-a/warehouses/main/stock/shoe-1", json!({"quantity": 0})),
        ("PUT", "/v1/accounts/seller-a/prices/shoe-1", json!({"price": 1})),
        ("DELETE", "/v1/accounts/seller-a/prices/shoe-1?trade_policy=1", json!(null)),
        ("PUT", "/v1/accounts/seller-a/affiliations/marketplace-a", json!({"trade_policy": "1", "active": false})),
        ("PATCH", "/v1/accounts/seller-a/affiliations/marketplace-a", json!({"active": false})),
        ("DELETE", "/v1/accounts/seller-a/affiliations/marketplace-a", json!(null)),
        ("PUT", "/v1/accounts/marketplace-a/sellers/seller-a", json!({"active": false})),
        ("PATCH", "/v1/accounts/marketplace-a/sellers/seller-a", json!({"active": false})),
        ("DELETE", "/v1/accounts/marketplace-a/sellers/seller-a", json!(null)),
        ("POST", "/v1/accounts/marketplace-a/suggestions/seller-a/shoe-1/approve", json!({})),
        ("POST", "/v1/accounts/marketplace-a/suggestions/seller-a/shoe-1/deny", json!({})),
        ("POST", "/v1/accounts", json!({"id": "evil", "name": "E", "currency": "BRL"})),
    ];
    let before =
        s.req("GET", "/v1/accounts/marketplace-a/offers/seller-a-shoe-1", Some(&net.tokens["marketplace-a"]), None).1;
    let seq = s.req("GET", "/healthz", None, None).1["journal_seq"].clone();
    for (m, p, b) in &writes {
        let body = if b.is_null() { None } else { Some(b.to_string()) };
        let (st, v) = s.req(m, p, None, body.as_deref());
        assert_eq!((st, v["error"]["code"].clone()), (401, json!("unauthorized")), "{m} {p} without a token");
        let (st, _) = s.req(m, p, Some("seller-a.not-the-token"), body.as_deref());
        assert_eq!(st, 401, "{m} {p} with a wrong token");
        let (st, v) = s.req(m, p, Some(&other), body.as_deref());
        assert_eq!((st, v["error"]["code"].clone()), (403, json!("forbidden")), "{m} {p} with another account's token");
    }
    // Reads are limited too: a seller cannot read a marketplace's offers.
    let (st, _) = s.req("GET", "/v1/accounts/marketplace-a/offers", Some(&net.tokens["seller-a"]), None);
    assert_eq!(st, 403);
    let (st, _) = s.req("GET", "/v1/accounts/marketplace-a/events", Some(&net.tokens["seller-a"]), None);
    assert_eq!(st, 403);
    let after =
        s.req("GET", "/v1/accounts/marketplace-a/offers/seller-a-shoe-1", Some(&net.tokens["marketplace-a"]), None).1;
    assert_eq!(before, after, "refused requests changed nothing");
    assert_eq!(s.req("GET", "/healthz", None, None).1["journal_seq"], seq, "nothing refused was journaled");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Long on purpose: mostly a table of bad requests and the answer each must get.
#[test]
fn bad_input_is_refused_with_a_code_naming_the_field() {
    let dir = temp_dir("bad");
    let s = Server::start(&dir, &["--body-limit-bytes", "2000"]);
    let t = create(&s, "s");
    // (method, path, body, status, code, field)
    type Case<'a> = (&'a str, &'a str, String, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("PUT", "/v1/accounts/s/skus/a", "{not json".into(), 400, "invalid_json", None),
        ("PUT", "/v1/accounts/s/skus/a", "[1,2]".into(), 400, "invalid_json", None),
        ("PUT", "/v1/accounts/s/skus/a", json!({"name": 5}).to_string(), 400, "invalid_field", Some("name")),
        (
            "PUT",
            "/v1/accounts/s/skus/a",
            json!({"name": "A", "colour": "red"}).to_string(),
            400,
            "invalid_field",
            Some("colour"),
        ),
        (
            "PUT",
            "/v1/accounts/s/skus/a",
            json!({"name": "A", "ean": "123"}).to_string(),
            400,
            "invalid_field",
            Some("ean"),
        ),
        ("PUT", "/v1/accounts/s/skus/a", json!({"name": " "}).to_string(), 400, "invalid_field", Some("name")),
        ("PUT", "/v1/accounts/s/skus/a%2Fb", json!({"name": "A"}).to_string(), 400, "invalid_field", Some("sku")),
        ("PUT", "/v1/accounts/s/skus/a", json!({"name": "x".repeat(3000)}).to_string(), 413, "body_too_large", None),
        ("PUT", "/v1/accounts/s/warehouses/w/stock/a", json!({"quantity": 1}).to_string(), 404, "not_found", None),
        ("PUT", "/v1/accounts/s/prices/a", json!({"price": 1}).to_string(), 404, "not_found", None),
        ("GET", "/v1/accounts/s/offers?limit=100000", String::new(), 400, "invalid_field", Some("limit")),
        ("GET", "/v1/nowhere", String::new(), 404, "not_found", None),
    ];
    for (m, p, body, status, code, field) in cases {
        let (st, v) = s.req(m, p, Some(&t), if body.is_empty() { None } else { Some(&body) });
        assert_eq!((st, v["error"]["code"].as_str()), (status, Some(code)), "{m} {p} {body}: {v}");
        if let Some(f) = field {
            assert_eq!(v["error"]["field"], f, "{m} {p}: {v}");
        }
    }
    ok(&s, "PUT", "/v1/accounts/s/skus/a", &t, json!({"name": "A"}));
    ok(&s, "PUT", "/v1/accounts/s/warehouses/w", &t, json!({}));
    let more: Vec<(Value, &str)> = vec![
        (json!({"quantity": -1}), "quantity"),
        (json!({"quantity": 1e30}), "quantity"),
        (json!({"quantity": "5"}), "quantity"),
        (json!({"quantity": 1.5}), "quantity"),
    ];
    for (b, f) in more {
        let (st, v) = s.req("PUT", "/v1/accounts/s/warehouses/w/stock/a", Some(&t), Some(&b.to_string()));
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(f)), "{b}: {v}");
    }
    let m = create(&s, "m");
    ok(&s, "PUT", "/v1/accounts/s/affiliations/m", &t, json!({"trade_policy": "1"}));
    let (st, v) = s.req("PATCH", "/v1/accounts/s/affiliations/m", Some(&t), Some(&json!({"active": null}).to_string()));
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("active")), "{v}");
    let (st, v) =
        s.req("PUT", "/v1/accounts/s/affiliations/s", Some(&t), Some(&json!({"trade_policy": "1"}).to_string()));
    assert_eq!(st, 400, "a connection to oneself: {v}");
    let (st, _) =
        s.req("PUT", "/v1/accounts/m/sellers/s", Some(&m), Some(&json!({"commission_bp": 10001}).to_string()));
    assert_eq!(st, 400);
    let (st, v) = s.req(
        "POST",
        "/v1/accounts",
        Some(ADMIN),
        Some(&json!({"id": "s", "name": "S", "currency": "BRL"}).to_string()),
    );
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("conflict")));
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
