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
/// Events kept per account for `GET …/events?after=` (in the journal's database and in
/// memory); older ones answer 410. `event_retention` also takes days (`30d`, at most
/// `MAX_EVENTS_BY_AGE` per account); see `offernet_store::history`.
pub use offernet_store::history::{DEFAULT_EVENT_RETENTION, MAX_EVENTS_BY_AGE, MAX_RETENTION_DAYS};
/// Open event streams per account (then 429 `too_many_streams`): a consumer needs one stream,
/// a few processes and reconnects need a handful; 64 keeps one tenant from taking the
/// connection places of all the others.
pub const DEFAULT_MAX_STREAMS_PER_ACCOUNT: usize = 64;
/// A request head must arrive whole within 10 s of the accept or of the previous response: a
/// client that trickles its headers holds a connection place no longer than this.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// A connection with no request in progress for 5 s is closed: a client that reuses its
/// connection sends the next request within moments, and an idle one holds a place (and a
/// file descriptor). Shorter than the header-read timeout, which also runs while idle.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 5_000;
/// A request body must arrive whole within 5 s of its head (then 408): half the request
/// timeout, so a stalled body is told apart from a slow server; 1 MiB needs 200 KiB/s.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 5_000;
/// A client that takes no bytes for 30 s while the server has bytes for it is disconnected:
/// a non-reading event stream is closed and its memory freed. Live streams send a keep-alive
/// comment every 15 s, so a reading client always makes progress within it.
pub const DEFAULT_SEND_TIMEOUT_MS: u64 = 30_000;
/// At shutdown, in-flight requests get 10 s (the request timeout) to finish, then the
/// remaining connections are closed and the writer drains.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 10_000;
/// At shutdown, after the connections, the writer gets 60 s to commit what is queued and write
/// its snapshot; a journal that hangs (a PostgreSQL commit that never answers) then no longer
/// holds the process. Generous, because a snapshot of a large network takes seconds. Writes
/// still queued then were never acknowledged; one whose commit lands anyway is replayed at the
/// next start, like a write whose request timed out.
pub const DEFAULT_SHUTDOWN_DRAIN_MS: u64 = 60_000;

/// The JetStream stream of the issue: subjects `offernet.{account}.{type}`.
pub const DEFAULT_NATS_STREAM: &str = "OFFERNET";
/// A webhook subscription whose deliveries have failed this long with no success between is
/// disabled with the reason: a day, so that a receiver down over a night or a weekend's first
/// day loses nothing it cannot be redelivered, and a dead one stops costing retries.
pub const DEFAULT_WEBHOOK_DISABLE_AFTER_SECS: u64 = 86_400;
/// The longest `webhook_disable_after_secs`: a week (the dead letters and attempts a failing
/// subscription leaves are bounded anyway; its retries are not worth more).
pub const MAX_WEBHOOK_DISABLE_AFTER_SECS: u64 = 7 * 86_400;
/// How long placing an order waits for its external sellers' placements by default (design
/// §3.4, `vtex.place_wait_ms`), and at most.
pub const DEFAULT_PLACE_WAIT_MS: u64 = 5_000;
pub const MAX_PLACE_WAIT_MS: u64 = 60_000;

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
    /// How long events are kept: `N` events per account (a number) or `Nd` days.
    pub event_retention: offernet_store::Retention,
    /// Open event streams per account (then 429).
    pub max_streams_per_account: usize,
    /// Most open connections; 0: the open-file limit minus a headroom (conn.rs). Connections
    /// over the cap wait in the kernel's listen backlog.
    pub max_connections: usize,
    /// Time for a whole request head, from the accept or the previous response.
    pub header_read_timeout_ms: u64,
    /// A connection with no request in progress this long is closed.
    pub idle_timeout_ms: u64,
    /// Time for a whole request body after its head (then 408).
    pub body_timeout_ms: u64,
    /// A client that takes no bytes for this long while bytes wait is disconnected.
    pub send_timeout_ms: u64,
    /// At shutdown, how long in-flight requests may still run before connections are closed.
    pub shutdown_grace_ms: u64,
    /// At shutdown, how long the writer may take to drain its queue and snapshot.
    pub shutdown_drain_ms: u64,
    /// Origins whose browser pages may call the API (CORS): `scheme://host[:port]` or `*`;
    /// none (the default): no CORS header is sent.
    pub cors_origins: Vec<String>,
    /// `text` or `json` logs.
    pub log_format: String,
    /// A `postgres://` URL for the journal on PostgreSQL; none: SQLite in `data_dir`. Read from
    /// the file like every flag, never printed (it may hold a password).
    #[serde(skip_serializing)]
    pub database: Option<String>,
    /// Allow outbound requests (webhooks) to loopback addresses and plain `http://`; private,
    /// link-local and metadata addresses stay refused. For tests and local development.
    pub outbound_allow_local: bool,
    /// A NATS server with JetStream (`nats://host:port`): every event is published there.
    /// None: no publishing. Never printed (it may hold credentials).
    #[serde(skip_serializing)]
    pub nats_url: Option<String>,
    /// The JetStream stream events are published to (created if missing); its subjects are
    /// `{stream in lowercase}.{account}.{type}` (`offernet.…` for the default `OFFERNET`).
    pub nats_stream: String,
    /// Seconds of failed webhook deliveries, with no success between, after which a
    /// subscription is disabled with the reason (1 to `MAX_WEBHOOK_DISABLE_AFTER_SECS`).
    pub webhook_disable_after_secs: u64,
    /// Serve the VTEX Marketplace Protocol under `/vtex` (vtex-compat.md). Off by default.
    pub vtex: bool,
    /// Where VTEX reaches this server (`https://HOST`): required with `vtex`; the fulfillment
    /// endpoint a seller registers at a VTEX marketplace is `{public_url}/vtex/{seller}/api/fulfillment`.
    pub public_url: Option<String>,
    /// Days an order document (an external marketplace order's customer and address) is kept
    /// after its order closed; documents no order names go after one day.
    pub document_retention_days: u32,
    /// How long `POST /v1/accounts/{m}/orders` waits for the placements at external sellers to
    /// settle before it answers the order as it is (0 to `MAX_PLACE_WAIT_MS`; at most half of
    /// `request_timeout_ms` is waited, so the order is answered before the request times out).
    pub place_wait_ms: u64,
    /// Requests a second per caller on the `/vtex` routes (bursts of ten seconds' worth); 429
    /// beyond it (1 to `offernet_vtex::limit::MAX_RPS`).
    pub vtex_inbound_rps: u32,
    /// B7 price and inventory notifications a second to one VTEX marketplace at most (the
    /// design's `notify_rps`; 1 to `offernet_vtex::notify::prices::MAX_NOTIFY_RPS`).
    pub vtex_notify_rps: u32,
    /// The operator token; never read from the file on purpose (use the environment).
    #[serde(skip)]
    pub admin_token: Option<String>,
}

/// A parse error of the config file without the file's text: toml's own message quotes the
/// offending line, which may hold the database URL's password or an `admin_token`. The place
/// (line, column) and the message stay; every string value the message quotes is cut out.
fn file_error(text: &str, e: &toml::de::Error) -> String {
    if e.message().starts_with("unknown field `admin_token`") {
        return "admin_token is never read from the file: set OFFERNET_ADMIN_TOKEN".into();
    }
    let place = e.span().map(|s| {
        let before = &text[..s.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {column}: ")
    });
    format!("{}{}", place.unwrap_or_default(), without_values(e.message()))
}

/// `message` with its double-quoted parts (serde's `string "…"`) and any backquoted part that
/// is not a bare TOML key (a key name, or `=`-like syntax) replaced by `<redacted>`.
fn without_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        // The closing quote: the next one not escaped by a backslash (serde quotes with `{:?}`).
        let mut end = None;
        let mut escaped = false;
        for (j, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                c if c == quote && !escaped => {
                    end = Some(j);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            out.push_str("<redacted>");
            return out;
        };
        let inner = &after[..end];
        let bare_key = inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let syntax = !inner.chars().any(|c| c.is_alphanumeric());
        out.push_str(if quote == '`' && (bare_key || syntax) { inner } else { "<redacted>" });
        out.push(quote);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
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
            event_retention: offernet_store::Retention::default(),
            max_streams_per_account: DEFAULT_MAX_STREAMS_PER_ACCOUNT,
            max_connections: 0,
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            send_timeout_ms: DEFAULT_SEND_TIMEOUT_MS,
            shutdown_grace_ms: DEFAULT_SHUTDOWN_GRACE_MS,
            shutdown_drain_ms: DEFAULT_SHUTDOWN_DRAIN_MS,
            log_format: "text".into(),
            cors_origins: Vec::new(),
            admin_token: None,
            database: None,
            outbound_allow_local: false,
            nats_url: None,
            nats_stream: DEFAULT_NATS_STREAM.into(),
            webhook_disable_after_secs: DEFAULT_WEBHOOK_DISABLE_AFTER_SECS,
            vtex: false,
            public_url: None,
            document_retention_days: offernet_store::documents::DEFAULT_RETENTION_DAYS,
            place_wait_ms: DEFAULT_PLACE_WAIT_MS,
            vtex_inbound_rps: offernet_vtex::limit::DEFAULT_RPS,
            vtex_notify_rps: offernet_vtex::notify::prices::DEFAULT_NOTIFY_RPS,
        }
    }
}

impl Config {
    /// Reads a TOML file; unknown keys are refused. Its keys are the flags' names with `_`.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), file_error(&text, &e)))
    }

    pub fn validate(&self) -> Result<(), String> {
        offernet_core::EngineConfig::new(self.max_chain).map_err(|e| e.to_string())?;
        if self.max_batch == 0 || self.queue_depth == 0 || self.max_page_size == 0 || self.body_limit_bytes == 0 {
            return Err("max_batch, queue_depth, max_page_size and body_limit_bytes must be positive".into());
        }
        if self.max_streams_per_account == 0
            || self.header_read_timeout_ms == 0
            || self.idle_timeout_ms == 0
            || self.body_timeout_ms == 0
            || self.send_timeout_ms == 0
            || self.shutdown_drain_ms == 0
        {
            return Err(
                "max_streams_per_account and the timeouts (header read, idle, body, send, shutdown drain) must be positive".into()
            );
        }
        if self.body_timeout_ms >= self.request_timeout_ms {
            return Err(format!(
                "body_timeout_ms ({}) must be below request_timeout_ms ({}): a body that never arrives answers 408 only if its timeout fires first",
                self.body_timeout_ms, self.request_timeout_ms
            ));
        }
        crate::habits::check_origins(&self.cors_origins)?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err("log_format is `text` or `json`".into());
        }
        let stream_ok = |s: &str| {
            (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !stream_ok(&self.nats_stream) {
            return Err("nats_stream is 1 to 32 of A-Z, a-z, 0-9, `_` and `-` (also its subjects' first token)".into());
        }
        if !(1..=MAX_WEBHOOK_DISABLE_AFTER_SECS).contains(&self.webhook_disable_after_secs) {
            return Err(format!(
                "webhook_disable_after_secs is 1 to {MAX_WEBHOOK_DISABLE_AFTER_SECS} (a week); default {DEFAULT_WEBHOOK_DISABLE_AFTER_SECS}"
            ));
        }
        if let Some(url) = &self.nats_url {
            if !(url.starts_with("nats://") || url.starts_with("tls://")) {
                return Err("nats_url is a `nats://host:port` (or `tls://`) URL".into());
            }
        }
        self.validate_vtex()
    }

    /// `public_url` is required with `vtex` and is an http(s) URL of a host, without a query;
    /// the document retention is 1 to `MAX_RETENTION_DAYS` days; `place_wait_ms` at most
    /// `MAX_PLACE_WAIT_MS`; `vtex_inbound_rps` 1 to `MAX_RPS`; `vtex_notify_rps` 1 to
    /// `MAX_NOTIFY_RPS`.
    fn validate_vtex(&self) -> Result<(), String> {
        let max = offernet_store::documents::MAX_RETENTION_DAYS;
        if !(1..=max).contains(&self.document_retention_days) {
            return Err(format!("document_retention_days is 1 to {max}"));
        }
        if self.place_wait_ms > MAX_PLACE_WAIT_MS {
            return Err(format!("place_wait_ms is 0 to {MAX_PLACE_WAIT_MS}"));
        }
        let max_rps = offernet_vtex::limit::MAX_RPS;
        if !(1..=max_rps).contains(&self.vtex_inbound_rps) {
            return Err(format!("vtex_inbound_rps is 1 to {max_rps}"));
        }
        let max_notify = offernet_vtex::notify::prices::MAX_NOTIFY_RPS;
        if !(1..=max_notify).contains(&self.vtex_notify_rps) {
            return Err(format!(
                "vtex_notify_rps (--vtex-notify-rps, OFFERNET_VTEX_NOTIFY_RPS) is 1 to {max_notify} notifications a second, not {}",
                self.vtex_notify_rps
            ));
        }
        match &self.public_url {
            None if self.vtex => {
                Err("vtex needs public_url (OFFERNET_PUBLIC_URL): the https://HOST VTEX reaches this server at".into())
            }
            None => Ok(()),
            Some(u) => {
                let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
                let ok = rest.is_some_and(|r| {
                    !r.is_empty()
                        && u.len() <= 2048
                        && !r.contains(['?', '#'])
                        && r.bytes().all(|b| b.is_ascii_graphic())
                });
                if ok {
                    Ok(())
                } else {
                    Err("public_url is an http(s):// URL of this server, without query or fragment".into())
                }
            }
        }
    }

    /// The configuration as TOML, secrets redacted (`serve --print-config`).
    pub fn printable(&self) -> String {
        let mut s = toml::to_string(self).unwrap_or_default();
        s.push_str(&format!(
            "# database = {}\n",
            if self.database.is_some() { "\"<redacted postgres URL>\"" } else { "\"<none: SQLite in data_dir>\"" }
        ));
        if self.nats_url.is_some() {
            s.push_str("# nats_url = \"<redacted, set>\"\n");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        let path = std::env::temp_dir().join(format!("offernet-config-{}-{:x}.toml", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let r = Config::from_file(&path);
        let _ = std::fs::remove_file(&path);
        r
    }

    /// A file whose offending line holds a secret: the message names the place, never the secret.
    #[test]
    fn parse_errors_never_print_a_secret() {
        let url = "postgres://offernet:Hunter2-s3cr3t@db.internal/offernet";
        let token = "admin.Hunter2-s3cr3t-0123456789abcdefghij";
        let files = [
            format!("admin_token = \"{token}\"\n"),
            format!("listen = \"127.0.0.1:1\"\nadmin_token = '{token}'\n"),
            format!("admin_token = {token}\n"),
            format!("database = \"{url}\" trailing\n"),
            format!("database = \"{url}\n"),
            format!("database = \"{url}\"\ndatabase = \"{url}\"\n"),
            format!("max_batch = \"{url}\"\n"),
            format!("database = {url}\n"),
            format!("database = [\"{url}\"]\n"),
            format!("[database]\nurl = \"{url}\"\n"),
            format!("\"{url}\" = 1\n"),
            format!("data_dir = 7\ndatabase = \"{url}\"\nlisten = \n"),
        ];
        for f in &files {
            let err = parse(f).unwrap_err();
            assert!(!err.contains("Hunter2") && !err.contains("s3cr3t"), "{f}\n=> {err}");
            assert!(err.contains("line ") || err.contains("admin_token"), "{err}");
        }
        let err = parse(&format!("admin_token = \"{token}\"\n")).unwrap_err();
        assert!(err.contains("OFFERNET_ADMIN_TOKEN"), "{err}");
        // A typo in a key name is still named, with its place.
        let err = parse("max_bach = 3\n").unwrap_err();
        assert!(err.contains("line 1, column 1") && err.contains("`max_bach`"), "{err}");
    }

    #[test]
    fn the_database_is_read_from_the_file_and_never_printed() {
        let c = parse("database = \"postgres://u:Hunter2@h/db\"\nevent_retention = 7\n").unwrap();
        assert_eq!(c.database.as_deref(), Some("postgres://u:Hunter2@h/db"));
        assert_eq!(c.event_retention.to_string(), "7");
        let printed = c.printable();
        assert!(!printed.contains("Hunter2") && printed.contains("# database = \"<redacted"), "{printed}");
    }

    #[test]
    fn event_retention_is_a_number_of_events_or_of_days() {
        let c = parse("event_retention = \"30d\"\n").unwrap();
        assert_eq!(c.event_retention.to_string(), "30d");
        assert!(c.printable().contains("event_retention = \"30d\""), "{}", c.printable());
        let c = parse("event_retention = 321\n").unwrap();
        assert!(c.printable().contains("event_retention = 321\n"), "{}", c.printable());
        let err = parse("event_retention = \"3w\"\n").unwrap_err();
        assert!(err.contains("days"), "{err}");
    }
    #[test]
    fn the_notify_rate_is_20_by_default_and_bounded() {
        let mut c = Config::default();
        assert_eq!(c.vtex_notify_rps, 20);
        for (rps, ok) in [(1, true), (1_000, true), (0, false), (1_001, false)] {
            c.vtex_notify_rps = rps;
            match c.validate_vtex() {
                Ok(()) => assert!(ok, "{rps} is accepted"),
                Err(e) => {
                    assert!(!ok, "{rps}: {e}");
                    assert!(e.contains("--vtex-notify-rps") && e.contains("1 to 1000"), "{e}");
                }
            }
        }
    }
}
