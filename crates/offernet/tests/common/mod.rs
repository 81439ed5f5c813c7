//! A test harness that runs the real `offernet serve` on port 0 and talks HTTP/1.1 to it
//! with a few lines of std (no client library needed for tests).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

#[path = "../../src/http_client.rs"]
mod http_client;
pub use http_client::Conn;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_offernet");
pub const ADMIN: &str = "admin.test-operator-token-0123456789abcdef";

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("offernet-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
            .args(extra)
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
        Server { child, addr, dir: dir.to_path_buf() }
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

    pub fn req(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        let (status, text) = self.raw(method, path, token, body, &[]);
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, v)
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        Conn::open(&self.addr).unwrap().request(method, path, token, body, headers).unwrap()
    }

    /// Opens an event stream.
    pub fn stream(&self, path: &str, token: &str) -> Conn {
        Conn::open(&self.addr).unwrap().stream(path, token).unwrap()
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

/// Reads events until one satisfies `pred`.
pub fn read_until(r: &mut Conn, mut pred: impl FnMut(&Value) -> bool) -> Value {
    loop {
        let v = r.next_event().expect("the stream goes on");
        if pred(&v) {
            return v;
        }
    }
}
