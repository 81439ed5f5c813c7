//! The requests the OpenAPI document allows are accepted and the ones it forbids are refused,
//! one test per kind of mismatch that a schemathesis run (scripts/schemathesis.sh) found, so
//! that none comes back unnoticed without it.

mod common;

use common::{create, temp_dir, Server, ADMIN};
use serde_json::{json, Value};

fn server(name: &str, extra: &[&str]) -> Server {
    Server::start(&temp_dir(name), extra)
}

fn put(s: &Server, path: &str, token: &str, body: Value) -> (u16, Value) {
    s.req("PUT", path, Some(token), Some(&body.to_string()))
}

/// A route the document gives a required body refuses a request without one (400
/// `invalid_json`), a PATCH included; an action the document gives no body still takes none.
#[test]
fn a_missing_required_body_is_refused() {
    let s = server("contract-body", &[]);
    let m = create(&s, "mkt");
    create(&s, "sel");
    for (method, path) in [
        ("PUT", "/v1/accounts/mkt/warehouses/w1"),
        ("PUT", "/v1/accounts/mkt/sellers/sel"),
        ("PATCH", "/v1/accounts/mkt/sellers/sel"),
        ("PUT", "/v1/accounts/mkt/skus/s1"),
        ("POST", "/v1/accounts/mkt/suggestions/sel/x/approve"),
    ] {
        let (st, v) = s.req(method, path, Some(&m), None);
        assert_eq!((st, v["error"]["code"].as_str()), (400, Some("invalid_json")), "{method} {path}: {v}");
        let (st, v) = s.req(method, path, Some(&m), Some("  \n"));
        assert_eq!(st, 400, "{method} {path} with a blank body: {v}");
    }
    // `{}` is a body: the warehouse is created with no trade policies.
    assert_eq!(put(&s, "/v1/accounts/mkt/warehouses/w1", &m, json!({})).0, 200);
    // An action without a body is still an action (404: no such order).
    let (st, v) = s.req("POST", "/v1/accounts/mkt/orders/none/cancel", Some(&m), None);
    assert_eq!(st, 404, "{v}");
}

/// serde reads a struct from a JSON array too; the document says object, so an array is
/// refused where an object is expected, at the top and inside.
#[test]
fn an_array_where_an_object_is_expected_is_refused() {
    let s = server("contract-array", &[]);
    let m = create(&s, "mkt");
    let (st, v) = s.req("PUT", "/v1/accounts/mkt/skus/s1", Some(&m), Some(r#"["shoe"]"#));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("invalid_json")), "{v}");
    let body = json!({"items": [["s1", 1, "sel"]]});
    let (st, v) = s.req("POST", "/v1/accounts/mkt/simulation", Some(&m), Some(&body.to_string()));
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"]["field"], "items[0]", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("expected an object, got a list"), "{message}");
    let body = json!({"id": "o1", "items": [["s1", 1, "sel"]]});
    let (st, v) = s.req("POST", "/v1/accounts/mkt/orders", Some(&m), Some(&body.to_string()));
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("items[0]")), "{v}");
}

/// JSON Schema's integer is any whole number, `79.0` too: it is read as 79. A fraction, or a
/// whole number beyond the field's range, is still refused.
#[test]
fn a_whole_number_written_with_a_fraction_is_an_integer() {
    let s = server("contract-integer", &[]);
    let m = create(&s, "mkt");
    assert_eq!(put(&s, "/v1/accounts/mkt/skus/s1", &m, json!({"name": "Shoe"})).0, 200);
    assert_eq!(put(&s, "/v1/accounts/mkt/warehouses/w1", &m, json!({})).0, 200);
    let (st, v) = put(&s, "/v1/accounts/mkt/warehouses/w1/stock/s1", &m, json!({"quantity": 79.0}));
    assert_eq!((st, v["quantity"].as_i64()), (200, Some(79)), "{v}");
    let (st, v) = put(&s, "/v1/accounts/mkt/order-settings", &m, json!({"reservation_minutes": 2119.0}));
    assert_eq!((st, v["reservation_minutes"].as_i64()), (200, Some(2119)), "{v}");
    for bad in [json!(79.5), json!(1e30), json!(-1.0)] {
        let (st, v) = put(&s, "/v1/accounts/mkt/warehouses/w1/stock/s1", &m, json!({"quantity": bad}));
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some("quantity")), "{bad}: {v}");
    }
}

/// The served document states the configured page size as `limit`'s maximum and the unsigned
/// query integers up to `u64::MAX`; the server accepts exactly that.
#[test]
fn query_bounds_are_the_documented_ones() {
    let s = server("contract-query", &["--max-page-size", "50"]);
    create(&s, "mkt");
    let (_, spec) = s.req("GET", "/openapi.json", None, None);
    let params = spec["paths"]["/v1/accounts"]["get"]["parameters"].as_array().unwrap().clone();
    let param = |n: &str| params.iter().find(|p| p["name"] == n).unwrap()["schema"].clone();
    assert_eq!(param("limit")["maximum"], 50);
    assert_eq!(param("offset")["maximum"], json!(u64::MAX));
    assert!(param("offset").get("format").is_none(), "{}", param("offset"));
    let status = |q: &str| s.req("GET", &format!("/v1/accounts?{q}"), Some(ADMIN), None).0;
    assert_eq!(status("limit=50"), 200);
    assert_eq!(status("limit=51"), 400);
    assert_eq!(status(&format!("offset={}", u64::MAX)), 200);
    assert_eq!(status("offset=18446744073709551616"), 400);
}

/// Blank text, a category with an empty segment and an id of dots are refused; the document
/// says so too (its patterns are checked against the engine's checks in offernet-server's
/// tests/request_schemas.rs).
#[test]
fn blank_text_and_dot_ids_are_refused_as_documented() {
    let s = server("contract-text", &[]);
    let m = create(&s, "mkt");
    let (_, spec) = s.req("GET", "/openapi.json", None, None);
    let sku = &spec["components"]["schemas"]["SkuBody"]["properties"];
    assert!(sku["name"]["pattern"].is_string() && sku["brand"]["pattern"].is_string(), "{sku}");
    for (field, value) in [("name", "  "), ("brand", "\u{200B}"), ("category", "a//b"), ("name", "a\nb")] {
        let mut body = json!({"name": "Shoe"});
        body[field] = json!(value);
        let (st, v) = put(&s, "/v1/accounts/mkt/skus/s1", &m, body);
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{field} = {value:?}: {v}");
    }
    let (st, v) = put(&s, "/v1/accounts/mkt/warehouses/w1", &m, json!({"trade_policies": ["..."]}));
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("trade_policies[0]")), "{v}");
}

/// A PATCH takes its own schema: no field required, none `null`; the server refuses `null` and
/// takes any subset of the fields.
#[test]
fn patch_bodies_have_their_own_schema() {
    let s = server("contract-patch", &[]);
    let m = create(&s, "mkt");
    let sel = create(&s, "sel");
    let (_, spec) = s.req("GET", "/openapi.json", None, None);
    let path = &spec["paths"]["/v1/accounts/{s}/affiliations/{m}"];
    let reference = |method: &str| path[method]["requestBody"]["content"]["application/json"]["schema"]["$ref"].clone();
    assert_eq!(reference("put"), "#/components/schemas/AffiliationBody");
    assert_eq!(reference("patch"), "#/components/schemas/AffiliationBodyPatch");
    let patch = &spec["components"]["schemas"]["AffiliationBodyPatch"];
    assert!(patch.get("required").is_none(), "{patch}");
    assert!(!patch["properties"].to_string().contains("null"), "{patch}");
    assert_eq!(spec["components"]["schemas"]["AffiliationBody"]["required"], json!(["trade_policy"]));
    let (st, v) = put(&s, "/v1/accounts/mkt/trade-policies/main", &m, json!({"assortment": "all"}));
    assert_eq!(st, 200, "{v}");
    let (st, v) = put(&s, "/v1/accounts/sel/trade-policies/main", &sel, json!({"assortment": "all"}));
    assert_eq!(st, 200, "{v}");
    let (st, v) = put(&s, "/v1/accounts/sel/affiliations/mkt", &sel, json!({"trade_policy": null}));
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("trade_policy")), "{v}");
    assert_eq!(put(&s, "/v1/accounts/sel/affiliations/mkt", &sel, json!({"trade_policy": "main"})).0, 200);
    let patch = |body: Value| s.req("PATCH", "/v1/accounts/sel/affiliations/mkt", Some(&sel), Some(&body.to_string()));
    assert_eq!(patch(json!({"active": false})).0, 200);
    let (st, v) = patch(json!({"active": null}));
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("active")), "{v}");
}
