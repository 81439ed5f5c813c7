//! The list routes with the real binary: accounts (operator only), an account's SKUs (with the
//! `active` and `q` filters), warehouses and trade policies, connections in both directions
//! with both halves, and orders by role, status and time; each paged by `limit`/`offset` and
//! sorted by id, each item as the single GET shows it.

mod common;

use common::paging::*;
use common::*;
use serde_json::{json, Value};

fn error_field(s: &Server, path: &str, token: &str) -> (u16, Value) {
    let (st, v) = s.req("GET", path, Some(token), None);
    (st, v["error"]["field"].clone())
}

#[test]
fn accounts_are_listed_by_the_operator_only() {
    let dir = temp_dir("list-accounts");
    let s = Server::start(&dir, &[]);
    let mut tokens = Vec::new();
    for id in ["delta", "alpha", "echo", "charlie", "bravo"] {
        tokens.push(create(&s, id));
    }
    let accounts = all(&s, "/v1/accounts", "accounts", ADMIN, 2);
    assert_eq!(ids(&accounts, "id"), ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(accounts[0], get(&s, "/v1/accounts/alpha", ADMIN), "the single GET's shape");
    let v = get(&s, "/v1/accounts?offset=4&limit=3", ADMIN);
    assert_eq!(
        (v["total"].clone(), v["next_offset"].clone(), v["accounts"][0]["id"].clone()),
        (json!(5), json!(null), json!("echo"))
    );
    let v = get(&s, "/v1/accounts?offset=9", ADMIN);
    assert_eq!(v["accounts"], json!([]), "{v}");
    assert_eq!(s.req("GET", "/v1/accounts", Some(&tokens[0]), None).0, 403, "an account may not list accounts");
    assert_eq!(s.req("GET", "/v1/accounts", None, None).0, 401);
    assert_eq!(error_field(&s, "/v1/accounts?limit=0", ADMIN), (400, json!("limit")));
    assert_eq!(error_field(&s, "/v1/accounts?limit=1001", ADMIN), (400, json!("limit")));
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn catalog_lists_filter_and_page() {
    let dir = temp_dir("list-catalog");
    let s = Server::start(&dir, &[]);
    let (a, other) = (create(&s, "shop"), create(&s, "other"));
    let skus = [
        ("k3", json!({"name": "Kettle", "brand": "Acme", "ean": "4006381333931"})),
        ("k1", json!({"name": "Teapot", "brand": "KETTLECO"})),
        ("k2", json!({"name": "Mug", "active": false})),
        ("k4", json!({"name": "Cup", "ean": "7891234567895"})),
    ];
    for (id, body) in skus {
        ok(&s, "PUT", &format!("/v1/accounts/shop/skus/{id}"), &a, body);
    }
    ok(&s, "PUT", "/v1/accounts/shop/trade-policies/b2b", &a, json!({"name": "B2B", "assortment": ["k1"]}));
    ok(&s, "PUT", "/v1/accounts/shop/warehouses/west", &a, json!({"trade_policies": ["1", "b2b"]}));
    ok(&s, "PUT", "/v1/accounts/shop/warehouses/east", &a, json!({}));
    ok(&s, "PUT", "/v1/accounts/shop/warehouses/west/stock/k3", &a, json!({"quantity": 7}));
    ok(&s, "PUT", "/v1/accounts/shop/prices/k3", &a, json!({"price": 500}));
    ok(&s, "PUT", "/v1/accounts/shop/prices/k3", &a, json!({"price": 450, "trade_policy": "b2b"}));

    let list = all(&s, "/v1/accounts/shop/skus", "skus", &a, 3);
    assert_eq!(ids(&list, "id"), ["k1", "k2", "k3", "k4"]);
    assert_eq!(list[2], get(&s, "/v1/accounts/shop/skus/k3", &a), "the single GET's shape, stock and prices");
    let q = |query: &str| ids(&all(&s, &format!("/v1/accounts/shop/skus?{query}"), "skus", &a, 100), "id");
    assert_eq!(q("q=kettle"), ["k1", "k3"], "name or brand, any case");
    assert_eq!(q("q=KeTt"), ["k1", "k3"]);
    assert_eq!(q("q=789123"), ["k4"], "part of the EAN");
    assert_eq!(q("active=false"), ["k2"]);
    assert_eq!(q("active=true&q=t"), ["k1", "k3"]);
    assert_eq!(q("q=nothing"), Vec::<String>::new());
    let long = "x".repeat(201);
    assert_eq!(error_field(&s, &format!("/v1/accounts/shop/skus?q={long}"), &a), (400, json!("q")));
    assert_eq!(q(&format!("q={}", "x".repeat(200))), Vec::<String>::new(), "200 characters are allowed");
    assert_eq!(error_field(&s, "/v1/accounts/shop/skus?active=yes", &a), (400, json!("active")));

    let whs = all(&s, "/v1/accounts/shop/warehouses", "warehouses", &a, 1);
    assert_eq!(ids(&whs, "id"), ["east", "west"]);
    assert_eq!(whs[1], get(&s, "/v1/accounts/shop/warehouses/west", &a));
    // A warehouse's stock: the SKUs with stock set there, as the PUT of the stock answers.
    ok(&s, "PUT", "/v1/accounts/shop/warehouses/west/stock/k1", &a, json!({"unlimited": true}));
    let put = ok(&s, "PUT", "/v1/accounts/shop/warehouses/west/stock/k3", &a, json!({"quantity": 7}));
    let stock = all(&s, "/v1/accounts/shop/warehouses/west/stock", "stock", &a, 1);
    assert_eq!(ids(&stock, "sku"), ["k1", "k3"]);
    assert_eq!((stock[1].clone(), stock[0]["unlimited"].clone()), (put, json!(true)));
    assert_eq!(get(&s, "/v1/accounts/shop/warehouses/east/stock", &a)["stock"], json!([]));
    let (st, v) = s.req("GET", "/v1/accounts/shop/warehouses/north/stock", Some(&a), None);
    assert_eq!(st, 404, "{v}");
    let tps = all(&s, "/v1/accounts/shop/trade-policies", "trade_policies", &a, 1);
    assert_eq!(ids(&tps, "id"), ["1", "b2b"]);
    assert_eq!(tps[1], get(&s, "/v1/accounts/shop/trade-policies/b2b", &a));
    // Another account's lists are not this token's to read; the operator reads them all.
    let paths =
        ["skus", "warehouses", "warehouses/west/stock", "trade-policies"].map(|x| format!("/v1/accounts/shop/{x}"));
    for path in &paths {
        assert_eq!(s.req("GET", path, Some(&other), None).0, 403, "{path}");
        assert_eq!(get(&s, path, ADMIN)["total"].as_u64().map(|n| n > 0), Some(true), "{path}");
    }
    // The lists are the committed state: the same after a restart.
    let before = get(&s, "/v1/accounts/shop/skus", &a);
    s.stop();
    let s = Server::start(&dir, &[]);
    assert_eq!(get(&s, "/v1/accounts/shop/skus", &a), before);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn connections_are_listed_from_both_sides_with_both_halves() {
    let dir = temp_dir("list-connections");
    let s = Server::start(&dir, &[]);
    let t: std::collections::HashMap<&str, String> =
        ["seller", "m1", "m2", "m3"].into_iter().map(|id| (id, create(&s, id))).collect();
    // seller → m1 (both halves), seller → m2 (only the seller's), m3 registers the seller only.
    ok(&s, "PUT", "/v1/accounts/seller/affiliations/m2", &t["seller"], json!({"trade_policy": "1"}));
    ok(&s, "PUT", "/v1/accounts/seller/affiliations/m1", &t["seller"], json!({"trade_policy": "1", "resale": "all"}));
    ok(&s, "PUT", "/v1/accounts/m1/sellers/seller", &t["m1"], json!({"commission_bp": 250}));
    ok(&s, "PUT", "/v1/accounts/m3/sellers/seller", &t["m3"], json!({}));

    let affs = all(&s, "/v1/accounts/seller/affiliations", "affiliations", &t["seller"], 1);
    assert_eq!(ids(&affs, "marketplace"), ["m1", "m2"]);
    assert_eq!(affs[0]["affiliation"], get(&s, "/v1/accounts/seller/affiliations/m1", &t["seller"]));
    assert_eq!(affs[0]["registration"], get(&s, "/v1/accounts/m1/sellers/seller", &t["m1"]), "{affs:?}");
    assert_eq!(affs[0]["registration"]["commission_bp"], json!(250), "the seller reads the marketplace's half");
    assert_eq!(affs[1]["registration"], json!(null), "m2 has not registered the seller: {affs:?}");

    let sellers = all(&s, "/v1/accounts/m1/sellers", "sellers", &t["m1"], 5);
    assert_eq!(ids(&sellers, "seller"), ["seller"]);
    assert_eq!(sellers[0]["affiliation"]["resale"], json!("all"), "the marketplace reads the seller's half");
    assert_eq!(sellers[0]["registration"], affs[0]["registration"]);
    let v = get(&s, "/v1/accounts/m3/sellers", &t["m3"]);
    assert_eq!((v["total"].clone(), v["sellers"][0]["affiliation"].clone()), (json!(1), json!(null)), "{v}");
    assert_eq!(get(&s, "/v1/accounts/m2/sellers", &t["m2"])["total"], json!(0));
    assert_eq!(s.req("GET", "/v1/accounts/seller/affiliations", Some(&t["m1"]), None).0, 403);
    assert_eq!(s.req("GET", "/v1/accounts/m1/sellers", Some(&t["seller"]), None).0, 403);
    // Ending a half takes it out of both lists.
    let (st, _) = s.req("DELETE", "/v1/accounts/m1/sellers/seller", Some(&t["m1"]), None);
    assert_eq!(st, 204);
    assert_eq!(
        get(&s, "/v1/accounts/seller/affiliations", &t["seller"])["affiliations"][0]["registration"],
        json!(null)
    );
    assert_eq!(get(&s, "/v1/accounts/m1/sellers", &t["m1"])["total"], json!(0));
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn orders_are_listed_by_role_status_and_time() {
    let dir = temp_dir("list-orders");
    let s = Server::start(&dir, &[]);
    let (sl, m) = (create(&s, "sl"), create(&s, "mk"));
    ok(&s, "PUT", "/v1/accounts/sl/skus/p", &sl, json!({"name": "Pan"}));
    ok(&s, "PUT", "/v1/accounts/sl/prices/p", &sl, json!({"price": 100}));
    ok(&s, "PUT", "/v1/accounts/sl/warehouses/w", &sl, json!({}));
    ok(&s, "PUT", "/v1/accounts/sl/warehouses/w/stock/p", &sl, json!({"quantity": 100}));
    ok(&s, "PUT", "/v1/accounts/sl/affiliations/mk", &sl, json!({"trade_policy": "1"}));
    ok(&s, "PUT", "/v1/accounts/mk/sellers/sl", &m, json!({}));
    let mut created = Vec::new();
    for id in ["o3", "o1", "o2"] {
        let order = json!({"id": id, "items": [{"sku": "sl-p", "quantity": 1, "seller": "sl"}]});
        created.push(ok(&s, "POST", "/v1/accounts/mk/orders", &m, order)["created_ms"].as_u64().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    ok(&s, "POST", "/v1/accounts/mk/orders/o2/cancel", &m, json!({}));
    ok(&s, "POST", "/v1/accounts/mk/orders/o1/authorize", &m, json!({}));
    ok(&s, "POST", "/v1/accounts/sl/orders/mk.o1/invoice", &sl, json!({}));

    // The warehouse's stock shows what the open order (o3) reserves; o1's unit left on invoice.
    let stock = get(&s, "/v1/accounts/sl/warehouses/w/stock", &sl);
    assert_eq!((stock["stock"][0]["quantity"].clone(), stock["stock"][0]["reserved"].clone()), (json!(99), json!(1)));
    let list = |path: &str, token: &str| ids(&all(&s, path, "orders", token, 2), "id");
    let mine = all(&s, "/v1/accounts/mk/orders", "orders", &m, 2);
    assert_eq!(ids(&mine, "id"), ["o1", "o2", "o3"]);
    assert_eq!(mine[0], get(&s, "/v1/accounts/mk/orders/o1", &m), "the single GET's shape");
    assert_eq!(list("/v1/accounts/mk/orders?role=marketplace", &m), ["o1", "o2", "o3"]);
    assert_eq!(list("/v1/accounts/mk/orders?role=seller", &m), Vec::<String>::new());
    assert_eq!(list("/v1/accounts/mk/orders?status=cancelled", &m), ["o2"]);
    assert_eq!(list("/v1/accounts/sl/orders", &sl), ["mk.o1", "mk.o2", "mk.o3"]);
    assert_eq!(list("/v1/accounts/sl/orders?role=seller&status=invoiced", &sl), ["mk.o1"]);
    assert_eq!(list("/v1/accounts/sl/orders?status=reserved", &sl), ["mk.o3"]);
    let sub = &all(&s, "/v1/accounts/sl/orders?status=invoiced", "orders", &sl, 1)[0];
    assert_eq!(*sub, get(&s, "/v1/accounts/sl/orders/mk.o1", &sl));
    // Time range, exclusive at both ends: o3 was created first, o2 last.
    let (first, last) = (created[0], created[2]);
    assert_eq!(list(&format!("/v1/accounts/mk/orders?created_after={first}"), &m), ["o1", "o2"]);
    assert_eq!(list(&format!("/v1/accounts/mk/orders?created_before={last}"), &m), ["o1", "o3"]);
    let range = format!("/v1/accounts/sl/orders?created_after={first}&created_before={last}");
    assert_eq!(list(&range, &sl), ["mk.o1"]);
    for (query, field) in [("role=buyer", "role"), ("status=open", "status"), ("created_after=-1", "created_after")] {
        assert_eq!(error_field(&s, &format!("/v1/accounts/mk/orders?{query}"), &m), (400, json!(field)));
    }
    assert_eq!(s.req("GET", "/v1/accounts/mk/orders", Some(&sl), None).0, 403);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
