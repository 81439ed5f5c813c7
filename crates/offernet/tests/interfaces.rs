//! What HTTP clients expect beyond the routes (issue 12, item 8), against the real server:
//! CORS for configured origins only, Retry-After on 429 and 503, ETag and If-None-Match on
//! offer reads, WWW-Authenticate and distinct messages on 401, type errors in plain words, and
//! a field on every 404 naming what was not found.

mod common;

use std::time::Duration;

use common::*;
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

/// A client whose answers keep their headers.
struct Call {
    client: Client,
    base: String,
}

impl Call {
    fn new(s: &Server) -> Call {
        let client = common::client_builder().timeout(Duration::from_secs(30)).build().unwrap();
        Call { client, base: format!("http://{}", s.addr) }
    }

    /// (status, headers, body as JSON or null when empty).
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        let mut r = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.header("Content-Type", "application/json").body(b.to_string());
        }
        let resp = r.send().unwrap();
        let (status, h) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().unwrap();
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        (status, h, v)
    }

    fn ok(&self, method: &str, path: &str, body: Value) {
        let (st, _, v) = self.send(method, path, Some(ADMIN), Some(body), &[]);
        assert!(st == 200 || st == 201, "{method} {path}: {st} {v}");
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

/// Seller `s` sells `shoe` (10 in stock) to marketplace `m`, where it is `s-shoe`.
fn network(c: &Call) {
    for id in ["s", "m"] {
        c.ok("POST", "/v1/accounts", json!({"id": id, "name": id, "currency": "BRL"}));
    }
    c.ok("PUT", "/v1/accounts/s/skus/shoe", json!({"name": "Shoe"}));
    c.ok("PUT", "/v1/accounts/s/prices/shoe", json!({"price": 10000}));
    c.ok("PUT", "/v1/accounts/s/warehouses/main", json!({"trade_policies": ["1"]}));
    c.ok("PUT", "/v1/accounts/s/warehouses/main/stock/shoe", json!({"quantity": 10}));
    c.ok("PUT", "/v1/accounts/s/affiliations/m", json!({"trade_policy": "1"}));
    c.ok("PUT", "/v1/accounts/m/sellers/s", json!({"match_mode": "auto"}));
}

const ORIGIN: &str = "https://shop.example";

fn preflight(c: &Call, origin: &str) -> (u16, HeaderMap) {
    let (st, h, _) = c.send(
        "OPTIONS",
        "/v1/accounts/m/offers",
        None,
        None,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "PATCH"),
            ("Access-Control-Request-Headers", "authorization, content-type, if-none-match"),
        ],
    );
    (st, h)
}

#[test]
fn cors_answers_configured_origins_only() {
    let dir = temp_dir("cors");
    let s = Server::start(&dir, &["--cors-origins", &format!("{ORIGIN},http://127.0.0.1:3000")]);
    let c = Call::new(&s);
    network(&c);
    let (st, h) = preflight(&c, ORIGIN);
    assert_eq!(st, 200, "{h:?}");
    assert_eq!(header(&h, "access-control-allow-origin"), Some(ORIGIN));
    let methods = header(&h, "access-control-allow-methods").unwrap().to_ascii_uppercase();
    for m in ["GET", "PUT", "PATCH", "POST", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&h, "access-control-allow-headers").unwrap().to_ascii_lowercase();
    for x in ["authorization", "content-type", "last-event-id", "if-none-match"] {
        assert!(allowed.contains(x), "{allowed}");
    }
    // A real request from the origin: allowed, with the headers a page may read.
    let (st, h, _) = c.send("GET", "/v1/accounts/m/offers", Some(ADMIN), None, &[("Origin", ORIGIN)]);
    assert_eq!(st, 200);
    assert_eq!(header(&h, "access-control-allow-origin"), Some(ORIGIN));
    let exposed = header(&h, "access-control-expose-headers").unwrap().to_ascii_lowercase();
    for x in ["etag", "retry-after", "x-request-id"] {
        assert!(exposed.contains(x), "{exposed}");
    }
    // Errors carry it too (a page must be able to read a 401).
    let (st, h, _) = c.send("GET", "/v1/accounts/m/offers", None, None, &[("Origin", ORIGIN)]);
    assert_eq!((st, header(&h, "access-control-allow-origin")), (401, Some(ORIGIN)));
    // Another origin is not allowed.
    let (_, h) = preflight(&c, "https://evil.example");
    assert_eq!(header(&h, "access-control-allow-origin"), None);
    s.stop();

    // Without the setting: no CORS header at all, and no preflight answer.
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    let (st, h) = preflight(&c, ORIGIN);
    assert_ne!(st, 200, "no preflight answer without configured origins");
    assert!(h.keys().all(|k| !k.as_str().starts_with("access-control-")), "{h:?}");
    let (_, h, _) = c.send("GET", "/v1/accounts/m/offers", Some(ADMIN), None, &[("Origin", ORIGIN)]);
    assert!(h.keys().all(|k| !k.as_str().starts_with("access-control-")), "{h:?}");
    s.stop();
}

#[test]
fn a_bad_cors_origin_is_refused_at_startup() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "--cors-origins", "https://shop.example/", "--print-config"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an origin"), "{out:?}");
}

#[test]
fn etag_and_if_none_match_on_offer_reads() {
    let dir = temp_dir("etag");
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    network(&c);
    let reads = [
        "/v1/accounts/m/offers",
        "/v1/accounts/m/offers/s-shoe",
        "/v1/accounts/m/offers/s-shoe/explain",
        "/v1/accounts/s/sent-offers",
    ];
    let mut tags = Vec::new();
    for path in reads {
        let (st, h, v) = c.send("GET", path, Some(ADMIN), None, &[]);
        assert_eq!(st, 200, "{path}: {v}");
        let tag = header(&h, "etag").unwrap_or_else(|| panic!("{path}: no ETag")).to_string();
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() > 10, "a strong tag: {tag}");
        // The same answer, the same tag.
        let (_, h2, _) = c.send("GET", path, Some(ADMIN), None, &[]);
        assert_eq!(header(&h2, "etag"), Some(tag.as_str()), "{path}");
        // Matching tags (alone, in a list, weak, or `*`): 304 with the tag and no body.
        for inm in [tag.clone(), format!("\"nope\", W/{tag}"), "*".to_string()] {
            let (st, h, v) = c.send("GET", path, Some(ADMIN), None, &[("If-None-Match", &inm)]);
            assert_eq!((st, &v), (304, &Value::Null), "{path} If-None-Match: {inm}");
            assert_eq!(header(&h, "etag"), Some(tag.as_str()));
        }
        let (st, _, v) = c.send("GET", path, Some(ADMIN), None, &[("If-None-Match", "\"nope\"")]);
        assert_eq!(st, 200, "{path}: {v}");
        tags.push(tag);
    }
    // A stock change changes the answers and so their tags: the old tag gets 200 again.
    c.ok("PUT", "/v1/accounts/s/warehouses/main/stock/shoe", json!({"quantity": 7}));
    for (path, old) in reads.iter().zip(&tags) {
        let (st, h, v) = c.send("GET", path, Some(ADMIN), None, &[("If-None-Match", old)]);
        assert_eq!(st, 200, "{path}: {v}");
        assert_ne!(header(&h, "etag"), Some(old.as_str()), "{path}: {v}");
    }
    s.stop();
}

#[test]
fn unauthorized_says_why_with_a_bearer_challenge() {
    let dir = temp_dir("www-auth");
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    network(&c);
    let path = "/v1/accounts/m/offers";
    // (headers, what the message says, the challenge's error code)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<&'a str>);
    let cases: [Case; 5] = [
        (&[], "none was sent", None),
        (&[("Authorization", "Basic dXNlcjpwYXNz")], "not of the form `Bearer <token>`", Some("invalid_request")),
        (&[("Authorization", "Bearer")], "not of the form `Bearer <token>`", Some("invalid_request")),
        (&[("Authorization", "Bearer m.0000")], "the bearer token is not valid", Some("invalid_token")),
        (&[("Authorization", "Bearer nodot")], "the bearer token is not valid", Some("invalid_token")),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (headers, says, error) in cases {
        let (st, h, v) = c.send("GET", path, None, None, headers);
        assert_eq!((st, &v["error"]["code"]), (401, &json!("unauthorized")), "{headers:?}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{headers:?}: {msg}");
        let challenge = header(&h, "www-authenticate").unwrap_or_else(|| panic!("{headers:?}: no WWW-Authenticate"));
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        match error {
            Some(e) => assert!(challenge.contains(&format!("error=\"{e}\"")), "{challenge}"),
            None => assert!(!challenge.contains("error="), "{challenge}"),
        }
        messages.insert(msg.to_string());
    }
    assert_eq!(messages.len(), 3, "three distinct messages: {messages:?}");
    s.stop();
}

#[test]
fn type_errors_name_no_rust_type() {
    let dir = temp_dir("types");
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    network(&c);
    let rust =
        ["i64", "u64", "u32", "u16", "u8", "usize", "bool", "Vec", "Option", "struct", "enum", "sequence", "map"];
    let cases = [
        (
            "PUT",
            "/v1/accounts/s/warehouses/main/stock/shoe",
            json!({"quantity": "ten"}),
            "quantity",
            "expected a whole number",
        ),
        ("PUT", "/v1/accounts/s/prices/shoe", json!({"price": 1.5}), "price", "expected a whole number"),
        (
            "PUT",
            "/v1/accounts/s/skus/shoe",
            json!({"name": "Shoe", "active": "yes"}),
            "active",
            "expected true or false",
        ),
        ("PUT", "/v1/accounts/s/skus/shoe", json!({"name": 5}), "name", "expected text"),
        ("PUT", "/v1/accounts/s/warehouses/main", json!({"trade_policies": "1"}), "trade_policies", "expected a list"),
        ("PUT", "/v1/accounts/s/trade-policies/1", json!({"assortment": 5}), "assortment", "a list of ids"),
        ("POST", "/v1/accounts/m/simulation", json!({"items": [7]}), "items[0]", "expected an object"),
        ("POST", "/v1/accounts/m/simulation", json!({"items": [{"sku": "s-shoe", "quantity": -1}]}), "", ""),
    ];
    for (method, path, body, field, says) in cases {
        let (st, _, v) = c.send(method, path, Some(ADMIN), Some(body.clone()), &[]);
        assert_eq!(st, 400, "{path} {body}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        for t in rust {
            assert!(!msg.contains(t), "{path} {body}: `{t}` in {msg}");
        }
        if !field.is_empty() {
            assert_eq!(v["error"]["field"], json!(field), "{path} {body}: {v}");
            assert!(msg.contains(says), "{path} {body}: {msg}");
        }
    }
    s.stop();
}

#[test]
fn every_not_found_names_its_field() {
    let dir = temp_dir("404-field");
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    network(&c);
    c.ok("PUT", "/v1/accounts/s/trade-policies/2", json!({"assortment": "all"}));
    let q = json!({"quantity": 1});
    let cases = [
        ("GET", "/v1/accounts/nobody", None, "a"),
        ("GET", "/v1/accounts/nobody/skus/shoe", None, "a"),
        ("GET", "/v1/accounts/s/skus/nope", None, "sku"),
        ("PUT", "/v1/accounts/s/warehouses/nope/stock/shoe", Some(q.clone()), "w"),
        ("PUT", "/v1/accounts/s/warehouses/main/stock/nope", Some(q), "sku"),
        ("GET", "/v1/accounts/s/warehouses/nope", None, "w"),
        ("GET", "/v1/accounts/s/trade-policies/nope", None, "tp"),
        ("GET", "/v1/accounts/m/offers/nope", None, "sku"),
        ("GET", "/v1/accounts/m/offers/nope/explain", None, "sku"),
        ("GET", "/v1/accounts/s/affiliations/nobody", None, "m"),
        ("GET", "/v1/accounts/m/sellers/m", None, "s"),
        ("DELETE", "/v1/accounts/s/affiliations/m2", None, "m"),
        ("GET", "/v1/accounts/m/orders/nope", None, "id"),
        ("POST", "/v1/accounts/m/orders/nope/authorize", None, "id"),
        ("POST", "/v1/accounts/m/suggestions/s/nope/deny", None, "seller_sku"),
        ("DELETE", "/v1/accounts/s/prices/shoe?trade_policy=2", None, "trade_policy"),
        (
            "POST",
            "/v1/accounts/m/orders",
            Some(
                json!({"id": "o1", "items": [{"sku": "s-shoe", "quantity": 1, "seller": "s"}, {"sku": "nope", "quantity": 1, "seller": "s"}]}),
            ),
            "items[1].sku",
        ),
        ("POST", "/v1/accounts/m/simulation", Some(json!({"items": [{"sku": "nope", "quantity": 1}]})), "items[0].sku"),
        (
            "POST",
            "/v1/accounts/m/orders",
            Some(json!({"id": "o2", "items": [{"sku": "s-shoe", "quantity": 1, "seller": "m"}]})),
            "items[0].seller",
        ),
        (
            "POST",
            "/v1/accounts/m/orders",
            Some(json!({"id": "o3", "items": [{"sku": "s-shoe", "quantity": 1, "seller": "nobody"}]})),
            "items[0].seller",
        ),
        ("POST", "/v1/accounts/s/orders/nope/invoice", None, "id"),
        ("POST", "/v1/accounts/s/orders/nope/cancel", None, "id"),
        ("PATCH", "/v1/accounts/m/sellers/nobody", None, "s"),
        ("PATCH", "/v1/accounts/m/affiliations/s", None, "m"),
        ("GET", "/v1/accounts/nobody/events", None, "a"),
        ("PUT", "/v1/accounts/nobody/order-settings", Some(json!({"reservation_minutes": 5})), "m"),
        ("PUT", "/v1/accounts/nobody/skus/x", Some(json!({"name": "X"})), "a"),
        ("POST", "/v1/accounts/m/suggestions/nobody/shoe/approve", None, "s"),
        ("POST", "/v1/accounts/m/suggestions/s/nope/approve", None, "seller_sku"),
    ];
    for (method, path, body, field) in cases {
        let body = body.or((method != "GET").then(|| json!({})));
        let (st, _, v) = c.send(method, path, Some(ADMIN), body, &[]);
        assert_eq!((st, &v["error"]["code"]), (404, &json!("not_found")), "{method} {path}: {v}");
        assert_eq!(v["error"]["field"], json!(field), "{method} {path}: {v}");
    }
    s.stop();
}

#[test]
fn retry_after_on_429_and_503() {
    let dir = temp_dir("retry-after");
    // One stream per account; a queue of one command, so that concurrent writes overflow it.
    let s = Server::start(&dir, &["--max-streams-per-account", "1", "--queue-depth", "1", "--max-batch", "1"]);
    let c = Call::new(&s);
    network(&c);
    let _open = s.stream("/v1/accounts/m/events?after=0", ADMIN);
    let (st, h, v) =
        c.send("GET", "/v1/accounts/m/events?after=0", Some(ADMIN), None, &[("Accept", "text/event-stream")]);
    assert_eq!((st, &v["error"]["code"]), (429, &json!("too_many_streams")), "{v}");
    assert!(header(&h, "retry-after").is_some_and(|r| r.parse::<u32>().is_ok()), "{h:?}");
    // Many writers at once against a queue of one: some are told `busy`, each with Retry-After.
    let mut busy = None;
    for round in 0..20 {
        let answers: Vec<(u16, Option<String>, Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|i| {
                    let c = &c;
                    scope.spawn(move || {
                        let body = json!({"quantity": round * 100 + i});
                        let (st, h, v) =
                            c.send("PUT", "/v1/accounts/s/warehouses/main/stock/shoe", Some(ADMIN), Some(body), &[]);
                        (st, header(&h, "retry-after").map(str::to_string), v)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (st, retry, v) in answers {
            assert!(st == 200 || st == 503, "{st} {v}");
            if st == 503 {
                assert!(retry.as_deref().is_some_and(|r| r.parse::<u32>().is_ok()), "503 without Retry-After: {v}");
                busy = Some(v);
            }
        }
        if busy.is_some() {
            break;
        }
    }
    let busy = busy.expect("a queue of one overflows under 32 concurrent writers");
    assert_eq!(busy["error"]["code"], json!("busy"), "{busy}");
    s.stop();
}

/// Every property of every request body, given each JSON type in turn (and, in lists of
/// objects, each property of the object): no refusal names a Rust type.
#[test]
fn no_body_refusal_names_a_rust_type() {
    let dir = temp_dir("types-all");
    let s = Server::start(&dir, &[]);
    let c = Call::new(&s);
    network(&c);
    let (_, _, doc) = c.send("GET", "/openapi.json", None, None, &[]);
    let schema = |r: &Value| -> Value {
        let name = r["$ref"].as_str().map(|x| x.rsplit('/').next().unwrap().to_string());
        name.map_or(r.clone(), |n| doc["components"]["schemas"][n].clone())
    };
    let wrong =
        [json!("x"), json!(1.5), json!(-1), json!(300000), json!(true), json!([]), json!({}), json!([1]), json!([{}])];
    let rust =
        ["i64", "u64", "u32", "u16", "u8", "usize", "bool", "Vec", "Option", "struct", "enum", "sequence", "a map"];
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(body) = op["requestBody"]["content"]["application/json"]["schema"].as_object() else { continue };
            // VTEX's bodies (free-form objects in this document, VTEX's schemas elsewhere) are
            // checked by `vtex_seller.rs`.
            if path.starts_with("/vtex/") {
                continue;
            }
            let body = schema(&Value::Object(body.clone()));
            let path = path
                .replace("{a}", "s")
                .replace("{s}", "s")
                .replace("{m}", "m")
                .replace("{sku}", "shoe")
                .replace("{w}", "main")
                .replace("{tp}", "1")
                .replace("{seller_sku}", "shoe");
            let mut bodies = Vec::new();
            for (k, p) in body["properties"].as_object().unwrap() {
                for v in &wrong {
                    bodies.push(json!({ k: v }));
                }
                // A list of objects: each of their properties too.
                if let Some(item) = p["items"].as_object().map(|i| schema(&Value::Object(i.clone()))) {
                    for ik in item["properties"].as_object().into_iter().flat_map(|o| o.keys()) {
                        for v in &wrong {
                            bodies.push(json!({ k: [{ ik: v }] }));
                        }
                    }
                }
            }
            for b in bodies {
                let (st, _, v) = c.send(&method.to_uppercase(), &path, Some(ADMIN), Some(b.clone()), &[]);
                let msg = v["error"]["message"].as_str().unwrap_or_default();
                for t in rust {
                    assert!(!msg.contains(t), "{method} {path} {b}: {st} `{t}` in {msg}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked} bodies");
    s.stop();
}
