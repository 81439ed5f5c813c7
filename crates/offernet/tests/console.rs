//! The console's server side, through the real binary: the page and its files are served from
//! the binary with a strict Content-Security-Policy, the vendored libraries byte for byte as
//! `console/vendor/README.md` records them; and the network reads the console draws from
//! (`GET /v1/connections`, `GET /v1/accounts/{a}/network`): both halves, directions, depth,
//! paging, and who may read them.

mod common;

use common::paging::*;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// (file, sha256) of each vendored file, from the README's `file:` and `sha256:` lines.
fn recorded() -> Vec<(String, String)> {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../offernet-server/console/vendor/README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let files = text.lines().filter_map(|l| l.strip_prefix("served as: "));
    let sums = text.lines().filter_map(|l| l.strip_prefix("sha256: "));
    files.zip(sums).map(|(f, s)| (f.trim().to_string(), s.trim().to_string())).collect()
}

#[test]
fn the_console_and_its_files_come_from_the_binary() {
    let dir = temp_dir("console-files");
    let s = Server::start(&dir, &[]);
    let client = common::client_builder().build().unwrap();
    let base = format!("http://{}", s.addr);
    let page = client.get(format!("{base}/console")).send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    for d in ["default-src 'none'", "connect-src 'self'", "style-src 'self';", "frame-ancestors 'none'"] {
        assert!(csp.contains(d), "{d} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let html = page.text().unwrap();
    assert!(!html.contains("http:") && !html.contains("https:"), "the page names no other origin");

    let vendored = recorded();
    assert_eq!(vendored.len(), 3, "preact, its hooks and htm are recorded: {vendored:?}");
    for (file, sum) in &vendored {
        let r = client.get(format!("{base}/console/{file}")).send().unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        assert_eq!(&hex(&r.bytes().unwrap()), sum, "{file} is the recorded file");
    }
    for file in offernet_server::routes::console::asset_names() {
        let r = client.get(format!("{base}/console/{file}")).send().unwrap();
        assert_eq!(r.status(), 200, "{file}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/javascript") || ct.starts_with("text/css"), "{file}: {ct}");
        let text = r.text().unwrap();
        assert!(!text.contains("https://") || file.ends_with(".mjs"), "{file} loads nothing from elsewhere");
    }
    let (st, body) = s.req("GET", "/console/nope.js", None, None);
    assert_eq!((st, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn pairs(items: &[Value]) -> Vec<String> {
    items.iter().map(|c| format!("{}>{}", c["seller"].as_str().unwrap(), c["marketplace"].as_str().unwrap())).collect()
}

#[test]
fn the_network_lists_connections_with_both_halves_up_and_down() {
    let dir = temp_dir("console-network");
    let s = Server::start(&dir, &[]);
    // a → b → c → d, x → b (a second seller of b), b → y (a second marketplace of b), and a
    // half-made connection e → a (e's half only).
    let ids = ["a", "b", "c", "d", "e", "x", "y"];
    let tok: std::collections::HashMap<&str, String> = ids.iter().map(|&i| (i, create(&s, i))).collect();
    for (sl, m) in [("a", "b"), ("b", "c"), ("c", "d"), ("x", "b"), ("b", "y"), ("e", "a")] {
        ok(&s, "PUT", &format!("/v1/accounts/{sl}/affiliations/{m}"), &tok[sl], json!({"trade_policy": "1"}));
        if sl != "e" {
            ok(&s, "PUT", &format!("/v1/accounts/{m}/sellers/{sl}"), &tok[m], json!({"active": sl != "x"}));
        }
    }
    let every = all(&s, "/v1/connections", "connections", ADMIN, 2);
    assert_eq!(pairs(&every), ["a>b", "b>c", "b>y", "c>d", "e>a", "x>b"], "sorted by seller, then marketplace");
    let half = every.iter().find(|c| c["seller"] == "e").unwrap();
    assert!(half["registration"].is_null() && half["affiliation"]["marketplace"] == "a", "{half}");
    let paused = every.iter().find(|c| c["seller"] == "x").unwrap();
    assert_eq!(paused["registration"]["active"], false, "{paused}");

    let around =
        |a: &str, d: u32| pairs(&all(&s, &format!("/v1/accounts/{a}/network?depth={d}"), "connections", &tok[a], 100));
    // Up from c: its seller b, b's sellers a and x; down: d. Not b's other marketplace y.
    assert_eq!(around("c", 2), ["a>b", "b>c", "c>d", "x>b"]);
    assert_eq!(around("c", 1), ["b>c", "c>d"]);
    assert_eq!(around("c", 3), ["a>b", "b>c", "c>d", "e>a", "x>b"]);
    assert_eq!(around("a", 8), ["a>b", "b>c", "b>y", "c>d", "e>a"]);
    assert_eq!(around("y", 1), ["b>y"]);

    let (st, v) = s.req("GET", "/v1/accounts/c/network?depth=9", Some(&tok["c"]), None);
    assert_eq!((st, v["error"]["field"].as_str()), (400, Some("depth")), "{v}");
    let (st, _) = s.req("GET", "/v1/accounts/c/network?depth=0", Some(&tok["c"]), None);
    assert_eq!(st, 400);
    let (st, _) = s.req("GET", "/v1/accounts/c/network", Some(&tok["a"]), None);
    assert_eq!(st, 403, "another account's neighbourhood");
    let (st, _) = s.req("GET", "/v1/connections", Some(&tok["a"]), None);
    assert_eq!(st, 403, "every connection is the operator's");
    let (st, v) = s.req("GET", "/v1/accounts/nobody/network", Some(ADMIN), None);
    assert_eq!(st, 404, "{v}");
    let (st, v) = s.req("GET", "/v1/accounts/c/network", Some(ADMIN), None);
    assert_eq!((st, v["total"].as_u64()), (200, Some(5)), "depth 3 when not given: {v}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
