//! The path form of the inbound auth (vtex-compat.md §0 and §6 Q3): a VTEX admin registers
//! `https://HOST/vtex/shop/k/{key}/api/fulfillment` and sends no headers. The key opens shop's
//! routes to V and nothing else; it is shown once and never logged nor journaled. Also B2's
//! `followUpEmail` from shop's affiliation to V.

use super::*;

/// The key of `seller`'s connection to V, made as `token`: (its status, the answer).
fn make_key(n: &Net, seller: &str, token: &str) -> (u16, Value) {
    n.s.req("POST", &format!("/v1/accounts/{seller}/affiliations/{V}/connection-key"), Some(token), None)
}

fn key_of(answer: &Value) -> String {
    let key = answer["key"].as_str().unwrap_or_else(|| panic!("{answer}")).to_string();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    key
}

/// A request as V's registered URL makes it: no headers at all.
fn keyed(n: &Net, seller: &str, key: &str, route: &str, body: &Value) -> (u16, Value) {
    n.send(&[], &format!("/vtex/{seller}/k/{key}/api/fulfillment{route}"), body)
}

const SIMULATION: &str = "/pvt/orderForms/simulation";

/// Every file of the data directory (journal, snapshots, secrets, their WAL), lossily as text.
fn data_dir_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for f in std::fs::read_dir(dir).unwrap().map_while(Result::ok) {
        if f.path().is_file() {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(f.path()).unwrap()));
        }
    }
    out
}

/// Long on purpose: the whole life of a key (made, used for B1–B3, refused when wrong, for
/// another seller, rotated, revoked, gone with its affiliation), then the logs and the files.
#[test]
fn the_path_form_opens_a_sellers_routes_to_its_marketplace_only() {
    let dir = temp_dir("vtex-keyed");
    let args = ["--vtex", "--public-url", "https://offernet.example"];
    let (s, logs) = Server::start_logged(&dir, &args, "debug");
    let n = network_on(s);
    let (st, e) = n.s.req(
        "PATCH",
        "/v1/accounts/shop/affiliations/vtex-v",
        Some(&n.shop),
        Some(r#"{"follow_up_email": "no-at-sign"}"#),
    );
    assert_eq!((st, &e["error"]["field"]), (400, &json!("follow_up_email")), "{e}");
    let email = json!({"follow_up_email": "orders@shop.example"}).to_string();
    assert_eq!(n.s.req("PATCH", "/v1/accounts/shop/affiliations/vtex-v", Some(&n.shop), Some(&email)).0, 200);
    // Made by the seller (or the operator), never by another account; only with the affiliation.
    assert_eq!(make_key(&n, S, &n.fwd).0, 403);
    assert_eq!(make_key(&n, UP, ADMIN).0, 404, "up is not affiliated to V");
    let (st, made) = make_key(&n, S, &n.shop);
    assert_eq!(st, 201, "{made}");
    let key = key_of(&made);
    let endpoint = format!("https://offernet.example/vtex/shop/k/{key}/api/fulfillment");
    assert_eq!((&made["fulfillment_endpoint"], &made["marketplace"]), (&json!(endpoint), &json!(V)));
    // B1, B2 and B3 through the path form, as V: the same answers, schema-valid.
    let item = json!([{"id": "6", "quantity": 1, "seller": "01"}]);
    let (st, a) = keyed(&n, S, &key, SIMULATION, &checkout(item.clone()));
    assert_eq!(st, 200, "{a}");
    n.valid("responseFulfillmentSimulation", &a);
    assert_eq!((&a["items"][0]["price"], &a["logisticsInfo"][0]["stockBalance"]), (&json!(2499), &json!(5)));
    let (st, a) = keyed(&n, S, &key, "/pvt/orders?sc=1&affiliateId=VTX", &json!([super::placement(2, 2499)]));
    assert_eq!(st, 200, "{a}");
    n.valid("responseOrderPlacement", &a[0]);
    assert_eq!(
        (&a[0]["orderId"], &a[0]["followUpEmail"]),
        (&json!("vtex-v.1138342255777-01"), &json!("orders@shop.example"))
    );
    let (st, a) = keyed(&n, S, &key, "/pvt/orders/vtex-v.1138342255777-01/fulfill", &json!({}));
    assert_eq!(st, 200, "{a}");
    n.valid("repsonseOrderId", &a);
    let (_, o) = super::order_of(&n, V, &n.v, "1138342255777-01");
    assert_eq!(o["status"], "authorized", "{o}");
    // Headers still work on the same routes.
    assert_eq!(n.vtex(&format!("{BASE}{SIMULATION}"), &checkout(item.clone())).0, 200);
    // A wrong key, a malformed one, and shop's key on fwd's routes: 401, VTEX's shape.
    let mut wrong = key.clone().into_bytes();
    wrong[10] = if wrong[10] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    for (seller, k) in [(S, wrong.as_str()), (S, "abc"), (F, key.as_str())] {
        let (st, e) = keyed(&n, seller, k, SIMULATION, &checkout(item.clone()));
        assert_eq!((st, &e["error"]["code"]), (401, &json!("unauthorized")), "{seller} {k}: {e}");
    }
    // Rotated by the operator: the old key stops at once, the new one works.
    let (st, again) = make_key(&n, S, ADMIN);
    assert_eq!(st, 201, "{again}");
    let rotated = key_of(&again);
    assert_ne!(rotated, key);
    assert_eq!(keyed(&n, S, &key, SIMULATION, &checkout(item.clone())).0, 401, "rotated away");
    assert_eq!(keyed(&n, S, &rotated, SIMULATION, &checkout(item.clone())).0, 200);
    // Revoked: 401; revoking again finds none.
    let path = format!("/v1/accounts/shop/affiliations/{V}/connection-key");
    assert_eq!(n.s.req("DELETE", &path, Some(&n.shop), None).0, 204);
    assert_eq!(keyed(&n, S, &rotated, SIMULATION, &checkout(item.clone())).0, 401, "revoked");
    assert_eq!(n.s.req("DELETE", &path, Some(&n.shop), None).0, 404);
    // Ending the affiliation revokes its key: a new affiliation starts without one.
    let (_, made) = make_key(&n, F, &n.fwd);
    let fwd_key = key_of(&made);
    let fwd_item = json!([{"id": "up-x", "quantity": 1, "seller": "fwd"}]);
    assert_eq!(keyed(&n, F, &fwd_key, SIMULATION, &checkout(fwd_item.clone())).0, 200);
    assert_eq!(n.s.req("DELETE", "/v1/accounts/fwd/affiliations/vtex-v", Some(&n.fwd), None).0, 204);
    n.put("/v1/accounts/fwd/affiliations/vtex-v", &n.fwd, json!({"trade_policy": "1"}));
    assert_eq!(keyed(&n, F, &fwd_key, SIMULATION, &checkout(fwd_item)).0, 401, "gone with its affiliation");
    // No key in any log line (the access lines name the route template), journal entry,
    // snapshot or file of the data directory.
    n.s.stop();
    let logs = logs.lock().unwrap().join("\n");
    assert!(logs.contains("/vtex/{s}/k/{key}/{*rest}"), "the keyed requests are logged by their template");
    let files = data_dir_text(&dir);
    let journal = super::journal_text(&dir.join("journal.sqlite"));
    for k in [&key, &rotated, &fwd_key] {
        assert!(!logs.contains(k.as_str()), "a key is in the logs");
        assert!(!files.contains(k.as_str()) && !journal.contains(k.as_str()), "a key is in the data directory");
    }
    assert!(journal.contains("1138342255777-01"), "the journal was read");
    let _ = std::fs::remove_dir_all(&dir);
}
