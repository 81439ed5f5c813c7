//! Server configuration: defaults < file (`--config`, TOML) < environment < flags. The binary
//! merges the last two (clap reads both); this module holds the defaults and the file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Largest request body (1 MiB): a SKU, a price or an assortment of a few thousand ids fits;
/// anything larger is refused with 413 before it is read whole.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// A request that has not finished in 10 s is answered 503: it is stuck behind something.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Page sizes of list routes: default and maximum (bounds one response's size and time).
pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const MAX_PAGE_SIZE: usize = 1_000;
/// Events kept in memory per account for `GET …/events?after=`; older ones answer 410.
pub const DEFAULT_EVENT_RETENTION: usize = 100_000;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the journal (`journal.sqlite`) and the generated operator token live.
    pub data_dir: PathBuf,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Most accounts on a chain (2 to 8); fixed for a data directory.
    pub max_chain: u8,
    /// Most commands per journal commit.
    pub max_batch: usize,
    /// Most commands waiting for the writer before requests get 503.
    pub queue_depth: usize,
    /// Commands between snapshots (0: only at shutdown).
    pub snapshot_every: u64,
    pub body_limit_bytes: usize,
    pub request_timeout_ms: u64,
    pub max_page_size: usize,
    pub event_retention: usize,
    /// `text` or `json` logs.
    pub log_format: String,
    /// A `postgres://` URL for the journal on PostgreSQL; none: SQLite in `data_dir`. Never
    /// printed (it may hold a password), never read from the file (use the environment).
    #[serde(skip)]
    pub database: Option<String>,
    /// The operator token; never read from the file on purpose (use the environment).
    #[serde(skip)]
    pub admin_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("offernet-data"),
            listen: "127.0.0.1:8080".into(),
            max_chain: offernet_core::DEFAULT_MAX_CHAIN,
            max_batch: offernet_store::writer::DEFAULT_MAX_BATCH,
            queue_depth: offernet_store::writer::DEFAULT_QUEUE_DEPTH,
            snapshot_every: offernet_store::writer::DEFAULT_SNAPSHOT_EVERY,
            body_limit_bytes: DEFAULT_BODY_LIMIT,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            max_page_size: MAX_PAGE_SIZE,
            event_retention: DEFAULT_EVENT_RETENTION,
            log_format: "text".into(),
            admin_token: None,
            database: None,
        }
    }
}

impl Config {
    /// Reads a TOML file; unknown keys are refused.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn validate(&self) -> Result<(), String> {
        offernet_core::EngineConfig::new(self.max_chain).map_err(|e| e.to_string())?;
        if self.max_batch == 0 || self.queue_depth == 0 || self.max_page_size == 0 || self.body_limit_bytes == 0 {
            return Err("max_batch, queue_depth, max_page_size and body_limit_bytes must be positive".into());
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err("log_format is `text` or `json`".into());
        }
        Ok(())
    }

    /// The configuration as TOML, secrets redacted (`serve --print-config`).
    pub fn printable(&self) -> String {
        let mut s = toml::to_string(self).unwrap_or_default();
        s.push_str(&format!(
            "# database = {}\n",
            if self.database.is_some() { "\"<redacted postgres URL>\"" } else { "\"<none: SQLite in data_dir>\"" }
        ));
        s.push_str(&format!(
            "# admin_token = {}\n",
            if self.admin_token.is_some() {
                "\"<redacted, from OFFERNET_ADMIN_TOKEN>\""
            } else {
                "\"<generated in data_dir/admin-token>\""
            }
        ));
        s
    }
}
