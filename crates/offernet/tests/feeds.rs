//! Product feeds over HTTP with the real binary: the token as a bearer or as a Basic password
//! (what Merchant Center's scheduled fetch sends), `ETag`/`Last-Modified` and 304 while
//! nothing changed, a stock change reaching the feed at once, the incremental JSON Lines form
//! (`?since=`), the issues list, and the 409 of a trade policy without a product URL.

mod common;

use common::*;
use serde_json::{json, Value};

fn put(s: &Server, path: &str, token: &str, body: Value) {
    let (st, v) = s.req("PUT", path, Some(token), Some(&body.to_string()));
    assert_eq!(st, 200, "PUT {path}: {v}");
}

/// (status, headers, body) of a GET with the given headers.
fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let client = common::client_builder().build().unwrap();
    let mut r = client.get(format!("http://{}{path}", s.addr));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = r.send().unwrap();
    let (st, h) = (resp.status().as_u16(), resp.headers().clone());
    (st, h, resp.text().unwrap())
}

/// Seller `s` with SKU `k` (content, price, 5 units) sold at marketplace `m`.
fn network(s: &Server) -> (String, String) {
    let (m, sl) = (create(s, "m"), create(s, "s"));
    let sku = json!({"name": "Kettle", "brand": "Acme", "ean": "4006381333931", "description": "Steel.",
        "images": ["https://cdn.example/k.jpg"]});
    put(s, "/v1/accounts/s/skus/k", &sl, sku);
    put(s, "/v1/accounts/s/prices/k", &sl, json!({"price": 1990}));
    put(s, "/v1/accounts/s/warehouses/w", &sl, json!({}));
    put(s, "/v1/accounts/s/warehouses/w/stock/k", &sl, json!({"quantity": 5}));
    put(s, "/v1/accounts/s/affiliations/m", &sl, json!({"trade_policy": "1"}));
    put(s, "/v1/accounts/m/sellers/s", &m, json!({}));
    (m, sl)
}

/// Long on purpose: one story of a feed, from no product URL to its issues.
#[test]
fn feeds_are_fresh_conditional_and_authenticated() {
    let dir = temp_dir("feeds");
    let s = Server::start(&dir, &[]);
    let (m, sl) = network(&s);
    let xml = "/v1/accounts/m/feeds/1/google.xml";
    let (st, _, body) = get(&s, xml, &[("authorization", &format!("Bearer {m}"))]);
    assert_eq!(st, 409, "no product_url yet: {body}");
    assert!(body.contains("product_url"), "{body}");
    put(
        &s,
        "/v1/accounts/m/trade-policies/1",
        &m,
        json!({"assortment": "all", "product_url": "https://m.example/p/{sku}"}),
    );

    // Who may read: the marketplace's token, as a bearer or as a Basic password; nobody else.
    let bearer = format!("Bearer {m}");
    let (st, h, body) = get(&s, xml, &[("authorization", &bearer)]);
    assert_eq!(st, 200, "{body}");
    assert!(h["content-type"].to_str().unwrap().starts_with("application/xml"));
    assert!(body.contains("<g:id>s-k</g:id>") && body.contains("<g:price>19.90 BRL</g:price>"), "{body}");
    assert!(body.contains("<g:availability>in_stock</g:availability>"), "{body}");
    let basic = format!("Basic {}", base64_encode(&format!("merchant-center:{m}")));
    assert_eq!(get(&s, xml, &[("authorization", &basic)]).0, 200);
    let (st, h, _) = get(&s, xml, &[]);
    assert_eq!(st, 401);
    let challenges: Vec<&str> = h.get_all("www-authenticate").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(challenges.iter().any(|c| c.starts_with("Basic")) && challenges.iter().any(|c| c.starts_with("Bearer")));
    let wrong = format!("Basic {}", base64_encode(&format!("x:{sl}")));
    assert_eq!(get(&s, xml, &[("authorization", &wrong)]).0, 403, "the seller's token is not the marketplace's");

    // 304 while nothing changed, by ETag and by date; a stock change is in the next fetch.
    let etag = h_of(&s, xml, &bearer, "etag");
    let modified = h_of(&s, xml, &bearer, "last-modified");
    assert_eq!(get(&s, xml, &[("authorization", &bearer), ("if-none-match", &etag)]).0, 304);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(get(&s, xml, &[("authorization", &bearer), ("if-modified-since", &modified)]).0, 304);
    let (_, h, _) = get(&s, "/v1/accounts/m/feeds/1/google.jsonl", &[("authorization", &bearer)]);
    let since = h["offernet-next-since"].to_str().unwrap().to_string();
    put(&s, "/v1/accounts/s/warehouses/w/stock/k", &sl, json!({"quantity": 0}));
    let (st, _, body) = get(&s, xml, &[("authorization", &bearer), ("if-none-match", &etag)]);
    assert_eq!(st, 200, "changed: no 304");
    assert!(body.contains("<g:availability>out_of_stock</g:availability>"), "{body}");
    let (st, _, _) = get(&s, xml, &[("authorization", &bearer), ("if-modified-since", &modified)]);
    assert_eq!(st, 200, "changed since that date");

    // Incremental: only what changed since, with where to continue.
    let path = format!("/v1/accounts/m/feeds/1/google.jsonl?since={since}");
    let (st, h, body) = get(&s, &path, &[("authorization", &bearer)]);
    assert_eq!(st, 200, "{body}");
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(
        (lines[0]["sku"].as_str(), lines[0]["item"]["availability"].as_str()),
        (Some("s-k"), Some("out_of_stock"))
    );
    let next = h["offernet-next-since"].to_str().unwrap();
    let path = format!("/v1/accounts/m/feeds/1/google.jsonl?since={next}");
    assert_eq!(get(&s, &path, &[("authorization", &bearer)]).2, "", "nothing changed since");
    let path = "/v1/accounts/m/feeds/1/google.jsonl?since=x";
    assert_eq!(get(&s, path, &[("authorization", &bearer)]).0, 400);

    // TSV, and the issues of a SKU Google would refuse.
    let (st, _, tsv) = get(&s, "/v1/accounts/m/feeds/1/google.tsv", &[("authorization", &bearer)]);
    assert_eq!((st, tsv.lines().count()), (200, 2), "{tsv}");
    put(&s, "/v1/accounts/m/skus/s-k", &m, json!({"name": "Kettle"}));
    let (st, v) = s.req("GET", "/v1/accounts/m/feeds/1/issues", Some(&m), None);
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["items"].as_u64(), v["excluded"].as_u64(), v["total"].as_u64()), (Some(0), Some(1), Some(1)), "{v}");
    assert_eq!(v["skus"][0]["issues"][0]["code"], "missing_description", "{v}");
    assert_eq!(s.req("GET", "/v1/accounts/m/feeds/nope/issues", Some(&m), None).0, 404);
    s.stop();
}

fn h_of(s: &Server, path: &str, auth: &str, name: &str) -> String {
    let (st, h, _) = get(s, path, &[("authorization", auth)]);
    assert_eq!(st, 200);
    h[name].to_str().unwrap().to_string()
}

/// Standard base64 with padding (RFC 4648), for the Basic header.
fn base64_encode(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}
