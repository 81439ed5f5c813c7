//! A test harness that runs the real `offernet serve` on port 0 and talks to it with reqwest's
//! blocking client (one per server, keep-alive). Requests that must be malformed or slow on
//! purpose, which a client library will not send, go over a raw `TcpStream` ([`raw_request`]
//! here, and the slow-client helpers of `limits.rs`).

#![allow(dead_code)]

pub mod paging;
pub mod receiver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_offernet");
pub const ADMIN: &str = "admin.test-operator-token-0123456789abcdef";

/// Creates account `id` (currency BRL) as the operator; its token.
pub fn create(s: &Server, id: &str) -> String {
    let body = serde_json::json!({"id": id, "name": id, "currency": "BRL"}).to_string();
    let (st, v) = s.req("POST", "/v1/accounts", Some(ADMIN), Some(&body));
    assert_eq!(st, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
    /// The client for this server; `s.req(…)` and friends reach it through `Deref`.
    pub http: Http,
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("offernet-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut serve = Command::new(BIN);
        serve.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()]).args(extra);
        Server::spawn(serve, dir)
    }

    /// Runs `serve` (an `offernet serve … --listen 127.0.0.1:0`, maybe behind a shell) with the
    /// operator token, and waits for the address it prints.
    pub fn spawn(mut serve: Command, dir: &Path) -> Server {
        let mut child = serve
            .env("OFFERNET_ADMIN_TOKEN", ADMIN)
            .env("OFFERNET_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("offernet serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.trim().strip_prefix("offernet listening on http://").unwrap_or_else(|| panic!("{line}")).to_string();
        let http = Http::new(&addr);
        Server { child, addr, dir: dir.to_path_buf(), http }
    }

    /// `start`, logging at `level` (`OFFERNET_LOG`): every line the process prints on stdout
    /// and stderr is kept in the returned list, for tests of what logs never show.
    pub fn start_logged(dir: &Path, extra: &[&str], level: &str) -> (Server, Arc<Mutex<Vec<String>>>) {
        let mut serve = Command::new(BIN);
        serve.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()]).args(extra);
        let (child, lines, first) = spawn_logged(serve, level);
        let addr =
            first.trim().strip_prefix("offernet listening on http://").unwrap_or_else(|| panic!("{first}")).to_string();
        let http = Http::new(&addr);
        (Server { child, addr, dir: dir.to_path_buf(), http }, lines)
    }

    /// Graceful stop (SIGTERM), waiting for the process to exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0: {status}");
    }

    /// SIGKILL.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl std::ops::Deref for Server {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

/// A test that fails leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `serve` with the operator token, logging at `level`, keeping every line it prints on
/// stderr and stdout (the first stdout line, where it listens, included and also returned).
pub fn spawn_logged(mut serve: Command, level: &str) -> (Child, Arc<Mutex<Vec<String>>>, String) {
    let mut child = serve
        .env("OFFERNET_ADMIN_TOKEN", ADMIN)
        .env("OFFERNET_LOG", level)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("offernet serve starts");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let err = BufReader::new(child.stderr.take().unwrap());
    let keep = lines.clone();
    std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| keep.lock().unwrap().push(l)));
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    lines.lock().unwrap().push(first.trim_end().to_string());
    let keep = lines.clone();
    std::thread::spawn(move || out.lines().map_while(Result::ok).for_each(|l| keep.lock().unwrap().push(l)));
    (child, lines, first)
}

/// The tests' HTTP client builder (no proxy). reqwest's rustls needs a process-wide crypto
/// provider (the server's reqwest enables TLS and features unify): every test client is built
/// here, so none panics for the want of one.
pub fn client_builder() -> reqwest::blocking::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().no_proxy()
}

/// A client of one server; clones share its connections (for tests' own threads).
#[derive(Clone)]
pub struct Http {
    client: reqwest::blocking::Client,
    base: String,
}

impl Http {
    fn new(addr: &str) -> Http {
        // The timeout bounds each read, as a socket read timeout would: long streams live on.
        let client =
            client_builder().tcp_nodelay(true).timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        Http { client, base: format!("http://{addr}") }
    }

    /// A request whose answer is JSON (or empty: null; or not JSON: the text as a string).
    pub fn req(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        let (status, text) = self.raw(method, path, token, body, &[]);
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, v)
    }

    /// A request with extra headers: (status, body text). A body, or any POST, PUT or PATCH,
    /// goes as `application/json`.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let mut r = self.client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            r = r.header("Content-Type", "application/json").body(body.to_string());
        }
        let resp = r.send().unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// Opens an event stream (`text/event-stream`); it must answer 200.
    pub fn stream(&self, path: &str, token: &str) -> EventStream {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Accept", "text/event-stream")
            .send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(resp.status(), 200, "event stream {path}");
        EventStream(BufReader::new(resp))
    }
}

/// An open event stream.
pub struct EventStream(BufReader<reqwest::blocking::Response>);

impl EventStream {
    /// The next `data:` payload (other fields and comments skipped).
    pub fn next_event(&mut self) -> std::io::Result<Value> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.0.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "stream ended"));
            }
            if let Some(data) = line.trim_end().strip_prefix("data:") {
                return serde_json::from_str(data.trim()).map_err(std::io::Error::other);
            }
        }
    }
}

/// Reads events until one satisfies `pred`.
pub fn read_until(r: &mut EventStream, mut pred: impl FnMut(&Value) -> bool) -> Value {
    loop {
        let v = r.next_event().expect("the stream goes on");
        if pred(&v) {
            return v;
        }
    }
}

/// Sends `request` as it is, framed well or badly, on a new TCP connection and reads one
/// response: (status, body). For requests a client library refuses to send.
pub fn raw_request(addr: &str, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut r = BufReader::new(s);
    let (mut head, mut line) = (String::new(), String::new());
    while r.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
        head.push_str(&line);
        line.clear();
    }
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status: {head:?}"));
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .map_or(0, |(_, v)| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A fresh PostgreSQL database `db` on the server of `OFFERNET_TEST_POSTGRES_URL` (CI drops the
/// tests' databases afterwards): its URL and a connection to the server's maintenance database.
/// `None` (SKIPPED, naming `what`) without the variable, which CI always sets.
pub fn fresh_database(rt: &tokio::runtime::Runtime, db: &str, what: &str) -> Option<(String, sqlx::PgConnection)> {
    use sqlx::Connection;
    let base = match std::env::var("OFFERNET_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI=true needs OFFERNET_TEST_POSTGRES_URL");
            eprintln!("SKIPPED: {what} test on PostgreSQL (set OFFERNET_TEST_POSTGRES_URL to run it)");
            return None;
        }
    };
    let (head, query) =
        base.split_once('?').map(|(h, q)| (h.to_string(), format!("?{q}"))).unwrap_or((base.clone(), String::new()));
    let url = format!("{}/{db}{query}", head.rsplit_once('/').map(|(r, _)| r).unwrap_or(&head));
    let admin = rt.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL reachable");
        for sql in [format!("DROP DATABASE IF EXISTS {db}"), format!("CREATE DATABASE {db}")] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
        }
        admin
    });
    Some((url, admin))
}

/// Damages the last journal entry of the SQLite data directory `dir` (its stock update to 5
/// becomes 7, so its checksum no longer matches, as a bad sector would) and deletes the
/// snapshots (as after a crash before the first), so startup replays it. Returns its seq.
pub fn damage_last_entry(dir: &Path) -> i64 {
    let journal = dir.join("journal.sqlite");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", journal.display())).await.unwrap();
        let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM journal").fetch_one(&mut c).await.unwrap();
        sqlx::raw_sql("DELETE FROM snapshot_chunks; DELETE FROM snapshots").execute(&mut c).await.unwrap();
        // Both forms: startup replays a stock update from its binary form (its last byte flipped
        // here) and reads no JSON of it; `journal verify` reads both.
        sqlx::query(
            "UPDATE journal SET command = replace(command, '\"quantity\":5', '\"quantity\":7'), \
             bin = CASE WHEN bin IS NULL THEN NULL ELSE substr(bin, 1, length(bin) - 1) || \
             CASE WHEN substr(bin, -1) = X'7f' THEN X'7e' ELSE X'7f' END END WHERE seq = ?",
        )
        .bind(last)
        .execute(&mut c)
        .await
        .unwrap();
        last
    })
}
