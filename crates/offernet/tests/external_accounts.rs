//! Integrations over HTTP with the real binary (vtex-compat.md §3.1): the operator marks an
//! account as an external seller or marketplace; the account reads it; the external seller's
//! prices, its stock at warehouse `vtex` and that warehouse are refused to the account (409
//! `managed_externally`) but not to the operator; bodies are checked whole first (400 before
//! 409); the server's outbound policy applies to the URLs; and the integration survives a
//! restart (snapshot format 4 and replay).

mod common;

use common::*;
use serde_json::{json, Value};

fn seller_body() -> Value {
    json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e.example/api/fulfillment",
        "affiliate_id": "OFN", "quote_ttl_minutes": 30, "refresh_minutes": 10})
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn field(v: &Value) -> &str {
    v["error"]["field"].as_str().unwrap_or("")
}

/// Long on purpose: one account's story, from marked to restarted to ended.
#[test]
fn the_operator_marks_an_external_seller_and_its_prices_and_vtex_stock_are_its_quotes_own() {
    let dir = temp_dir("external-seller");
    let s = Server::start(&dir, &[]);
    let te = create(&s, "e");
    let tm = create(&s, "m");
    let path = "/v1/accounts/e/integration";
    let body = seller_body().to_string();
    assert_eq!(s.req("PUT", path, Some(&te), Some(&body)).0, 403, "the account may not mark itself");
    let (st, v) = s.req("GET", path, Some(&te), None);
    assert_eq!((st, code(&v), field(&v)), (404, "not_found", "a"), "{v}");
    let (st, v) = s.req("PUT", path, Some(ADMIN), Some(&body));
    assert_eq!(st, 200, "{v}");
    let want = json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e.example/api/fulfillment",
        "sales_channel": "1", "affiliate_id": "OFN", "quote_ttl_minutes": 30, "refresh_minutes": 10,
        "follow_up_email": null, "warehouse": "vtex"});
    assert_eq!(v, want);
    assert_eq!(s.req("GET", path, Some(&te), None), (200, want.clone()));
    assert_eq!(s.req("GET", path, Some(&tm), None).0, 403, "another account's integration");
    let (st, v) = s.req("GET", "/v1/accounts/e/warehouses/vtex", Some(&te), None);
    assert_eq!((st, &v["trade_policies"]), (200, &json!(["1"])), "{v}");

    // The account's own writes of its prices and its `vtex` stock are refused; the rest is not.
    let put = |token: &str, p: &str, b: Value| s.req("PUT", p, Some(token), Some(&b.to_string()));
    assert_eq!(put(&te, "/v1/accounts/e/skus/k", json!({"name": "K"})).0, 200);
    assert_eq!(put(&te, "/v1/accounts/e/warehouses/own", json!({})).0, 200);
    let refused = [
        ("/v1/accounts/e/prices/k", json!({"price": 100})),
        ("/v1/accounts/e/warehouses/vtex/stock/k", json!({"quantity": 3})),
        ("/v1/accounts/e/warehouses/vtex", json!({"trade_policies": ["1"]})),
    ];
    for (p, b) in &refused {
        let (st, v) = put(&te, p, b.clone());
        assert_eq!((st, code(&v)), (409, "managed_externally"), "{p}: {v}");
    }
    let (st, v) = s.req("DELETE", "/v1/accounts/e/prices/k?trade_policy=1", Some(&te), None);
    assert_eq!((st, code(&v)), (409, "managed_externally"), "{v}");
    assert_eq!(put(&te, "/v1/accounts/e/warehouses/own/stock/k", json!({"quantity": 3})).0, 200);
    // Rule 39: a bad body is 400 before the state's 409.
    let (st, v) = put(&te, "/v1/accounts/e/prices/k", json!({"price": -1}));
    assert_eq!((st, field(&v)), (400, "price"), "{v}");
    let (st, v) = put(&te, "/v1/accounts/e/warehouses/vtex/stock/k", json!({"quantity": 1, "unlimited": true}));
    assert_eq!((st, field(&v)), (400, "unlimited"), "{v}");
    let lines = "{\"kind\":\"price\",\"sku\":\"k\",\"price\":1}\n";
    let (st, v) =
        s.raw("POST", "/v1/accounts/e/import", Some(&te), Some(lines), &[("content-type", "application/x-ndjson")]);
    assert_eq!(st, 409, "{v}");
    // The operator may (the next quote replaces what it wrote).
    for (p, b) in &refused {
        assert_eq!(put(ADMIN, p, b.clone()).0, 200, "{p}");
    }
    let (_, v) = s.req("GET", "/v1/accounts/e/prices/k", Some(&te), None);
    assert_eq!(v["price"], 100, "{v}");

    // It survives a restart: a snapshot at the graceful stop, then replay of what follows.
    s.stop();
    let s = Server::start(&dir, &[]);
    assert_eq!(s.req("GET", path, Some(&te), None), (200, want.clone()));
    let changed =
        json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e2.example/api/fulfillment"});
    assert_eq!(s.req("PUT", path, Some(ADMIN), Some(&changed.to_string())).0, 200);
    s.kill9();
    let s = Server::start(&dir, &[]);
    let (_, v) = s.req("GET", path, Some(&te), None);
    assert_eq!(v["fulfillment_endpoint"], "https://e2.example/api/fulfillment", "{v}");
    assert_eq!(v["quote_ttl_minutes"], 60, "a PUT replaces the whole integration: {v}");

    // Ended: the account writes its prices again.
    assert_eq!(s.req("DELETE", path, Some(&te), None).0, 403);
    assert_eq!(s.req("DELETE", path, Some(ADMIN), None).0, 204);
    assert_eq!(s.req("GET", path, Some(&te), None).0, 404);
    assert_eq!(s.req("PUT", "/v1/accounts/e/prices/k", Some(&te), Some(r#"{"price": 7}"#)).0, 200);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bodies_currencies_and_urls_are_checked() {
    let dir = temp_dir("external-bodies");
    let s = Server::start(&dir, &[]);
    create(&s, "e");
    let (st, v) = s.req("POST", "/v1/accounts", Some(ADMIN), Some(r#"{"id": "j", "name": "J", "currency": "JPY"}"#));
    assert_eq!(st, 201, "{v}");
    let put =
        |a: &str, b: Value| s.req("PUT", &format!("/v1/accounts/{a}/integration"), Some(ADMIN), Some(&b.to_string()));
    let cases = [
        (json!({"protocol": "vtex", "role": "seller"}), "fulfillment_endpoint"),
        (
            json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "http://e.example/api"}),
            "fulfillment_endpoint",
        ),
        (
            json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://127.0.0.1/api"}),
            "fulfillment_endpoint",
        ),
        (json!({"protocol": "vtex", "role": "marketplace", "api_base": "https://v.example/api"}), "suggestions_base"),
        (
            json!({"protocol": "vtex", "role": "marketplace", "api_base": "https://v.example/api", "suggestions_base": "https://s.example", "affiliate_id": "OFN"}),
            "affiliate_id",
        ),
        (json!({"protocol": "other", "role": "seller"}), "protocol"),
    ];
    for (b, want) in cases {
        let (st, v) = put("e", b.clone());
        assert_eq!((st, code(&v), field(&v)), (400, "invalid_field", want), "{b}: {v}");
    }
    let (st, v) = put(
        "e",
        json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "https://e.example", "extra": 1}),
    );
    assert_eq!(st, 400, "unknown fields are refused: {v}");
    let (st, v) = put("j", seller_body());
    assert_eq!((st, field(&v)), (400, "currency"), "{v}");
    let (st, v) = put("nobody", seller_body());
    assert_eq!((st, field(&v)), (404, "a"), "{v}");
    let marketplace = json!({"protocol": "vtex", "role": "marketplace", "api_base": "https://v.vtexcommercestable.com.br/api",
        "suggestions_base": "https://api.vtex.com/v", "default_dimensions": {"height": 1, "width": 1, "length": 1, "weight_g": 100}});
    let (st, v) = put("e", marketplace.clone());
    assert_eq!((st, &v["default_dimensions"]), (200, &marketplace["default_dimensions"]), "{v}");
    assert_eq!(s.req("PUT", "/v1/accounts/e/prices/x", Some(ADMIN), Some(r#"{"price": 1}"#)).0, 404, "no SKU x");
    s.stop();

    // Where the server allows local destinations, a fake seller on 127.0.0.1 over http is fine.
    let s = Server::start(&dir, &["--outbound-allow-local"]);
    let local =
        json!({"protocol": "vtex", "role": "seller", "fulfillment_endpoint": "http://127.0.0.1:9/api/fulfillment"});
    let (st, v) = s.req("PUT", "/v1/accounts/e/integration", Some(ADMIN), Some(&local.to_string()));
    assert_eq!(st, 200, "{v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// App keys and tokens: stored outside the journal (`secrets.db`, 0600), never answered, one
/// pair for an external seller, one per offernet seller at an external marketplace, removed
/// with the integration.
#[test]
fn credentials_stay_out_of_the_journal_and_out_of_answers() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("external-credentials");
    let s = Server::start(&dir, &[]);
    let te = create(&s, "e");
    create(&s, "v");
    create(&s, "s1");
    let token = "VTEX-TOKEN-that-must-never-be-stored-in-the-journal-0123456789";
    let pair = json!({"app_key": "vtexappkey-e-ABCDEF", "app_token": token}).to_string();
    let creds = "/v1/accounts/e/integration/credentials";
    let (st, v) = s.req("PUT", creds, Some(ADMIN), Some(&pair));
    assert_eq!((st, field(&v)), (404, "a"), "no integration yet: {v}");
    assert_eq!(s.req("PUT", "/v1/accounts/e/integration", Some(ADMIN), Some(&seller_body().to_string())).0, 200);
    assert_eq!(s.req("PUT", creds, Some(&te), Some(&pair)).0, 403, "operator only");
    let (st, v) = s.req("PUT", creds, Some(ADMIN), Some(r#"{"app_key": "k", "app_token": "has space"}"#));
    assert_eq!((st, field(&v)), (400, "app_token"), "{v}");
    let (st, v) = s.req("PUT", creds, Some(ADMIN), Some(&pair));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (&v["app_key"], &v["app_token_set"], v.get("app_token")),
        (&json!("vtexappkey-e-ABCDEF"), &json!(true), None)
    );
    let (st, v) = s.req("GET", creds, Some(&te), None);
    assert_eq!(st, 200, "{v}");
    assert!(!v.to_string().contains(token), "never answered: {v}");
    assert_eq!(v["credentials"][0]["seller"], Value::Null, "{v}");
    assert_eq!(s.req("PUT", "/v1/accounts/e/integration/credentials/s1", Some(ADMIN), Some(&pair)).0, 409);

    // An external marketplace holds one pair per offernet seller.
    let market = json!({"protocol": "vtex", "role": "marketplace", "api_base": "https://v.example/api",
        "suggestions_base": "https://api.vtex.example/v"});
    assert_eq!(s.req("PUT", "/v1/accounts/v/integration", Some(ADMIN), Some(&market.to_string())).0, 200);
    assert_eq!(s.req("PUT", "/v1/accounts/v/integration/credentials", Some(ADMIN), Some(&pair)).0, 409);
    let (st, v) = s.req("PUT", "/v1/accounts/v/integration/credentials/ghost", Some(ADMIN), Some(&pair));
    assert_eq!((st, field(&v)), (404, "s"), "{v}");
    assert_eq!(s.req("PUT", "/v1/accounts/v/integration/credentials/s1", Some(ADMIN), Some(&pair)).0, 200);
    let (_, v) = s.req("GET", "/v1/accounts/v/integration/credentials", Some(ADMIN), None);
    assert_eq!(v["credentials"][0]["seller"], "s1", "{v}");

    assert_eq!(s.req("DELETE", "/v1/accounts/e/integration", Some(ADMIN), None).0, 204);
    s.stop();
    let secrets = dir.join("secrets.db");
    assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("secrets.db") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the token is in {name}");
    }
    let s = Server::start(&dir, &[]);
    let (_, v) = s.req("GET", "/v1/accounts/v/integration/credentials", Some(ADMIN), None);
    assert_eq!(v["credentials"].as_array().map(Vec::len), Some(1), "kept across a restart: {v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
