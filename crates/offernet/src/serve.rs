//! `offernet serve`: flags and environment over an optional TOML file over the defaults.

use std::path::PathBuf;

use clap::Args;
use offernet_server::Config;

use crate::shared::{logs, runtime, Result};

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// A TOML file with any of the settings below, named with `_` (`max_batch = 64`); file <
    /// environment < flags.
    #[arg(long, env = "OFFERNET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (journal.sqlite, admin-token). Default: ./offernet-data
    #[arg(long, env = "OFFERNET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The journal on PostgreSQL (`postgres://user@host/db`); default: SQLite in the data directory.
    #[arg(long, env = "OFFERNET_DATABASE_URL")]
    pub database: Option<String>,
    /// Address to listen on. Default: 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long, env = "OFFERNET_LISTEN")]
    pub listen: Option<String>,
    /// Most accounts on a chain, both ends counted (2 to 8). Default: 3.
    #[arg(long, env = "OFFERNET_MAX_CHAIN")]
    pub max_chain: Option<u8>,
    /// Most commands per journal commit. Default: 1024.
    #[arg(long, env = "OFFERNET_MAX_BATCH")]
    pub max_batch: Option<usize>,
    /// Most commands waiting for the writer (then 503). Default: 16384.
    #[arg(long, env = "OFFERNET_QUEUE_DEPTH")]
    pub queue_depth: Option<usize>,
    /// Commands between snapshots (0: only at shutdown). Default: 1000000.
    #[arg(long, env = "OFFERNET_SNAPSHOT_EVERY")]
    pub snapshot_every: Option<u64>,
    /// Largest request body in bytes. Default: 1048576.
    #[arg(long, env = "OFFERNET_BODY_LIMIT_BYTES")]
    pub body_limit_bytes: Option<usize>,
    /// Request timeout in milliseconds. Default: 10000.
    #[arg(long, env = "OFFERNET_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Largest page of list routes. Default: 1000.
    #[arg(long, env = "OFFERNET_MAX_PAGE_SIZE")]
    pub max_page_size: Option<usize>,
    /// How long events are kept for `GET …/events?after=`, across restarts (older ones answer
    /// 410): N events per account, or Nd days (1 to 3650; still at most 100000 per account). Default: 100000.
    #[arg(long, env = "OFFERNET_EVENT_RETENTION")]
    pub event_retention: Option<offernet_store::Retention>,
    /// Open event streams per account (then 429 too_many_streams). Default: 64.
    #[arg(long, env = "OFFERNET_MAX_STREAMS_PER_ACCOUNT")]
    pub max_streams_per_account: Option<usize>,
    /// Most open connections (more wait in the listen backlog). Default: 0, the open-file limit minus 64.
    #[arg(long, env = "OFFERNET_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Time for a whole request head, from the accept or the previous response (ms). Default: 10000.
    #[arg(long, env = "OFFERNET_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// Close a connection with no request in progress for this long (ms). Default: 5000.
    #[arg(long, env = "OFFERNET_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Time for a whole request body after its head, then 408 (ms). Default: 5000.
    #[arg(long, env = "OFFERNET_BODY_TIMEOUT_MS")]
    pub body_timeout_ms: Option<u64>,
    /// Disconnect a client that takes no bytes for this long while bytes wait (ms). Default: 30000.
    #[arg(long, env = "OFFERNET_SEND_TIMEOUT_MS")]
    pub send_timeout_ms: Option<u64>,
    /// At shutdown, time for in-flight requests before connections are closed (ms). Default: 10000.
    #[arg(long, env = "OFFERNET_SHUTDOWN_GRACE_MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// At shutdown, time for the writer to commit what is queued and snapshot, then exit 1 (ms). Default: 60000.
    #[arg(long, env = "OFFERNET_SHUTDOWN_DRAIN_MS")]
    pub shutdown_drain_ms: Option<u64>,
    /// `text` or `json` logs (on stderr). Default: text.
    #[arg(long, env = "OFFERNET_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// An origin whose browser pages may call the API (CORS): `scheme://host[:port]` or `*`;
    /// repeat the flag or separate with commas. Default: none (no CORS headers).
    #[arg(long = "cors-origins", env = "OFFERNET_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// Allow webhooks to loopback addresses and plain http:// (tests, local development);
    /// private, link-local and metadata addresses stay refused. Default: off.
    #[arg(long, env = "OFFERNET_OUTBOUND_ALLOW_LOCAL")]
    pub outbound_allow_local: bool,
    /// Publish every event to NATS JetStream at this URL (`nats://127.0.0.1:4222`). Default: none.
    #[arg(long, env = "OFFERNET_NATS_URL")]
    pub nats_url: Option<String>,
    /// The JetStream stream to publish to; subjects are `{stream in lowercase}.{account}.{type}`. Default: OFFERNET.
    #[arg(long, env = "OFFERNET_NATS_STREAM")]
    pub nats_stream: Option<String>,
    /// Disable a webhook subscription whose deliveries have failed this long with no success
    /// between, with the reason (seconds, 1 to 604800). Default: 86400.
    #[arg(long, env = "OFFERNET_WEBHOOK_DISABLE_AFTER_SECS")]
    pub webhook_disable_after_secs: Option<u64>,
    /// Serve the VTEX Marketplace Protocol under /vtex (needs --public-url). Default: off.
    #[arg(long, env = "OFFERNET_VTEX")]
    pub vtex: bool,
    /// Where VTEX reaches this server (`https://HOST`); required with --vtex. Default: none.
    #[arg(long, env = "OFFERNET_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Days an order document (customer, address) is kept after its order closed (1 to 3650). Default: 90.
    #[arg(long, env = "OFFERNET_DOCUMENT_RETENTION_DAYS")]
    pub document_retention_days: Option<u32>,
    /// How long placing an order waits for its external sellers' placements before answering
    /// it as it is (ms, 0 to 60000; at most half of --request-timeout-ms is waited). Default: 5000.
    #[arg(long, env = "OFFERNET_PLACE_WAIT_MS")]
    pub place_wait_ms: Option<u64>,
    /// Requests a second per caller on the /vtex routes, in bursts of ten seconds' worth; 429
    /// beyond (1 to 100000). Default: 100.
    #[arg(long, env = "OFFERNET_VTEX_INBOUND_RPS")]
    pub vtex_inbound_rps: Option<u32>,
    /// Price and inventory notifications (B7) a second to one VTEX marketplace at most (1 to
    /// 1000). Default: 20.
    #[arg(long, env = "OFFERNET_VTEX_NOTIFY_RPS")]
    pub vtex_notify_rps: Option<u32>,
    /// Print the effective configuration (secrets redacted) and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// `offernet serve`: prints the effective configuration with `--print-config`, else serves
/// until SIGTERM or SIGINT.
pub fn run(args: &ServeArgs) -> Result<()> {
    let config = args.config()?;
    if args.print_config {
        print!("{}", config.printable());
        return Ok(());
    }
    logs("info", config.log_format == "json");
    runtime()?.block_on(offernet_server::serve(config))
}

impl ServeArgs {
    pub fn config(&self) -> Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        macro_rules! over {
            ($($f:ident),*) => { $( if let Some(v) = &self.$f { c.$f = v.clone(); } )* };
        }
        over!(
            data_dir,
            listen,
            max_chain,
            max_batch,
            queue_depth,
            snapshot_every,
            body_limit_bytes,
            request_timeout_ms,
            max_page_size,
            event_retention,
            max_streams_per_account,
            max_connections,
            header_read_timeout_ms,
            idle_timeout_ms,
            body_timeout_ms,
            send_timeout_ms,
            shutdown_grace_ms,
            shutdown_drain_ms,
            log_format,
            cors_origins,
            nats_stream,
            webhook_disable_after_secs,
            document_retention_days,
            place_wait_ms,
            vtex_inbound_rps,
            vtex_notify_rps
        );
        if self.outbound_allow_local {
            c.outbound_allow_local = true;
        }
        if self.vtex {
            c.vtex = true;
        }
        if let Some(u) = &self.public_url {
            c.public_url = Some(u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty());
        }
        if let Some(u) = &self.nats_url {
            c.nats_url = Some(u.clone()).filter(|u| !u.trim().is_empty());
        }
        c.cors_origins = c.cors_origins.iter().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
        c.admin_token = std::env::var("OFFERNET_ADMIN_TOKEN").ok().filter(|t| !t.trim().is_empty());
        // An empty `--database ""` (or variable) overrides a file's URL: SQLite.
        if let Some(d) = &self.database {
            c.database = Some(d.clone()).filter(|d| !d.trim().is_empty());
        }
        c.validate()?;
        Ok(c)
    }
}
