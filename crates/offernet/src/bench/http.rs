//! The server end of the HTTP benchmarks: an in-process server on 127.0.0.1 (port 0) over a
//! fresh temporary data directory, whose address the benchmark's clients connect to (see
//! `http_client`), and the accounts every HTTP benchmark starts with.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;

use serde_json::json;

use super::common::temp_dir;
use super::http_client::Conn;
use crate::shared::{runtime, Result};

/// The operator token of the benchmarks' in-process servers.
pub const BENCH_ADMIN: &str = "admin.bench-operator-token-0123456789abcdef";

/// Starts an in-process server (at most `max_batch` commands per journal commit, data in a
/// temporary directory `name`), runs `work` with its address, then shuts the server down
/// and removes its data. The clients run on a runtime of their own, as separate client
/// processes would, so that they do not take turns with the server's tasks.
pub fn with_server<T, F, Fut>(name: &str, max_batch: usize, work: F) -> Result<T>
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    with_server_using(name, |c| c.max_batch = max_batch, work)
}

/// [`with_server`] with more settings changed by `configure` (outbound delivery, NATS).
pub fn with_server_using<T, F, Fut>(
    name: &str,
    configure: impl FnOnce(&mut offernet_server::Config),
    work: F,
) -> Result<T>
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let (server_rt, client_rt) = (runtime()?, runtime()?);
    let dir = temp_dir(name);
    let mut config = offernet_server::Config {
        data_dir: dir.clone(),
        listen: "127.0.0.1:0".into(),
        admin_token: Some(BENCH_ADMIN.into()),
        snapshot_every: 0,
        ..Default::default()
    };
    configure(&mut config);
    let running = server_rt.block_on(offernet_server::start(config))?;
    let result = client_rt.block_on(work(running.addr));
    server_rt.block_on(running.shutdown())?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Creates accounts (currency BRL) and returns their tokens by id.
pub async fn create_accounts(conn: &mut Conn, ids: &[&str]) -> Result<HashMap<String, String>> {
    let mut tok = HashMap::new();
    for id in ids {
        let body = json!({"id": id, "name": id, "currency": "BRL"});
        let v = conn.must("POST", "/v1/accounts", BENCH_ADMIN, Some(body)).await?;
        tok.insert(id.to_string(), v["token"].as_str().unwrap_or_default().to_string());
    }
    Ok(tok)
}
