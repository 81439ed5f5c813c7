//! The interactive API reference through the real binary: `/` points to `/docs`, `/docs` is an
//! HTML page that loads the vendored bundle from this server only, the bundle is served with
//! its content type and a long cache, byte for byte the file whose sha256 `assets/README.md`
//! records, and an unknown route's 404 points to `/docs`.

mod common;

use common::{temp_dir, Server};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `sha256:` line of the vendored assets' README.
fn recorded_sha256() -> String {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../offernet-server/assets/README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let line = text.lines().find_map(|l| l.strip_prefix("sha256: ")).expect("a sha256: line");
    line.trim().to_string()
}

#[test]
fn docs_are_served_from_the_binary_and_pointed_to() {
    let dir = temp_dir("docs");
    let s = Server::start(&dir, &[]);
    let base = format!("http://{}", s.addr);
    let client = common::client_builder().build().unwrap();

    let (status, index) = s.req("GET", "/", None, None);
    assert_eq!(status, 200);
    assert_eq!(index["docs"], "/docs", "{index}");
    assert_eq!(index["openapi"], "/openapi.json", "{index}");

    let page = client.get(format!("{base}/docs")).send().unwrap();
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::blocking::Response, name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "font-src 'self' data:"] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    let html = page.text().unwrap();
    assert!(html.contains("data-url=\"openapi.json\""), "{html}");
    assert!(!html.contains("http:") && !html.contains("https:"), "the page names no other origin: {html}");
    let asset = html.split("src=\"docs/").nth(1).and_then(|r| r.split('"').next()).expect("the page loads a script");
    assert!(asset.starts_with("scalar-api-reference-") && asset.ends_with(".js"), "{asset}");

    let script = client.get(format!("{base}/docs/{asset}")).send().unwrap();
    assert_eq!(script.status(), 200);
    assert!(header(&script, "content-type").starts_with("text/javascript"));
    assert!(header(&script, "cache-control").contains("max-age=31536000"));
    let bytes = script.bytes().unwrap();
    assert_eq!(hex(&bytes), recorded_sha256(), "the served bundle is the recorded one");
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../offernet-server/assets/");
    assert_eq!(bytes.as_ref(), std::fs::read(format!("{committed}{asset}")).unwrap().as_slice());

    let (status, body) = s.req("GET", "/no/such/route", None, None);
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("/docs"), "{body}");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
