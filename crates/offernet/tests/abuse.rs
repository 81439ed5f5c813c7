//! Bad input an attacker or a broken client sends, against the real binary: each answer is a
//! refusal in the JSON error shape that changes nothing (issue 9, item 8).

mod common;

use common::*;
use serde_json::{json, Value};

/// A JSON error: `{"error": {"code", "message"}}` with the code given.
fn error(status: u16, body: &str, code: &str) {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    assert_eq!(v["error"]["code"], code, "{status} {v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
}

/// Long on purpose: a list of bad requests against one server, each checked where it is sent.
#[test]
fn bad_requests_are_refused_in_the_json_error_shape() {
    let dir = temp_dir("abuse");
    let s = Server::start(&dir, &[]);
    let t = create(&s, "seller-a");
    let sku = "/v1/accounts/seller-a/skus/shoe-1";
    let (st, v) = s.req("PUT", sku, Some(&t), Some(r#"{"name": "Shoe"}"#));
    assert_eq!(st, 200, "{v}");
    s.req("PUT", "/v1/accounts/seller-a/warehouses/main", Some(&t), Some("{}"));
    let stock = "/v1/accounts/seller-a/warehouses/main/stock/shoe-1";

    // A key given twice: refused, whichever value a parser would keep.
    let (st, body) = s.raw("PUT", stock, Some(&t), Some(r#"{"quantity": 1, "quantity": 1000}"#), &[]);
    assert_eq!(st, 400, "{body}");
    error(st, &body, "invalid_json");
    assert!(body.contains("twice"), "{body}");
    let (st, v) = s.req("GET", "/v1/accounts/seller-a/skus/shoe-1", Some(&t), None);
    assert_eq!((st, v["stock"].as_array().map(Vec::len)), (200, Some(0)), "nothing changed: {v}");

    // The scheme is case-insensitive; two Authorization headers are refused.
    let auth = format!("bearer {t}");
    let (st, body) = s.raw("GET", sku, None, None, &[("Authorization", &auth)]);
    assert_eq!(st, 200, "{body}");
    let (st, body) = s.raw("GET", sku, None, None, &[("Authorization", "BEARER   x.y"), ("Authorization", &auth)]);
    assert_eq!(st, 400, "{body}");
    error(st, &body, "invalid_header");
    let (st, body) = s.raw("GET", sku, None, None, &[("Authorization", &format!("Basic {t}"))]);
    assert_eq!(st, 401, "{body}");
    error(st, &body, "unauthorized");

    // Control characters, bidirectional overrides and invisible-only text in names.
    for name in ["a\u{0}b", "line\r\nX-Injected: 1", "\u{1b}[31mred", "evil\u{202e}gpj.exe", "\u{200b}\u{feff}"] {
        let (st, body) = s.raw("PUT", sku, Some(&t), Some(&json!({"name": name}).to_string()), &[]);
        assert_eq!(st, 400, "{name:?}: {body}");
        error(st, &body, "invalid_field");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "name", "{body}");
    }

    // A path that is not UTF-8, a bad query string: still the JSON shape.
    let (st, body) = s.raw("GET", "/v1/accounts/seller-a/skus/%FF%FE", Some(&t), None, &[]);
    assert_eq!(st, 400, "{body}");
    error(st, &body, "invalid_request");
    let (st, body) = s.raw("GET", "/v1/accounts/seller-a/suggestions?limit=abc", Some(&t), None, &[]);
    assert!(st == 400, "{st} {body}");
    serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{e}: {body}"));

    // A chunked body whose framing is broken: 400 in the JSON shape, not a bare error.
    let req = format!(
        "PUT {stock} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"qua\r\nzz\r\n"
    );
    let (st, body) = raw_request(&s.addr, req.as_bytes());
    assert_eq!(st, 400, "{body}");
    error(st, &body, "invalid_body");

    // Rule 39: the body whole first. The first line names a SKU that does not exist (404),
    // the second has a bad quantity (400): 400 wins.
    let m = create(&s, "marketplace-a");
    let order = json!({"id": "o1", "items": [
        {"sku": "nothing-here", "quantity": 1, "seller": "seller-a"},
        {"sku": "nothing-here", "quantity": 0, "seller": "seller-a"}]});
    let (st, body) = s.raw("POST", "/v1/accounts/marketplace-a/orders", Some(&m), Some(&order.to_string()), &[]);
    assert_eq!(st, 400, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "items[1].quantity", "{body}");
    // The same for the operator on an account that does not exist: the body first.
    let (st, body) = s.raw("PUT", "/v1/accounts/nobody/skus/x", Some(ADMIN), Some(r#"{"name": "a\u0000"}"#), &[]);
    assert_eq!(st, 400, "{body}");
    let (st, body) = s.raw("PUT", "/v1/accounts/nobody/skus/x", Some(ADMIN), Some(r#"{"name": "Hat"}"#), &[]);
    assert_eq!(st, 404, "{body}");
    let (st, body) = s.raw("GET", "/v1/accounts/nobody/skus/x", Some(ADMIN), None, &[]);
    assert_eq!(st, 404, "{body}");
    s.stop();
}

#[test]
fn a_short_operator_token_is_refused_at_startup() {
    let dir = temp_dir("weak-token");
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env("OFFERNET_ADMIN_TOKEN", "  admin.short  ")
        .env("OFFERNET_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32"), "{err}");
}
