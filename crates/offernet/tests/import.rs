//! Bulk import with the real binary: `POST /v1/accounts/{a}/import` (NDJSON, all or nothing,
//! every bad line listed, 415, 413, who may call it), the journal replaying an import after a
//! crash, and `offernet import` with NDJSON and CSV files (split into several requests).

mod common;

use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// POSTs `body` to `path` with `content_type` over a raw connection: (status, JSON answer).
fn post(s: &Server, path: &str, token: Option<&str>, content_type: &str, body: &str) -> (u16, Value) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (st, text) = raw_request(&s.addr, format!("{head}{body}").as_bytes());
    (st, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn import(s: &Server, account: &str, token: &str, body: &str) -> (u16, Value) {
    post(s, &format!("/v1/accounts/{account}/import"), Some(token), "application/x-ndjson", body)
}

fn get(s: &Server, path: &str) -> Value {
    let (st, v) = s.req("GET", path, Some(ADMIN), None);
    assert_eq!(st, 200, "GET {path}: {v}");
    v
}

const CATALOG: &str = r#"{"kind":"trade_policy","id":"2","assortment":"all"}
{"kind":"warehouse","id":"w1","trade_policies":["1","2"]}

{"kind":"sku","id":"s1","name":"Mug","ean":"7891234567895"}
{"kind":"stock","warehouse":"w1","sku":"s1","quantity":5}
{"kind":"price","sku":"s1","price":1990,"list_price":2490}
{"kind":"price","sku":"s1","price":1790,"trade_policy":"2"}
{"kind":"sku","id":"s2","name":"Cup","active":false}
"#;

/// What the account holds, as the list and single reads show it.
fn catalog(s: &Server, a: &str) -> Value {
    json!({
        "skus": get(s, &format!("/v1/accounts/{a}/skus"))["skus"],
        "stock": get(s, &format!("/v1/accounts/{a}/warehouses/w1/stock")),
        "price": s.req("GET", &format!("/v1/accounts/{a}/skus/s1"), Some(ADMIN), None).1,
        "tps": get(s, &format!("/v1/accounts/{a}/trade-policies"))["trade_policies"],
    })
}

#[test]
fn an_ndjson_import_applies_every_line_and_survives_a_crash() {
    let dir = temp_dir("import-ok");
    let s = Server::start(&dir, &[]);
    let token = create(&s, "a");
    let (st, v) = import(&s, "a", &token, CATALOG);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["lines"], 7);
    assert_eq!(v["counts"], json!({"sku": 2, "price": 2, "warehouse": 1, "stock": 1, "trade_policy": 1}));
    let sku = get(&s, "/v1/accounts/a/skus/s1");
    assert_eq!(sku["price"], 1990, "{sku}");
    assert_eq!(sku["trade_policy_prices"][0]["price"], 1790, "{sku}");
    assert_eq!(sku["stock"][0]["quantity"], 5, "{sku}");
    assert_eq!(get(&s, "/v1/accounts/a/skus/s2")["active"], false);
    let before = catalog(&s, "a");
    // A crash: no snapshot at shutdown, so the import is replayed from its journal entry.
    s.kill9();
    let s = Server::start(&dir, &[]);
    assert_eq!(catalog(&s, "a"), before);
    s.stop();
}

#[test]
fn one_bad_line_refuses_the_whole_import_and_each_bad_line_is_listed() {
    let dir = temp_dir("import-bad");
    let s = Server::start(&dir, &[]);
    let token = create(&s, "a");
    // Lines the server cannot read: each listed with its number and field.
    let body = "{\"kind\":\"sku\",\"id\":\"s1\",\"name\":\"Mug\"}\n\
                {\"kind\":\"sku\",\"id\":\"s2\",\"name\":\"Mug\",\"colour\":\"red\"}\n\
                not json\n\
                \n\
                {\"kind\":\"shoe\",\"id\":\"x\"}\n\
                {\"kind\":\"price\",\"sku\":\"s1\",\"price\":\"cheap\"}\n\
                {\"kind\":\"stock\",\"sku\":\"s1\",\"quantity\":1}\n\
                {\"kind\":\"sku\",\"id\":\"s3\",\"name\":\"  \"}\n";
    let (st, v) = import(&s, "a", &token, body);
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"]["code"], "invalid_import");
    let listed: Vec<(u64, Option<&str>)> = v["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l["field"].as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (2, Some("colour")),
            (3, None),
            (5, Some("kind")),
            (6, Some("price")),
            (7, Some("warehouse")),
            (8, Some("name"))
        ]
    );
    assert_eq!(v["error"]["total"], 6);
    // Lines the engine refuses, between good ones: numbered as in the body (blank lines count).
    let body = "{\"kind\":\"warehouse\",\"id\":\"w1\"}\n\
                {\"kind\":\"sku\",\"id\":\"s1\",\"name\":\"Mug\"}\n\
                \n\
                {\"kind\":\"stock\",\"warehouse\":\"w9\",\"sku\":\"s1\",\"quantity\":1}\n\
                {\"kind\":\"sku\",\"id\":\"s2\",\"name\":\"Cup\",\"ean\":\"123\"}\n\
                {\"kind\":\"stock\",\"warehouse\":\"w1\",\"sku\":\"s1\",\"quantity\":3}\n";
    let (st, v) = import(&s, "a", &token, body);
    assert_eq!(st, 400, "{v}");
    let lines = &v["error"]["lines"];
    assert_eq!((lines[0]["line"].as_u64(), lines[0]["field"].as_str()), (Some(4), Some("warehouse")), "{v}");
    assert_eq!(lines[0]["code"], "not_found");
    assert_eq!((lines[1]["line"].as_u64(), lines[1]["field"].as_str()), (Some(5), Some("ean")), "{v}");
    assert_eq!(v["error"]["total"], 2);
    // Nothing of either import was applied.
    assert_eq!(get(&s, "/v1/accounts/a/skus")["total"], 0);
    assert_eq!(get(&s, "/v1/accounts/a/warehouses")["total"], 0);
    assert_eq!(get(&s, "/v1/accounts/a/events?after=0")["events"], json!([]));
    s.stop();
}

#[test]
fn other_media_types_oversized_bodies_and_strangers_are_refused() {
    let dir = temp_dir("import-limits");
    let s = Server::start(&dir, &[]);
    let a = create(&s, "a");
    let b = create(&s, "b");
    let line = "{\"kind\":\"warehouse\",\"id\":\"w1\"}\n";
    let path = "/v1/accounts/a/import";
    let (st, v) = post(&s, path, Some(&a), "application/json", line);
    assert_eq!((st, v["error"]["code"].as_str()), (415, Some("unsupported_media_type")), "{v}");
    assert_eq!(import(&s, "a", &a, "application/x-ndjson; charset=utf-8").0, 400, "not a line, but the type is right");
    assert_eq!(post(&s, path, Some(&a), "application/x-ndjson; charset=utf-8", line).0, 200);
    // Who: the account and the operator, no one else.
    assert_eq!(post(&s, path, None, "application/x-ndjson", line).0, 401);
    assert_eq!(post(&s, path, Some(&b), "application/x-ndjson", line).0, 403);
    assert_eq!(post(&s, path, Some(ADMIN), "application/x-ndjson", line).0, 200);
    assert_eq!(import(&s, "nobody", ADMIN, line).0, 404);
    // 413: a declared length over 256 MiB (refused before it is read), a line over 1 MiB, and
    // more than 1,000,000 lines.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {a}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n{line}",
        (256 << 20) + 1
    );
    let (st, text) = raw_request(&s.addr, head.as_bytes());
    assert_eq!(st, 413, "{text}");
    let long = format!("{{\"kind\":\"sku\",\"id\":\"s\",\"name\":\"{}\"}}\n", "x".repeat(1 << 20));
    let (st, v) = import(&s, "a", &a, &format!("{line}{long}"));
    assert_eq!((st, v["error"]["code"].as_str()), (413, Some("line_too_long")), "{st}");
    assert!(v["error"]["message"].as_str().unwrap().contains("line 2"), "{v}");
    let (st, v) = import(&s, "a", &a, &"{}\n".repeat(1_000_001));
    assert_eq!((st, v["error"]["code"].as_str()), (413, Some("too_many_lines")), "{v}");
    // An empty import.
    assert_eq!(import(&s, "a", &a, "\n\n").0, 400);
    s.stop();
}

fn cli(args: &[&str], token: &str) -> std::process::Output {
    Command::new(BIN).arg("import").args(args).env("OFFERNET_TOKEN", token).output().unwrap()
}

#[test]
fn the_cli_imports_ndjson_and_csv_files_in_several_requests() {
    let dir = temp_dir("import-cli");
    let s = Server::start(&dir, &[]);
    let (a, b) = (create(&s, "a"), create(&s, "b"));
    std::fs::create_dir_all(&dir).unwrap();
    let server = format!("http://{}", s.addr);
    let ndjson = dir.join("catalog.ndjson");
    std::fs::write(&ndjson, CATALOG).unwrap();
    let out = cli(&["--account", "a", "--server", &server, "--lines-per-request", "3", ndjson.to_str().unwrap()], &a);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("imported 7 lines into `a` in 3 request(s)"), "{stdout}");
    // The same catalog as CSV, into b: the same state.
    let csv = dir.join("catalog.csv");
    std::fs::write(
        &csv,
        "kind,id,sku,warehouse,name,ean,active,quantity,price,list_price,trade_policy,trade_policies,assortment\n\
         trade_policy,2,,,,,,,,,,,all\n\
         warehouse,w1,,,,,,,,,,1;2,\n\
         sku,s1,,,Mug,7891234567895,,,,,,,\n\
         stock,,s1,w1,,,,5,,,,,\n\
         price,,s1,,,,,,1990,2490,,,\n\
         price,,s1,,,,,,1790,,2,,\n\
         sku,s2,,,Cup,,false,,,,,,\n",
    )
    .unwrap();
    let out = cli(&["--account", "b", "--server", &server, csv.to_str().unwrap()], &b);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(catalog(&s, "b"), catalog(&s, "a"));
    // A refused file names the file's lines; nothing of its request was applied.
    std::fs::write(&csv, "kind,id,name,ean\nsku,s9,Pan,\nsku,s10,Pot,42\n").unwrap();
    let out = cli(&["--account", "b", "--server", &server, csv.to_str().unwrap()], &b);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("line 3 `ean`"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(s.req("GET", "/v1/accounts/b/skus/s9", Some(ADMIN), None).0, 404);
    s.stop();
}
