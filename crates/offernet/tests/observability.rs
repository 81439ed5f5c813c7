//! Observability through the real binary: request ids on every answer, access log lines (route
//! template and account, never a token), `--log-format json` making every line JSON, the
//! per-route metrics, and `/readyz`.

mod common;

use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{temp_dir, ADMIN, BIN};
use serde_json::{json, Value};

/// A server whose stdout and stderr lines are all kept (logs at `info`).
struct Obs {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
    http: reqwest::blocking::Client,
}

impl Obs {
    fn start(name: &str, json: bool) -> Obs {
        let dir = temp_dir(name);
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()]);
        if json {
            cmd.args(["--log-format", "json"]);
        }
        let (child, lines, first) = common::spawn_logged(cmd, "info");
        let addr = if json {
            let v: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("JSON ({e}): {first}"));
            v["fields"]["addr"].as_str().unwrap().to_string()
        } else {
            first.trim().strip_prefix("offernet listening on http://").unwrap_or_else(|| panic!("{first}")).to_string()
        };
        let http = common::client_builder().timeout(Duration::from_secs(30)).build().unwrap();
        Obs { child, base: format!("http://{addr}"), lines, http }
    }

    /// (status, x-request-id of the answer, body).
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>, id: Option<&str>) -> Answer {
        let mut r = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(i) = id {
            r = r.header("x-request-id", i);
        }
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b.to_string());
        }
        let resp = r.send().unwrap();
        let status = resp.status().as_u16();
        let ids: Vec<String> =
            resp.headers().get_all("x-request-id").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(ids.len() <= 1, "one request id: {ids:?}");
        Answer { status, id: ids.into_iter().next(), body: resp.text().unwrap() }
    }

    /// Graceful stop; then every line the process printed.
    fn stop(mut self) -> Vec<String> {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(self.child.wait().unwrap().success());
        std::thread::sleep(Duration::from_millis(200));
        let lines = self.lines.lock().unwrap().clone();
        lines
    }
}

impl Drop for Obs {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Answer {
    status: u16,
    id: Option<String>,
    body: String,
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && s.matches('-').count() == 4
}

fn create(s: &Obs, id: &str) -> String {
    let body = json!({"id": id, "name": id, "currency": "BRL"}).to_string();
    let a = s.call("POST", "/v1/accounts", Some(ADMIN), Some(&body), None);
    assert_eq!(a.status, 201, "{}", a.body);
    serde_json::from_str::<Value>(&a.body).unwrap()["token"].as_str().unwrap().to_string()
}

/// (method, path, token, body, status).
type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, u16);

#[test]
fn request_ids_are_echoed_or_generated_on_every_answer() {
    let s = Obs::start("obs-ids", false);
    let tok = create(&s, "shop");
    // Given: echoed, on successes and on errors alike.
    let cases: [Case; 5] = [
        ("GET", "/healthz", None, None, 200),
        ("GET", "/v1/accounts/shop/offers/x", None, None, 401),
        ("GET", "/no/such/route", None, None, 404),
        ("PUT", "/v1/accounts/shop/skus/a", Some(&tok), Some("{not json"), 400),
        ("GET", "/v1/accounts/shop/offers/x", Some(&tok), None, 404),
    ];
    for (i, (method, path, token, body, status)) in cases.iter().enumerate() {
        let given = format!("caller-id-{i}.x:y");
        let a = s.call(method, path, *token, *body, Some(&given));
        assert_eq!(a.status, *status, "{method} {path}: {}", a.body);
        assert_eq!(a.id.as_deref(), Some(given.as_str()), "{method} {path} echoes the caller's id");
        // Not given: a fresh UUID each time.
        let a = s.call(method, path, *token, *body, None);
        let b = s.call(method, path, *token, *body, None);
        assert_eq!(a.status, *status);
        let (a, b) = (a.id.expect("an id is generated"), b.id.expect("an id is generated"));
        assert!(is_uuid(&a) && a != b, "{a} {b}");
    }
    // A caller's id that is too long or has characters a log line should not carry: replaced.
    for bad in ["x".repeat(129), "two words".into(), "quote\"d".into()] {
        let a = s.call("GET", "/healthz", None, None, Some(&bad));
        assert!(a.id.as_deref().is_some_and(is_uuid), "{bad:?} replaced, got {:?}", a.id);
    }
    let a = s.call("GET", "/healthz", None, None, Some(&"x".repeat(128)));
    assert_eq!(a.id, Some("x".repeat(128)), "128 characters are kept");
    s.stop();
}

#[test]
fn json_logs_are_all_json_with_access_lines_that_name_the_route_not_the_token() {
    let s = Obs::start("obs-json", true);
    let tok = create(&s, "shop");
    let a = s.call("GET", "/v1/accounts/shop/offers/sku-123", Some(&tok), None, Some("trace-me-1"));
    assert_eq!(a.status, 404, "{}", a.body);
    let a = s.call("GET", "/v1/accounts/shop/offers/sku-123", Some("wrong-token-secret"), None, Some("trace-me-2"));
    assert_eq!(a.status, 401);
    let lines = s.stop();
    assert!(lines.len() > 5, "{lines:?}");
    let mut parsed = Vec::new();
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("every line is JSON ({e}): {l}"));
        parsed.push(v);
    }
    // The lines printed outside tracing are JSON too.
    for m in ["offernet listening on http://", "journal: ", "operator token: ", "shutting down"] {
        assert!(parsed.iter().any(|v| v["fields"]["message"].as_str().is_some_and(|t| t.starts_with(m))), "{m}");
    }
    // One access line per request, with the route template, the account, status and latency,
    // and the request id on its span.
    let access: Vec<&Value> = parsed.iter().filter(|v| v["target"] == "offernet::access").collect();
    for (id, status) in [("trace-me-1", 404), ("trace-me-2", 401)] {
        let mine: Vec<&&Value> = access.iter().filter(|v| v["span"]["request_id"] == id).collect();
        assert_eq!(mine.len(), 1, "one access line for {id}: {access:?}");
        let f = &mine[0]["fields"];
        assert_eq!(f["route"], "/v1/accounts/{m}/offers/{sku}");
        assert_eq!(f["method"], "GET");
        assert_eq!(f["status"], status);
        assert_eq!(f["account"], "shop");
        assert!(f["latency_ms"].as_f64().is_some());
    }
    assert!(access.iter().any(|v| v["fields"]["route"] == "/v1/accounts" && v["fields"]["status"] == 201));
    // No token anywhere in the logs, not even a wrong one, and no raw path with ids.
    let all = lines.join("\n");
    for secret in [tok.as_str(), ADMIN, "wrong-token-secret", "Bearer", "sku-123"] {
        assert!(!all.contains(secret), "{secret} is logged");
    }
}

#[test]
fn metrics_count_requests_per_route_template_and_readyz_is_ready() {
    let s = Obs::start("obs-metrics", false);
    let tok = create(&s, "shop");
    for _ in 0..3 {
        assert_eq!(s.call("GET", "/v1/accounts/shop/offers/a", None, None, None).status, 401);
    }
    assert_eq!(s.call("GET", "/v1/accounts/shop/offers/b", Some(&tok), None, None).status, 404);
    assert_eq!(s.call("GET", "/nothing/here", None, None, None).status, 404);
    let r = s.call("GET", "/readyz", None, None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v, json!({"status": "ready", "writer": "ok", "recovered": true, "shutting_down": false}));
    let h = s.call("GET", "/healthz", None, None, None);
    assert_eq!((h.status, serde_json::from_str::<Value>(&h.body).unwrap()["status"].clone()), (200, json!("ok")));
    let m = s.call("GET", "/metrics", None, None, None).body;
    let route = r#"route="/v1/accounts/{m}/offers/{sku}""#;
    for want in [
        format!(r#"offernet_http_requests_total{{method="GET",{route},status="401",class="4xx"}} 3"#),
        format!(r#"offernet_http_requests_total{{method="GET",{route},status="404",class="4xx"}} 1"#),
        r#"offernet_http_requests_total{method="POST",route="/v1/accounts",status="201",class="2xx"} 1"#.into(),
        r#"offernet_http_requests_total{method="GET",route="unmatched",status="404",class="4xx"} 1"#.into(),
        format!(r#"offernet_http_request_duration_seconds_bucket{{method="GET",{route},le="+Inf"}} 4"#),
        format!(r#"offernet_http_request_duration_seconds_count{{method="GET",{route}}} 4"#),
        "offernet_journal_commit_seconds_count ".into(),
        "offernet_journal_commit_seconds_sum ".into(),
        "offernet_writer_queue_depth ".into(),
        "offernet_journal_last_batch_size ".into(),
        "offernet_journal_commands_resolved_total ".into(),
        "offernet_events_retained ".into(),
        "offernet_event_streams ".into(),
    ] {
        assert!(m.contains(&want), "{want} in\n{m}");
    }
    let commits = m.lines().find_map(|l| l.strip_prefix("offernet_journal_commit_seconds_count ")).unwrap();
    assert!(commits.parse::<u64>().unwrap() >= 1, "the account's creation was committed");
    // No path with ids as a label.
    assert!(!m.contains("/nothing/here") && !m.contains("offers/a\""));
    s.stop();
}
