//! What every command of the binary shares: the error type, the tokio runtime, the log setup,
//! and commands written as JSON. A module of its own so that no command imports `main.rs`.

use std::sync::atomic::{AtomicBool, Ordering};

use offernet_core::Command;
use offernet_store::{Outcome, SubmitError, WriterHandle};

/// The binary's errors are messages for the operator (`offernet: <message>`, exit status 1).
pub type Result<T> = std::result::Result<T, String>;

/// Any error as the binary's error message (`.map_err(e)?`).
pub fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(e)
}

/// Whether the logs are JSON lines (`--log-format json`): then the binary's own error line is
/// one too.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

pub fn json_logs() -> bool {
    JSON_LOGS.load(Ordering::Relaxed)
}

/// Logs on stderr, filtered by `OFFERNET_LOG` (else `default`), as text or JSON lines.
pub fn logs(default: &str, json: bool) {
    JSON_LOGS.store(json, Ordering::Relaxed);
    let filter = tracing_subscriber::EnvFilter::try_from_env("OFFERNET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal as _;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

/// A command written as JSON, in the journal's shape. The binary writes only fixed, well-formed
/// commands this way (demo, load, benchmarks), so a malformed one is a bug: it panics.
pub fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).unwrap_or_else(|x| panic!("a well-formed command: {x}"))
}

/// Submits `c` to the writer, waiting while its queue is full: the command's own outcome, or an
/// error when the writer is stopped or unavailable.
pub async fn submit(h: &WriterHandle, c: Command) -> Result<Outcome> {
    loop {
        match h.submit(c.clone()).await {
            Err(SubmitError::Busy) => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
            other => return other.map_err(e),
        }
    }
}
