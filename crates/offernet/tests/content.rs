//! SKU content (description, images, dimensions) and trade policies' product URLs with the
//! real binary: stored and shown on the single reads and the lists, kept across a graceful
//! restart (snapshot) and a crash (journal replay), each limit refused with 400 naming the
//! field, and never an `offer.changed` for content alone.

mod common;

use common::*;
use serde_json::{json, Value};

fn put(s: &Server, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = s.req("PUT", path, Some(token), Some(&body.to_string()));
    assert_eq!(st, 200, "PUT {path} {body}: {v}");
    v
}

fn get(s: &Server, path: &str, token: &str) -> Value {
    let (st, v) = s.req("GET", path, Some(token), None);
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

fn kettle() -> Value {
    json!({
        "name": "Kettle",
        "ean": "4006381333931",
        "description": "Brushed steel, 1.7 litres.\nBoils in 3 minutes — ☕.",
        "images": ["https://cdn.example/k1/front.jpg", "https://cdn.example:8443/k1/side.jpg?w=800"],
        "dimensions": {"height_cm": 24.5, "width_cm": 16, "length_cm": 22.25, "weight_g": 1150}
    })
}

fn content_of(sku: &Value) -> Value {
    json!({"description": sku["description"], "images": sku["images"], "dimensions": sku["dimensions"]})
}

#[test]
fn content_is_stored_shown_and_survives_restarts() {
    let dir = temp_dir("content");
    let s = Server::start(&dir, &[]);
    let t = create(&s, "shop");
    let answer = put(&s, "/v1/accounts/shop/skus/k1", &t, kettle());
    let want = json!({
        "description": "Brushed steel, 1.7 litres.\nBoils in 3 minutes — ☕.",
        "images": ["https://cdn.example/k1/front.jpg", "https://cdn.example:8443/k1/side.jpg?w=800"],
        "dimensions": {"height_cm": 24.5, "width_cm": 16, "length_cm": 22.25, "weight_g": 1150}
    });
    assert_eq!(content_of(&answer), want, "the PUT's answer");
    assert_eq!(get(&s, "/v1/accounts/shop/skus/k1", &t), answer, "the GET");
    put(&s, "/v1/accounts/shop/skus/k2", &t, json!({"name": "Mug", "dimensions": {"weight_g": 0.125}}));
    let list = get(&s, "/v1/accounts/shop/skus", &t);
    assert_eq!(list["skus"][0], answer, "the list");
    let mug = &list["skus"][1];
    assert_eq!(
        content_of(mug),
        json!({"description": null, "images": [],
            "dimensions": {"height_cm": null, "width_cm": null, "length_cm": null, "weight_g": 0.13}}),
        "kept to two decimals"
    );
    let tp = json!({"name": "Web", "assortment": "all", "product_url": "https://shop.example/p/{sku}?src=feed"});
    let tp_answer = put(&s, "/v1/accounts/shop/trade-policies/web", &t, tp);
    assert_eq!(tp_answer["product_url"], "https://shop.example/p/{sku}?src=feed");
    assert_eq!(get(&s, "/v1/accounts/shop/trade-policies/web", &t), tp_answer);
    let tps = get(&s, "/v1/accounts/shop/trade-policies", &t);
    assert_eq!((&tps["trade_policies"][0]["product_url"], &tps["trade_policies"][1]), (&json!(null), &tp_answer));

    // A graceful stop writes a snapshot and the next start loads it.
    let skus = get(&s, "/v1/accounts/shop/skus", &t);
    s.stop();
    let s = Server::start(&dir, &[]);
    assert_eq!(get(&s, "/v1/accounts/shop/skus", &t), skus, "after a graceful restart");
    assert_eq!(get(&s, "/v1/accounts/shop/trade-policies/web", &t), tp_answer);
    // A PUT replaces the content: absent clears it. Then a crash: the journal is replayed.
    let cleared = put(&s, "/v1/accounts/shop/skus/k1", &t, json!({"name": "Kettle", "ean": "4006381333931"}));
    assert_eq!(content_of(&cleared), json!({"description": null, "images": [], "dimensions": null}));
    put(&s, "/v1/accounts/shop/skus/k2", &t, json!({"name": "Mug", "description": "Stoneware"}));
    let skus = get(&s, "/v1/accounts/shop/skus", &t);
    s.kill9();
    let s = Server::start(&dir, &[]);
    assert_eq!(get(&s, "/v1/accounts/shop/skus", &t), skus, "after a crash");
    assert_eq!(get(&s, "/v1/accounts/shop/skus/k2", &t)["description"], "Stoneware");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_limit_is_refused_naming_the_field() {
    let dir = temp_dir("content-limits");
    let s = Server::start(&dir, &[]);
    let t = create(&s, "shop");
    put(&s, "/v1/accounts/shop/skus/k1", &t, kettle());
    let eleven: Vec<String> = (0..11).map(|i| format!("https://cdn.example/{i}.jpg")).collect();
    let long_url = format!("https://cdn.example/{}", "x".repeat(2040));
    let cases = [
        (json!({"description": "x".repeat(10_001)}), "description"),
        (json!({"description": "a\u{0}b"}), "description"),
        (json!({"description": "   "}), "description"),
        (json!({"images": eleven}), "images"),
        (json!({"images": ["https://cdn.example/a.jpg", "http://cdn.example/b.jpg"]}), "images[1]"),
        (json!({"images": [long_url]}), "images[0]"),
        (json!({"images": ["https://cdn.example/a b.jpg"]}), "images[0]"),
        (json!({"images": "https://cdn.example/a.jpg"}), "images"),
        (json!({"dimensions": {"height_cm": -0.5}}), "dimensions.height_cm"),
        (json!({"dimensions": {"length_cm": 10000.01}}), "dimensions.length_cm"),
        (json!({"dimensions": {"weight_g": 100000001}}), "dimensions.weight_g"),
        (json!({"dimensions": {"width_cm": "10"}}), "dimensions.width_cm"),
        (json!({"dimensions": {"depth_cm": 10}}), "dimensions.depth_cm"),
    ];
    for (extra, field) in cases {
        let mut body = json!({"name": "Kettle"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (st, v) = s.req("PUT", "/v1/accounts/shop/skus/k1", Some(&t), Some(&body.to_string()));
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some(field)), "{body}: {v}");
    }
    // The limits themselves are allowed.
    let ten: Vec<String> = (0..10).map(|i| format!("https://cdn.example/{i}.jpg")).collect();
    let edge = json!({"name": "Kettle", "description": "é".repeat(10_000), "images": ten,
        "dimensions": {"height_cm": 10000, "weight_g": 100000000}});
    let v = put(&s, "/v1/accounts/shop/skus/k1", &t, edge);
    assert_eq!(v["images"].as_array().unwrap().len(), 10);
    let answer = get(&s, "/v1/accounts/shop/skus/k1", &t);
    for bad in ["https://shop.example/p/", "http://shop.example/{sku}", "shop.example/{sku}"] {
        let body = json!({"assortment": "all", "product_url": bad}).to_string();
        let (st, v) = s.req("PUT", "/v1/accounts/shop/trade-policies/web", Some(&t), Some(&body));
        assert_eq!((st, v["error"]["field"].as_str()), (400, Some("product_url")), "{bad}: {v}");
    }
    assert_eq!(get(&s, "/v1/accounts/shop/skus/k1", &t), answer, "refused PUTs changed nothing");
    assert_eq!(s.req("GET", "/v1/accounts/shop/trade-policies/web", Some(&t), None).0, 404);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn content_alone_sends_no_offer_event() {
    let dir = temp_dir("content-events");
    let s = Server::start(&dir, &[]);
    let (st, mt) = (create(&s, "seller"), create(&s, "market"));
    put(&s, "/v1/accounts/seller/skus/k1", &st, json!({"name": "Kettle", "ean": "4006381333931"}));
    put(&s, "/v1/accounts/seller/prices/k1", &st, json!({"price": 1000}));
    put(&s, "/v1/accounts/seller/warehouses/w", &st, json!({}));
    put(&s, "/v1/accounts/seller/warehouses/w/stock/k1", &st, json!({"quantity": 5}));
    put(&s, "/v1/accounts/seller/affiliations/market", &st, json!({"trade_policy": "1"}));
    put(&s, "/v1/accounts/market/sellers/seller", &mt, json!({}));
    let events = |token: &str, a: &str| get(&s, &format!("/v1/accounts/{a}/events?after=0"), token)["events"].clone();
    let before = events(&mt, "market");
    assert!(!before.as_array().unwrap().is_empty(), "the offer appeared: {before}");
    put(&s, "/v1/accounts/seller/skus/k1", &st, kettle());
    let tp = json!({"assortment": "all", "product_url": "https://seller.example/{sku}"});
    put(&s, "/v1/accounts/seller/trade-policies/1", &st, tp);
    assert_eq!(events(&mt, "market"), before, "no event for content");
    assert_eq!(events(&st, "seller"), json!([]));
    // A change the offer reads does send one (the check above can fail).
    put(&s, "/v1/accounts/seller/prices/k1", &st, json!({"price": 900}));
    assert_eq!(events(&mt, "market").as_array().unwrap().len(), before.as_array().unwrap().len() + 1);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
