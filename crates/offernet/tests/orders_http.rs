//! Orders over HTTP with the real binary: 64 concurrent clients race for a hot SKU with stock
//! K; exactly K succeed and the rest get 409 `insufficient_stock`; after `kill -9` and a
//! restart the reservations and orders are exactly the same.

mod common;

use common::*;
use serde_json::json;

const K: u64 = 40;
const CLIENTS: usize = 64;

/// Long on purpose: one story, from the race through the order's lifecycle to the restart.
#[test]
fn a_hot_sku_never_oversells_and_survives_kill_9() {
    let dir = temp_dir("orders");
    let s = Server::start(&dir, &[]);
    let mut tok = std::collections::HashMap::new();
    for id in ["seller", "market"] {
        let (st, v) = s.req(
            "POST",
            "/v1/accounts",
            Some(ADMIN),
            Some(&json!({"id": id, "name": id, "currency": "BRL"}).to_string()),
        );
        assert_eq!(st, 201);
        tok.insert(id, v["token"].as_str().unwrap().to_string());
    }
    let put = |path: &str, t: &str, b: serde_json::Value| {
        let (st, v) = s.req("PUT", path, Some(t), Some(&b.to_string()));
        assert_eq!(st, 200, "{path}: {v}");
    };
    put("/v1/accounts/seller/skus/hot", &tok["seller"], json!({"name": "Hot item"}));
    put("/v1/accounts/seller/prices/hot", &tok["seller"], json!({"price": 990}));
    put("/v1/accounts/seller/warehouses/w", &tok["seller"], json!({}));
    put("/v1/accounts/seller/warehouses/w/stock/hot", &tok["seller"], json!({"quantity": K}));
    put("/v1/accounts/seller/affiliations/market", &tok["seller"], json!({"trade_policy": "1"}));
    put("/v1/accounts/market/sellers/seller", &tok["market"], json!({}));
    let (st, sim) = s.req(
        "POST",
        "/v1/accounts/market/simulation",
        Some(&tok["market"]),
        Some(&json!({"items": [{"sku": "seller-hot", "quantity": 2}]}).to_string()),
    );
    assert_eq!(
        (st, sim["items"][0]["seller"].clone(), sim["items"][0]["price"].clone()),
        (200, json!("seller"), json!(990)),
        "{sim}"
    );

    let market = tok["market"].clone();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (http, market) = (s.http.clone(), market.clone());
            std::thread::spawn(move || {
                let body =
                    json!({"id": format!("c{i}"), "items": [{"sku": "seller-hot", "quantity": 1, "seller": "seller"}]});
                let (st, v) =
                    http.raw("POST", "/v1/accounts/market/orders", Some(&market), Some(&body.to_string()), &[]);
                (i, st, v)
            })
        })
        .collect();
    let results: Vec<(usize, u16, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won: Vec<usize> = results.iter().filter(|r| r.1 == 201).map(|r| r.0).collect();
    let lost = results.iter().filter(|r| r.1 == 409 && r.2.contains("insufficient_stock")).count();
    assert_eq!(won.len() as u64, K, "exactly K orders succeed: {results:?}");
    assert_eq!(won.len() + lost, CLIENTS, "the rest get 409 insufficient_stock");
    let reserved = |s: &Server| {
        let (_, v) = s.req("GET", "/v1/accounts/seller/skus/hot", Some(&tok["seller"]), None);
        v["stock"][0]["reserved"].as_u64().unwrap()
    };
    assert_eq!(reserved(&s), K);
    // An idempotent retry returns the same order; another body for that id is refused.
    let c = won[0];
    let same = json!({"id": format!("c{c}"), "items": [{"sku": "seller-hot", "quantity": 1, "seller": "seller"}]});
    let (st, v) = s.req("POST", "/v1/accounts/market/orders", Some(&tok["market"]), Some(&same.to_string()));
    assert_eq!((st, v["id"].clone()), (200, json!(format!("c{c}"))));
    let other = json!({"id": format!("c{c}"), "items": [{"sku": "seller-hot", "quantity": 2, "seller": "seller"}]});
    let (st, v) = s.req("POST", "/v1/accounts/market/orders", Some(&tok["market"]), Some(&other.to_string()));
    assert_eq!((st, v["error"]["code"].clone()), (409, json!("idempotency_mismatch")));
    // The seller sees its seller order; the marketplace authorises, the seller invoices.
    let (st, v) = s.req("GET", &format!("/v1/accounts/seller/orders/market.c{c}"), Some(&tok["seller"]), None);
    assert_eq!((st, v["status"].clone()), (200, json!("reserved")), "{v}");
    let (st, _) =
        s.req("POST", &format!("/v1/accounts/market/orders/c{c}/authorize"), Some(&tok["market"]), Some("{}"));
    assert_eq!(st, 200);
    let (st, v) =
        s.req("POST", &format!("/v1/accounts/seller/orders/market.c{c}/invoice"), Some(&tok["seller"]), Some("{}"));
    assert_eq!((st, v["status"].clone()), (200, json!("invoiced")), "{v}");
    let (st, _) =
        s.req("POST", &format!("/v1/accounts/seller/orders/market.c{c}/invoice"), Some(&tok["market"]), Some("{}"));
    assert_eq!(st, 403, "only the seller invoices");

    s.kill9();
    let s = Server::start(&dir, &[]);
    assert_eq!(reserved(&s), K - 1, "after kill -9: the open orders still hold their units");
    let (_, v) = s.req("GET", "/v1/accounts/seller/skus/hot", Some(&tok["seller"]), None);
    assert_eq!(v["stock"][0]["quantity"], K - 1, "the invoiced unit left the warehouse");
    for (i, st, _) in &results {
        let (got, v) = s.req("GET", &format!("/v1/accounts/market/orders/c{i}"), Some(&tok["market"]), None);
        if *st == 201 {
            assert_eq!(got, 200, "order c{i} survived: {v}");
        } else {
            assert_eq!(got, 404, "refused order c{i} left nothing: {v}");
        }
    }
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
