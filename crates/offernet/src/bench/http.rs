//! Both ends of the HTTP benchmarks: an in-process server on 127.0.0.1 (port 0) over a fresh
//! temporary data directory, and a reqwest client (keep-alive, HTTP/1.1, no proxy) talking to it.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde_json::{json, Value};

use super::common::temp_dir;
use crate::shared::{e, runtime, Result};

/// The operator token of the benchmarks' in-process servers.
pub const BENCH_ADMIN: &str = "admin.bench-operator-token-0123456789abcdef";

/// Starts an in-process server (at most `max_batch` commands per journal commit, data in a
/// temporary directory `name`), runs `work` with a client for it, then shuts the server down
/// and removes its data. The clients run on a runtime of their own, as separate client
/// processes would, so that they do not take turns with the server's tasks.
pub fn with_server<T, F, Fut>(name: &str, max_batch: usize, work: F) -> Result<T>
where
    F: FnOnce(Api) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let (server_rt, client_rt) = (runtime()?, runtime()?);
    let dir = temp_dir(name);
    let config = offernet_server::Config {
        data_dir: dir.clone(),
        listen: "127.0.0.1:0".into(),
        admin_token: Some(BENCH_ADMIN.into()),
        snapshot_every: 0,
        max_batch,
        ..Default::default()
    };
    let running = server_rt.block_on(offernet_server::start(config))?;
    let result = Api::new(&running.addr.to_string()).and_then(|api| client_rt.block_on(work(api)));
    server_rt.block_on(running.shutdown())?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A client of one server: one connection pool shared by every clone.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    fn new(addr: &str) -> Result<Api> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .read_timeout(Duration::from_secs(30))
            .build()
            .map_err(e)?;
        Ok(Api { client, base: format!("http://{addr}") })
    }

    /// One request with the account's token and a JSON body: (status, body).
    pub async fn send(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Result<(u16, String)> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(e)?;
        let mut req = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.to_string());
        }
        let resp = req.send().await.map_err(e)?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(e)?))
    }

    /// A request that must succeed (2xx): its JSON answer (null when empty).
    pub async fn must(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Result<Value> {
        let (st, text) = self.send(method, path, token, body.as_ref()).await?;
        if st >= 300 {
            return Err(format!("{method} {path}: {st} {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates accounts (currency BRL) and returns their tokens by id.
    pub async fn create_accounts(&self, ids: &[&str]) -> Result<HashMap<String, String>> {
        let mut tok = HashMap::new();
        for id in ids {
            let body = json!({"id": id, "name": id, "currency": "BRL"});
            let v = self.must("POST", "/v1/accounts", BENCH_ADMIN, Some(body)).await?;
            tok.insert(id.to_string(), v["token"].as_str().unwrap_or_default().to_string());
        }
        Ok(tok)
    }

    /// Opens an event stream (`text/event-stream`); read it with [`EventStream::next_event`].
    pub async fn events(&self, path: &str, token: &str) -> Result<EventStream> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(e)?;
        if response.status() != 200 {
            return Err(format!("event stream answered {}", response.status().as_u16()));
        }
        Ok(EventStream { response, buf: Vec::new() })
    }
}

/// An open event stream.
pub struct EventStream {
    response: reqwest::Response,
    buf: Vec<u8>,
}

impl EventStream {
    /// The next `data:` payload (other fields and comments skipped).
    pub async fn next_event(&mut self) -> Result<Value> {
        loop {
            while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                if let Some(data) = String::from_utf8_lossy(&line).trim_end().strip_prefix("data:") {
                    return serde_json::from_str(data.trim()).map_err(e);
                }
            }
            match self.response.chunk().await.map_err(e)? {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => return Err("the event stream ended".into()),
            }
        }
    }
}
