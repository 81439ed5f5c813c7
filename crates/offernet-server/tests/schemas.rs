//! Every answer of every route against its schema in the served OpenAPI document: a small
//! network (a marketplace, a seller, an upstream seller resold through it) is built over HTTP,
//! each route is called, and each JSON answer (success and error) is validated against the
//! schema the document gives for that route and status (`jsonschema`, with the document's
//! `#/components/schemas/…` resolved locally). To show the check has teeth, each answer with a
//! required field is validated again without it and must then fail.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "schemas_walk/external.rs"]
mod external;
use external::{integrations, vtex, webhooks};

const ADMIN: &str = "schema-test-operator-token-0123456789abcdef";

/// One call over a fresh connection: (status, content type, body).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Vec<u8>) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A JSON string body is sent as it is, as NDJSON (an import's lines).
    let (content_type, body) = match body {
        Some(Value::String(lines)) => ("application/x-ndjson", lines),
        b => ("application/json", b.map(|b| b.to_string()).unwrap_or_default()),
    };
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(format!("{head}{body}").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, content_type, raw[split..].to_vec())
}

/// Calls routes and checks each answer against the document.
struct Checker {
    addr: SocketAddr,
    spec: Value,
    checked: AtomicUsize,
    /// (method, route) pairs answered at least once with a status the document names.
    seen: std::sync::Mutex<std::collections::BTreeSet<(String, String)>>,
}

impl Checker {
    /// Calls `method path` (its route in the document is `route`) and validates the answer;
    /// returns the JSON answer (`Null` for none).
    async fn call(
        &self,
        method: &str,
        route: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, content_type, bytes) = call(self.addr, method, path, token, body).await;
        let op = &self.spec["paths"][route][method.to_lowercase()];
        assert!(op.is_object(), "{method} {route} is not in the document");
        let response = &op["responses"][status.to_string()];
        assert!(response.is_object(), "{method} {path}: status {status} is not documented for {route}");
        self.seen.lock().unwrap().insert((method.to_string(), route.to_string()));
        if bytes.is_empty() {
            assert!(response.get("content").is_none(), "{method} {path}: {status} has no body, the document says one");
            return (status, Value::Null);
        }
        // Not JSON (JSON Lines, XML, text): the media type must be one the document names.
        if content_type.split(';').next().unwrap_or_default().trim() != "application/json" {
            assert!(response["content"].as_object().unwrap().keys().any(|k| content_type.starts_with(k.as_str())));
            return (status, Value::Null);
        }
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        let schema = &response["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {path}: {status} answers JSON, the document gives no schema");
        if route == "/openapi.json" {
            assert_eq!(answer, self.spec, "the served document is the one built from the routes");
        } else {
            self.validate(&format!("{method} {path} → {status}"), schema, &answer);
        }
        (status, answer)
    }

    fn validate(&self, at: &str, schema: &Value, answer: &Value) {
        let mut root = schema.clone();
        root["components"] = self.spec["components"].clone();
        let validator = jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{at}: bad schema: {e}"));
        let errors: Vec<String> =
            validator.iter_errors(answer).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{at}: the answer does not match its schema: {errors:?}\n{answer:#}");
        // The check has teeth: without a required field the answer must fail.
        if let Some(obj) = answer.as_object() {
            for key in obj.keys() {
                let mut broken = answer.clone();
                broken.as_object_mut().unwrap().remove(key);
                if validator.is_valid(&broken) {
                    continue;
                }
                self.checked.fetch_add(1, Ordering::Relaxed);
                return;
            }
            panic!("{at}: no field of the answer is required by its schema: {answer}");
        }
    }
}

fn config(dir: &std::path::Path) -> offernet_server::Config {
    offernet_server::Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        admin_token: Some(ADMIN.into()),
        vtex: true,
        public_url: Some("https://offernet.example".into()),
        ..Default::default()
    }
}

// A walk through every route, in the order a client would call them: long, but one
// straight story.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_its_schema() {
    let dir = std::env::temp_dir().join(format!("offernet-schemas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let running = offernet_server::start(config(&dir)).await.unwrap();
    let c = Checker {
        addr: running.addr,
        spec: offernet_server::openapi::spec(),
        checked: AtomicUsize::new(0),
        seen: Default::default(),
    };
    let mut tok = std::collections::HashMap::new();
    for id in ["m", "s", "u"] {
        let b = json!({"id": id, "name": id, "currency": "BRL"});
        let (st, v) = c.call("POST", "/v1/accounts", "/v1/accounts", Some(ADMIN), Some(b)).await;
        assert_eq!(st, 201);
        tok.insert(id, v["token"].as_str().unwrap().to_string());
    }
    let (m, s, u) = (Some(tok["m"].as_str()), Some(tok["s"].as_str()), Some(tok["u"].as_str()));
    c.call("GET", "/v1/accounts/{a}", "/v1/accounts/m", m, None).await;
    catalog(&c, s, u).await;
    connections(&c, m, s, u).await;
    offers(&c, m, s).await;
    feeds(&c, m).await;
    orders(&c, m, s).await;
    lists(&c, m, s).await;
    tokens(&c, m, s).await;
    webhooks(&c, m, s).await;
    integrations(&c, m).await;
    c.call("GET", "/v1/accounts/{a}/events", "/v1/accounts/m/events?after=0&limit=1000", m, None).await;
    c.call("GET", "/v1/accounts/{a}/events", "/v1/accounts/s/events", s, None).await;
    c.call("GET", "/healthz", "/healthz", None, None).await;
    c.call("GET", "/readyz", "/readyz", None, None).await;
    c.call("GET", "/metrics", "/metrics", None, None).await;
    c.call("GET", "/openapi.json", "/openapi.json", None, None).await;
    assert_eq!(c.call("GET", "/", "/", None, None).await.1["docs"], "/docs");
    assert_eq!(c.call("GET", "/docs", "/docs", None, None).await.0, 200);
    let asset = format!("/docs/{}", offernet_server::routes::docs::ASSET);
    assert_eq!(c.call("GET", &asset, &asset, None, None).await.0, 200);
    network(&c, m, s).await;
    errors(&c, m, s).await;
    vtex(&c, m, s).await;
    let key = "/v1/accounts/{s}/affiliations/{m}/connection-key";
    let path = "/v1/accounts/s/affiliations/m/connection-key";
    assert_eq!(c.call("POST", key, path, s, None).await.0, 201);
    assert_eq!(c.call("DELETE", key, path, s, None).await.0, 204);
    let ends = [
        ("DELETE", "/v1/accounts/{s}/affiliations/{m}", "/v1/accounts/s/affiliations/m", s),
        ("DELETE", "/v1/accounts/{m}/sellers/{s}", "/v1/accounts/m/sellers/s", m),
    ];
    for (method, route, path, t) in ends {
        assert_eq!(c.call(method, route, path, t, None).await.0, 204);
    }
    // Imports last: the imported SKU of `u` reaches `s` through their connection.
    let import = "/v1/accounts/{a}/import";
    let lines =
        "{\"kind\":\"sku\",\"id\":\"u2\",\"name\":\"Lid\"}\n{\"kind\":\"price\",\"sku\":\"u2\",\"price\":100}\n";
    assert_eq!(c.call("POST", import, "/v1/accounts/u/import", u, Some(json!(lines))).await.0, 200);
    let bad = "{\"kind\":\"price\",\"sku\":\"ghost\",\"price\":1}\n{\"kind\":\"sku\"}\n";
    assert_eq!(c.call("POST", import, "/v1/accounts/u/import", u, Some(json!(bad))).await.0, 400);
    let bad = "{\"kind\":\"price\",\"sku\":\"ghost\",\"price\":1}\n";
    assert_eq!(c.call("POST", import, "/v1/accounts/u/import", u, Some(json!(bad))).await.0, 400);
    assert_eq!(c.call("POST", import, "/v1/accounts/u/import", u, Some(json!({}))).await.0, 415);
    // Every route of the document was called.
    let seen = c.seen.lock().unwrap().clone();
    for (route, item) in c.spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(seen.contains(&(method.to_uppercase(), route.clone())), "{method} {route} was never called");
        }
    }
    assert!(c.checked.load(Ordering::Relaxed) > 40, "too few answers checked");
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The network reads and the console's page and files.
async fn network(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let (st, v) = c.call("GET", "/v1/connections", "/v1/connections?limit=1", Some(ADMIN), None).await;
    assert_eq!((st, v["connections"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    assert_eq!(c.call("GET", "/v1/connections", "/v1/connections", s, None).await.0, 403);
    let route = "/v1/accounts/{a}/network";
    let (st, v) = c.call("GET", route, "/v1/accounts/m/network?depth=2", m, None).await;
    assert!(st == 200 && v["total"].as_u64() >= Some(1), "{v}");
    assert_eq!(c.call("GET", route, "/v1/accounts/m/network?depth=0", m, None).await.0, 400);
    assert_eq!(c.call("GET", "/console", "/console", None, None).await.0, 200);
    let file = "/console/{file}";
    assert_eq!(c.call("GET", file, "/console/app.js", None, None).await.0, 200);
    assert_eq!(c.call("GET", file, "/console/console.css", None, None).await.0, 200);
    assert_eq!(c.call("GET", file, "/console/nope.js", None, None).await.0, 404);
}

async fn catalog(c: &Checker, s: Option<&str>, u: Option<&str>) {
    let calls: Vec<(&str, &str, Option<&str>, Value)> = vec![
        (
            "/v1/accounts/{a}/skus/{sku}",
            "/v1/accounts/s/skus/s1",
            s,
            json!({"name": "Kettle", "ean": "7891234567895", "brand": "B", "description": "Steel.\nOne litre.",
                "images": ["https://cdn.example/s1.jpg"], "dimensions": {"height_cm": 20.5, "weight_g": 900}}),
        ),
        ("/v1/accounts/{a}/skus/{sku}", "/v1/accounts/u/skus/u1", u, json!({"name": "Pan"})),
        (
            "/v1/accounts/{a}/trade-policies/{tp}",
            "/v1/accounts/s/trade-policies/2",
            s,
            json!({"name": "B2B", "assortment": ["s1"], "product_url": "https://s.example/p/{sku}"}),
        ),
        ("/v1/accounts/{a}/trade-policies/{tp}", "/v1/accounts/s/trade-policies/1", s, json!({"assortment": "all"})),
        ("/v1/accounts/{a}/warehouses/{w}", "/v1/accounts/s/warehouses/w", s, json!({"trade_policies": ["1", "2"]})),
        ("/v1/accounts/{a}/warehouses/{w}", "/v1/accounts/u/warehouses/w", u, json!({})),
        (
            "/v1/accounts/{a}/warehouses/{w}/stock/{sku}",
            "/v1/accounts/s/warehouses/w/stock/s1",
            s,
            json!({"quantity": 10}),
        ),
        (
            "/v1/accounts/{a}/warehouses/{w}/stock/{sku}",
            "/v1/accounts/u/warehouses/w/stock/u1",
            u,
            json!({"unlimited": true}),
        ),
        ("/v1/accounts/{a}/prices/{sku}", "/v1/accounts/s/prices/s1", s, json!({"price": 1000, "list_price": 1200})),
        ("/v1/accounts/{a}/prices/{sku}", "/v1/accounts/s/prices/s1", s, json!({"price": 900, "trade_policy": "2"})),
        ("/v1/accounts/{a}/prices/{sku}", "/v1/accounts/u/prices/u1", u, json!({"price": 500})),
    ];
    for (route, path, t, b) in calls {
        assert_eq!(c.call("PUT", route, path, t, Some(b)).await.0, 200, "PUT {path}");
    }
    c.call("GET", "/v1/accounts/{a}/skus/{sku}", "/v1/accounts/s/skus/s1", s, None).await;
    c.call("GET", "/v1/accounts/{a}/trade-policies/{tp}", "/v1/accounts/s/trade-policies/2", s, None).await;
    c.call("GET", "/v1/accounts/{a}/trade-policies/{tp}", "/v1/accounts/s/trade-policies/1", s, None).await;
    c.call("GET", "/v1/accounts/{a}/warehouses/{w}", "/v1/accounts/s/warehouses/w", s, None).await;
    c.call("GET", "/v1/accounts/{a}/prices/{sku}", "/v1/accounts/s/prices/s1", s, None).await;
    let st =
        c.call("DELETE", "/v1/accounts/{a}/prices/{sku}", "/v1/accounts/s/prices/s1?trade_policy=2", s, None).await;
    assert_eq!(st.0, 204);
}

async fn connections(c: &Checker, m: Option<&str>, s: Option<&str>, u: Option<&str>) {
    let (aff, sel) = ("/v1/accounts/{s}/affiliations/{m}", "/v1/accounts/{m}/sellers/{s}");
    let calls: Vec<(&str, &str, &str, Option<&str>, Value)> = vec![
        ("PUT", aff, "/v1/accounts/s/affiliations/m", s, json!({"trade_policy": "1", "resale": "all"})),
        ("PATCH", aff, "/v1/accounts/s/affiliations/m", s, json!({"resale": ["u"]})),
        ("PUT", sel, "/v1/accounts/m/sellers/s", m, json!({"commission_bp": 500})),
        ("PATCH", sel, "/v1/accounts/m/sellers/s", m, json!({"active": true})),
        ("PUT", aff, "/v1/accounts/u/affiliations/s", u, json!({"trade_policy": "1"})),
        ("PUT", sel, "/v1/accounts/s/sellers/u", s, json!({})),
    ];
    for (method, route, path, t, b) in calls {
        assert_eq!(c.call(method, route, path, t, Some(b)).await.0, 200, "{method} {path}");
    }
    c.call("GET", aff, "/v1/accounts/s/affiliations/m", s, None).await;
    c.call("GET", sel, "/v1/accounts/m/sellers/s", m, None).await;
    // Manual matching from here on: new seller SKUs wait as suggestions.
    c.call("PATCH", sel, "/v1/accounts/m/sellers/s", m, Some(json!({"match_mode": "manual"}))).await;
    for sku in ["s2", "s3"] {
        let path = format!("/v1/accounts/s/skus/{sku}");
        c.call("PUT", "/v1/accounts/{a}/skus/{sku}", &path, s, Some(json!({"name": "Cup"}))).await;
    }
    let (st, page) = c
        .call("GET", "/v1/accounts/{m}/suggestions", "/v1/accounts/m/suggestions?status=pending&limit=1", m, None)
        .await;
    assert_eq!((st, page["total"].as_u64()), (200, Some(2)), "{page}");
    let route = "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve";
    c.call("POST", route, "/v1/accounts/m/suggestions/s/s2/approve", m, Some(json!({"sku": "cup"}))).await;
    let route = "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny";
    c.call("POST", route, "/v1/accounts/m/suggestions/s/s3/deny", m, None).await;
}

async fn offers(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let (_, page) = c.call("GET", "/v1/accounts/{m}/offers", "/v1/accounts/m/offers?sellable=true", m, None).await;
    let sku = page["offers"][0]["sku"].as_str().expect("a sellable offer").to_string();
    c.call("GET", "/v1/accounts/{m}/offers", "/v1/accounts/m/offers?seller=s&limit=1", m, None).await;
    c.call("GET", "/v1/accounts/{m}/offers/{sku}", &format!("/v1/accounts/m/offers/{sku}"), m, None).await;
    let route = "/v1/accounts/{m}/offers/{sku}/explain";
    c.call("GET", route, &format!("/v1/accounts/m/offers/{sku}/explain"), m, None).await;
    c.call("GET", "/v1/accounts/{s}/sent-offers", "/v1/accounts/s/sent-offers", s, None).await;
    c.call("GET", "/v1/accounts/{s}/sent-offers", "/v1/accounts/s/sent-offers?marketplace=m", s, None).await;
    let cart = json!({"items": [{"sku": sku, "quantity": 2}, {"sku": sku, "quantity": 100000}]});
    c.call("POST", "/v1/accounts/{m}/simulation", "/v1/accounts/m/simulation", m, Some(cart)).await;
}

async fn orders(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let route = "/v1/accounts/{m}/order-settings";
    c.call("PUT", route, "/v1/accounts/m/order-settings", m, Some(json!({"reservation_minutes": 60}))).await;
    for id in ["o1", "o2"] {
        let order = json!({"id": id, "items": [{"sku": "s-s1", "quantity": 1, "seller": "s"}]});
        let (st, v) = c.call("POST", "/v1/accounts/{m}/orders", "/v1/accounts/m/orders", m, Some(order.clone())).await;
        assert_eq!(st, 201, "{v}");
        let (st, _) = c.call("POST", "/v1/accounts/{m}/orders", "/v1/accounts/m/orders", m, Some(order)).await;
        assert_eq!(st, 200, "the same order again");
    }
    let one = "/v1/accounts/{a}/orders/{id}";
    c.call("GET", one, "/v1/accounts/m/orders/o1", m, None).await;
    c.call("GET", one, "/v1/accounts/s/orders/m.o1", s, None).await;
    c.call("POST", "/v1/accounts/{m}/orders/{id}/authorize", "/v1/accounts/m/orders/o1/authorize", m, None).await;
    let invoice = json!({"invoice": {"number": "NFe-1", "value": 1000, "tracking_url": "https://t.example/1"}});
    let (route, path) = ("/v1/accounts/{a}/orders/{id}/invoice", "/v1/accounts/s/orders/m.o1/invoice");
    let (st, v) = c.call("POST", route, path, s, Some(invoice)).await;
    assert_eq!(st, 200, "{v}");
    let other = json!({"invoice": {"number": "NFe-2"}});
    assert_eq!(c.call("POST", route, path, s, Some(other)).await.0, 409, "another invoice number");
    c.call("POST", "/v1/accounts/{a}/orders/{id}/cancel", "/v1/accounts/m/orders/o2/cancel", m, None).await;
}

/// The lists, each with a filter and a page smaller than the list.
async fn lists(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let calls: Vec<(&str, &str, Option<&str>, &str, u64)> = vec![
        ("/v1/accounts", "/v1/accounts?limit=2", Some(ADMIN), "accounts", 3),
        ("/v1/accounts/{a}/skus", "/v1/accounts/s/skus?limit=1", s, "skus", 4),
        ("/v1/accounts/{a}/skus", "/v1/accounts/s/skus?q=kett&active=true", s, "skus", 1),
        ("/v1/accounts/{a}/warehouses", "/v1/accounts/s/warehouses", s, "warehouses", 1),
        ("/v1/accounts/{a}/warehouses/{w}/stock", "/v1/accounts/s/warehouses/w/stock?limit=1", s, "stock", 1),
        ("/v1/accounts/{a}/trade-policies", "/v1/accounts/s/trade-policies?limit=1", s, "trade_policies", 2),
        ("/v1/accounts/{a}/skus/{sku}/stock", "/v1/accounts/s/skus/s1/stock", s, "stock", 1),
        ("/v1/accounts/{a}/prices", "/v1/accounts/s/prices?limit=1", s, "prices", 4),
        ("/v1/accounts/{s}/affiliations", "/v1/accounts/s/affiliations", s, "affiliations", 1),
        ("/v1/accounts/{s}/affiliations", "/v1/accounts/u/affiliations", Some(ADMIN), "affiliations", 1),
        ("/v1/accounts/{m}/sellers", "/v1/accounts/m/sellers", m, "sellers", 1),
        ("/v1/accounts/{m}/sellers", "/v1/accounts/s/sellers", s, "sellers", 1),
        ("/v1/accounts/{m}/orders", "/v1/accounts/m/orders?role=marketplace&limit=1", m, "orders", 2),
        ("/v1/accounts/{m}/orders", "/v1/accounts/s/orders?status=invoiced", s, "orders", 1),
    ];
    for (route, path, t, key, total) in calls {
        let (st, v) = c.call("GET", route, path, t, None).await;
        assert_eq!((st, v["total"].as_u64()), (200, Some(total)), "{path}: {v}");
        assert!(!v[key].as_array().unwrap().is_empty(), "{path}: {v}");
    }
    let (st, _) = c.call("GET", "/v1/accounts", "/v1/accounts", s, None).await;
    assert_eq!(st, 403, "accounts are listed by the operator only");
    let (st, _) = c.call("GET", "/v1/accounts/{m}/orders", "/v1/accounts/m/orders?role=buyer", m, None).await;
    assert_eq!(st, 400);
}

/// Error answers have the error schema too.
async fn errors(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let (st, _) = c.call("GET", "/v1/accounts/{a}", "/v1/accounts/m", None, None).await;
    assert_eq!(st, 401);
    let (st, _) = c.call("GET", "/v1/accounts/{a}", "/v1/accounts/m", s, None).await;
    assert_eq!(st, 403);
    let (st, _) = c.call("GET", "/v1/accounts/{a}/skus/{sku}", "/v1/accounts/m/skus/nope", m, None).await;
    assert_eq!(st, 404);
    let route = "/v1/accounts/{a}/warehouses/{w}/stock/{sku}";
    let both = json!({"quantity": 1, "unlimited": true});
    let (st, v) = c.call("PUT", route, "/v1/accounts/s/warehouses/w/stock/s1", s, Some(both)).await;
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("unlimited")));
    let other = json!({"id": "o1", "items": [{"sku": "s-s1", "quantity": 2, "seller": "s"}]});
    let (st, v) = c.call("POST", "/v1/accounts/{m}/orders", "/v1/accounts/m/orders", m, Some(other)).await;
    assert_eq!(st, 409, "the same id with another body: {v}");
    let (st, _) = c.call("GET", "/v1/accounts/{m}/offers", "/v1/accounts/m/offers?limit=0", m, None).await;
    assert_eq!(st, 400);
}

/// A seller's shipping profile and the VTEX routes (`m` acting as a VTEX marketplace for `s`,
/// with a bearer token), each with an answer and an error.
/// An account's tokens and its name: create, list, read, revoke, rename, and their errors.
async fn tokens(c: &Checker, m: Option<&str>, s: Option<&str>) {
    let (route, one) = ("/v1/accounts/{a}/tokens", "/v1/accounts/{a}/tokens/{id}");
    let (st, v) = c.call("POST", route, "/v1/accounts/m/tokens", m, Some(json!({"name": "ci"}))).await;
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (st, v) = c.call("GET", route, "/v1/accounts/m/tokens?limit=1", Some(ADMIN), None).await;
    assert_eq!((st, v["total"].as_u64()), (200, Some(2)), "{v}");
    let (st, _) = c.call("GET", one, &format!("/v1/accounts/m/tokens/{id}"), m, None).await;
    assert_eq!(st, 200);
    let (st, _) = c.call("GET", one, "/v1/accounts/m/tokens/nope", m, None).await;
    assert_eq!(st, 404);
    let (st, _) = c.call("POST", route, "/v1/accounts/m/tokens", s, Some(json!({"name": "x"}))).await;
    assert_eq!(st, 403);
    let (st, _) = c.call("POST", route, "/v1/accounts/m/tokens", m, Some(json!({}))).await;
    assert_eq!(st, 400);
    assert_eq!(c.call("DELETE", one, &format!("/v1/accounts/m/tokens/{id}"), m, None).await.0, 204);
    let (st, v) = c.call("PATCH", "/v1/accounts/{a}", "/v1/accounts/m", m, Some(json!({"name": "Market"}))).await;
    assert_eq!((st, v["name"].as_str()), (200, Some("Market")), "{v}");
    let (st, _) = c.call("PATCH", "/v1/accounts/{a}", "/v1/accounts/m", m, Some(json!({"name": null}))).await;
    assert_eq!(st, 400);
}

/// The product feeds: 409 before the trade policy has a product URL, then each form.
async fn feeds(c: &Checker, m: Option<&str>) {
    let xml = "/v1/accounts/{m}/feeds/{tp}/google.xml";
    assert_eq!(c.call("GET", xml, "/v1/accounts/m/feeds/1/google.xml", m, None).await.0, 409);
    let tp = json!({"assortment": "all", "product_url": "https://m.example/p/{sku}"});
    c.call("PUT", "/v1/accounts/{a}/trade-policies/{tp}", "/v1/accounts/m/trade-policies/1", m, Some(tp)).await;
    assert_eq!(c.call("GET", xml, "/v1/accounts/m/feeds/1/google.xml", m, None).await.0, 200);
    let tsv = "/v1/accounts/{m}/feeds/{tp}/google.tsv";
    assert_eq!(c.call("GET", tsv, "/v1/accounts/m/feeds/1/google.tsv", m, None).await.0, 200);
    let jsonl = "/v1/accounts/{m}/feeds/{tp}/google.jsonl";
    assert_eq!(c.call("GET", jsonl, "/v1/accounts/m/feeds/1/google.jsonl", m, None).await.0, 200);
    assert_eq!(c.call("GET", jsonl, "/v1/accounts/m/feeds/1/google.jsonl?since=0", m, None).await.0, 200);
    let issues = "/v1/accounts/{m}/feeds/{tp}/issues";
    assert_eq!(c.call("GET", issues, "/v1/accounts/m/feeds/1/issues", m, None).await.0, 200);
    assert_eq!(c.call("GET", issues, "/v1/accounts/m/feeds/9/issues", m, None).await.0, 404);
}
