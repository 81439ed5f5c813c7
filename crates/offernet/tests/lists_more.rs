//! The lists of a SKU's stock across warehouses (with what orders reserve) and of an account's
//! prices (with trade policies' prices), with the real binary: paged by `limit`/`offset`,
//! sorted by id, each item as the single answer shows it.

mod common;

use common::paging::*;
use common::*;
use serde_json::json;

#[test]
fn a_skus_stock_is_listed_across_warehouses_with_reserved() {
    let dir = temp_dir("list-sku-stock");
    let s = Server::start(&dir, &[]);
    let (sl, m) = (create(&s, "sl"), create(&s, "mk"));
    ok(&s, "PUT", "/v1/accounts/sl/skus/p", &sl, json!({"name": "Pan"}));
    ok(&s, "PUT", "/v1/accounts/sl/skus/q", &sl, json!({"name": "Pot"}));
    ok(&s, "PUT", "/v1/accounts/sl/prices/p", &sl, json!({"price": 100}));
    for w in ["west", "east", "north", "south"] {
        ok(&s, "PUT", &format!("/v1/accounts/sl/warehouses/{w}"), &sl, json!({}));
    }
    let mut puts = std::collections::BTreeMap::new();
    for (w, body) in
        [("west", json!({"quantity": 7})), ("east", json!({"unlimited": true})), ("south", json!({"quantity": 0}))]
    {
        puts.insert(w, ok(&s, "PUT", &format!("/v1/accounts/sl/warehouses/{w}/stock/p"), &sl, body));
    }
    ok(&s, "PUT", "/v1/accounts/sl/warehouses/north/stock/q", &sl, json!({"quantity": 3}));
    // An order reserves 2 in the first warehouse with stock, in creation order: west.
    ok(&s, "PUT", "/v1/accounts/sl/affiliations/mk", &sl, json!({"trade_policy": "1"}));
    ok(&s, "PUT", "/v1/accounts/mk/sellers/sl", &m, json!({}));
    let order = json!({"id": "o1", "items": [{"sku": "sl-p", "quantity": 2, "seller": "sl"}]});
    ok(&s, "POST", "/v1/accounts/mk/orders", &m, order);

    let stock = all(&s, "/v1/accounts/sl/skus/p/stock", "stock", &sl, 1);
    assert_eq!(ids(&stock, "warehouse"), ["east", "south", "west"], "sorted by warehouse id, only where set");
    assert_eq!(stock[0], puts["east"], "as the PUT of the stock answers it");
    assert_eq!(stock[1], puts["south"]);
    assert_eq!(
        stock[2],
        json!({"warehouse": "west", "sku": "p", "quantity": 7, "unlimited": false, "reserved": 2}),
        "what the open order reserves"
    );
    assert_eq!(stock[2]["reserved"], get(&s, "/v1/accounts/sl/warehouses/west/stock", &sl)["stock"][0]["reserved"]);
    let v = get(&s, "/v1/accounts/sl/skus/p/stock?offset=2&limit=5", &sl);
    assert_eq!(
        (v["total"].clone(), v["next_offset"].clone(), v["stock"].as_array().unwrap().len()),
        (json!(3), json!(null), 1)
    );
    assert_eq!(get(&s, "/v1/accounts/sl/skus/p/stock?offset=9", &sl)["stock"], json!([]));
    assert_eq!(ids(&all(&s, "/v1/accounts/sl/skus/q/stock", "stock", &sl, 10), "warehouse"), ["north"]);
    // The marketplace's SKU has no stock of its own.
    assert_eq!(get(&s, "/v1/accounts/mk/skus/sl-p/stock", &m)["total"], json!(0));

    let (st, v) = s.req("GET", "/v1/accounts/sl/skus/nope/stock", Some(&sl), None);
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("sku")), "{v}");
    assert_eq!(s.req("GET", "/v1/accounts/sl/skus/p/stock", Some(&m), None).0, 403);
    assert_eq!(get(&s, "/v1/accounts/sl/skus/p/stock", ADMIN)["total"], json!(3), "the operator reads it");
    let (st, v) = s.req("GET", "/v1/accounts/sl/skus/p/stock?limit=0", Some(&sl), None);
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("limit")), "{v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn prices_are_listed_with_trade_policy_prices() {
    let dir = temp_dir("list-prices");
    let s = Server::start(&dir, &[]);
    let (a, other) = (create(&s, "shop"), create(&s, "other"));
    for k in ["k3", "k1", "k2", "k4"] {
        ok(&s, "PUT", &format!("/v1/accounts/shop/skus/{k}"), &a, json!({"name": "Item"}));
    }
    ok(&s, "PUT", "/v1/accounts/shop/trade-policies/b2b", &a, json!({"assortment": "all"}));
    ok(&s, "PUT", "/v1/accounts/shop/prices/k1", &a, json!({"price": 500, "list_price": 650}));
    ok(&s, "PUT", "/v1/accounts/shop/prices/k3", &a, json!({"price": 300}));
    let k3 = ok(&s, "PUT", "/v1/accounts/shop/prices/k3", &a, json!({"price": 250, "trade_policy": "b2b"}));
    // A trade policy's price alone: the base price stays null.
    let k4 = ok(&s, "PUT", "/v1/accounts/shop/prices/k4", &a, json!({"price": 90, "trade_policy": "b2b"}));
    assert_eq!((&k4["price"], &k4["trade_policy_prices"][0]["price"]), (&json!(null), &json!(90)));

    let prices = all(&s, "/v1/accounts/shop/prices", "prices", &a, 3);
    assert_eq!(ids(&prices, "sku"), ["k1", "k2", "k3", "k4"], "every SKU, sorted by id");
    assert_eq!(prices[0], json!({"sku": "k1", "price": 500, "list_price": 650, "trade_policy_prices": []}));
    assert_eq!(prices[1], json!({"sku": "k2", "price": null, "list_price": null, "trade_policy_prices": []}));
    assert_eq!((&prices[2], &prices[3]), (&k3, &k4), "as the PUT of the price answers it");
    assert_eq!(k3["trade_policy_prices"], json!([{"trade_policy": "b2b", "price": 250, "list_price": null}]));
    for (i, k) in ["k1", "k2", "k3", "k4"].iter().enumerate() {
        assert_eq!(get(&s, &format!("/v1/accounts/shop/prices/{k}"), &a), prices[i], "the single GET");
    }
    // Deleting the trade policy's price shows in the list.
    assert_eq!(s.req("DELETE", "/v1/accounts/shop/prices/k3?trade_policy=b2b", Some(&a), None).0, 204);
    let v = get(&s, "/v1/accounts/shop/prices?offset=2&limit=1", &a);
    assert_eq!(
        (v["prices"][0]["trade_policy_prices"].clone(), v["total"].clone(), v["next_offset"].clone()),
        (json!([]), json!(4), json!(3))
    );
    assert_eq!(get(&s, "/v1/accounts/other/prices", &other)["total"], json!(0));
    assert_eq!(s.req("GET", "/v1/accounts/shop/prices", Some(&other), None).0, 403);
    let (st, v) = s.req("GET", "/v1/accounts/shop/prices/nope", Some(&a), None);
    assert_eq!((st, v["error"]["field"].as_str()), (404, Some("sku")), "{v}");
    let (st, v) = s.req("GET", "/v1/accounts/shop/prices?offset=x", Some(&a), None);
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("offset")), "{v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
