//! offernet-server: the HTTP API (shared/design/api.md) over the durable writer.
//!
//! `start(config)` opens the journal in the data directory, recovers the engine, starts the
//! writer and binds the listener; `serve(config)` also waits for SIGINT/SIGTERM and then shuts
//! down gracefully: stop accepting, end event streams, give in-flight requests the grace period
//! (`conn.rs`), close what is left, drain the write queue, commit, snapshot.

#![recursion_limit = "512"]

pub mod access;
pub mod auth;
pub mod config;
pub mod conn;
pub mod error;
pub mod events;
pub mod extract;
pub mod feeds;
pub mod habits;
pub mod lease;
pub mod metrics;
pub mod notice;
pub mod openapi;
mod openapi_requests;
pub mod outbound;
pub mod routes;
pub mod state;
pub mod strict_json;
pub mod vtex;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use offernet_core::{EngineConfig, EventBody};
use offernet_store::{recover_with_events, spawn_with_sink, AnyJournal, DataDirLock, WriterConfig, WriterHandle};

pub use config::Config;
use error::ApiError;
use notice::{notice, To};
/// What every handler shares (defined in `state.rs`, so that no module imports the crate root).
pub use state::AppState;

/// How often the server checks for expired reservations and quotes (they expire within this of
/// their expiry time).
const EXPIRY_TICK_MS: u64 = 1_000;

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub writer: WriterHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    writer_task: tokio::task::JoinHandle<AnyJournal>,
    stop: tokio::sync::oneshot::Sender<()>,
    stopping: tokio::sync::watch::Sender<bool>,
    /// How long the writer may take to drain at shutdown (`shutdown_drain_ms`).
    drain_limit: Duration,
    /// The data directory's lock, held for the server's life.
    _lock: DataDirLock,
}

impl Running {
    /// Graceful shutdown: stop accepting, end event streams, let in-flight requests finish
    /// within the grace period, close the rest, drain the queue, commit, snapshot.
    pub async fn shutdown(self) -> Result<(), String> {
        let _ = self.stopping.send(true);
        let _ = self.stop.send(());
        self.server.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        let mut task = self.writer_task;
        let drained = tokio::time::timeout(self.drain_limit, async {
            self.writer.shutdown().await;
            (&mut task).await
        })
        .await;
        match drained {
            Ok(r) => r.map(|_| ()).map_err(|e| e.to_string()),
            Err(_) => {
                // Stop the writer before the data directory's lock is released (on return).
                task.abort();
                let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
                Err(format!(
                    "the writer did not finish its last commits and snapshot within {} ms (shutdown_drain_ms): the \
                     journal did not answer; writes not yet acknowledged may or may not have been committed (the \
                     next start replays what was)",
                    self.drain_limit.as_millis()
                ))
            }
        }
    }
}

/// The request timeout, and what routing learned for the access line and the metrics (the route
/// template and the account, in a [`access::RouteInfo`] on the answer and on the request span).
async fn track(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str()).unwrap_or(access::UNMATCHED);
    let info = access::RouteInfo::new(route, req.uri().path());
    info.record_on_span();
    let limit = Duration::from_millis(match route {
        routes::import::IMPORT_ROUTE => routes::import::IMPORT_TIMEOUT_MS,
        _ => st.config.request_timeout_ms,
    });
    let mut resp = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request did not finish in time; a write may still have been applied, so retry it as it is (PUT is idempotent)",
        )
        .into_response(),
    };
    resp.extensions_mut().insert(info);
    resp
}

/// Every error answer has the JSON error shape, also those made outside our handlers
/// (axum's rejections of a path that is not UTF-8, a bad query string, a missing content
/// type, ...): a plain-text error body becomes its message.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let message = match text {
        Ok(t) if !t.is_empty() => t,
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name, value.clone());
        }
    }
    // The route seen by `track` (for the access line and the metrics) stays with the answer.
    out.extensions_mut().extend(parts.extensions);
    out
}

async fn not_found() -> Response {
    ApiError::not_found("no such route; the API reference is at /docs (the OpenAPI document at /openapi.json)")
        .into_response()
}

/// The router, with the VTEX routes (`offernet_vtex`) mounted under `/vtex` when the state has
/// them (`--vtex`); without them `/vtex/…` is 404 like any unknown path.
pub fn router(state: Arc<AppState>) -> Router {
    let (mut r, _) = routes::router().split_for_parts();
    if let Some(v) = state.vtex.clone() {
        let (vr, _) = offernet_vtex::router().split_for_parts();
        // The path form `/vtex/{s}/k/{key}/…` hands requests on to the same routes.
        let keyed = offernet_vtex::keyed::router(v.clone(), vr.clone().with_state(v.clone()));
        r = r.merge(vr.with_state::<Arc<AppState>>(v)).merge(keyed);
    }
    let r = r
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), lease::guard))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
                .into_response()
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), conn::body_timeout))
        .layer(habits::cors(&state.config.cors_origins))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn(json_errors));
    // Request ids, request spans, access logs and per-route metrics (`access.rs`).
    access::observe(r, state)
}

/// Opens everything and starts serving; returns once the listener is bound.
pub async fn start(config: Config) -> Result<Running, String> {
    config.validate()?;
    let open_files = conn::raise_open_file_limit();
    let max_connections = conn::connection_cap(config.max_connections, open_files)?;
    // Bound before anything touches the disk: a bad or busy address fails here, without creating
    // or locking the data directory, opening the journal or writing the token. Connections that
    // arrive during recovery wait in the listen backlog.
    let listener = conn::bind(&config.listen).await.map_err(|e| bind_error(&config.listen, e))?;
    offernet_store::datadir::create_dir(&config.data_dir)?;
    // A directory we cannot write is an error now, not at the first write; and one process per
    // data directory (the journal, the high-water mark and the token live there).
    offernet_store::datadir::check_writable(&config.data_dir)?;
    let lock = DataDirLock::acquire(&config.data_dir)?;
    let engine_config = EngineConfig::new(config.max_chain).map_err(|e| e.to_string())?;
    let mut journal =
        AnyJournal::open(config.database.as_deref(), &config.data_dir).await.map_err(|e| e.to_string())?;
    let json = config.log_format == "json";
    notice(json, To::Stderr, "INFO", &format!("journal: {}", journal.describe()), &[]);
    let events = Arc::new(events::EventLog::new(config.event_retention, config.max_streams_per_account));
    let metrics = Arc::new(metrics::Metrics::default());
    let (sink, vtex_events) = event_sink(events.clone(), metrics.clone(), &config);
    offernet_store::check_rules(&mut journal, engine_config).await.map_err(|e| e.to_string())?;
    // The durable event history first, then the replayed commands' events after it: reads
    // answer the same events across a restart or a crash.
    let loaded = offernet_store::history::load(&mut journal, &mut |e| events.load(e))
        .await
        .map_err(|e| format!("reading the event history: {e}"))?;
    let recovered = recover(&mut journal, engine_config, sink.clone(), json).await?;
    events.set_floors(recovered.report.event_floor, &loaded.account_floors);
    let (token, source) = auth::operator_token(config.admin_token.clone(), &config.data_dir)
        .map_err(|e| format!("operator token: {e}"))?;
    notice(json, To::Stderr, "INFO", &format!("operator token: {source}"), &[]);
    let wc = WriterConfig {
        max_batch: config.max_batch,
        queue_depth: config.queue_depth,
        snapshot_every: config.snapshot_every,
        event_retention: config.event_retention,
    };
    let journal_id = offernet_store::journal_id(&mut journal).await.map_err(|e| format!("the journal id: {e}"))?;
    let (writer, writer_task) = spawn_with_sink(journal, recovered, wc, Some(sink));
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    let outbound =
        outbound::start(outbound_setup(&config, journal_id), writer.clone(), events.clone(), stopping_rx.clone())
            .await?;
    let side = vtex::open(&config, &writer, &token, vtex_events, stopping_rx.clone()).await?;
    let state = Arc::new(AppState {
        writer: writer.clone(),
        admin_token_hash: side.admin_token_hash,
        secrets: side.secrets,
        documents: side.documents,
        openapi: Arc::new(openapi::spec_for(config.max_page_size)),
        config,
        events,
        metrics,
        stopping: stopping_rx,
        outbound,
        feeds: feeds::Clock::default(),
        vtex: side.vtex,
    });
    spawn_expiry_ticker(writer.clone(), state.stopping.clone());
    let drain_limit = Duration::from_millis(state.config.shutdown_drain_ms);
    let limits = conn_limits(&state.config, max_connections);
    tracing::info!(max_connections, open_files, "accepting connections");
    let conn_stats = state.metrics.connections.clone();
    let app = router(state);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(conn::serve(listener, app, limits, conn_stats, stopped));
    Ok(Running { addr, writer, server, writer_task, stop, stopping, drain_limit, _lock: lock })
}

fn outbound_setup(config: &Config, journal_id: String) -> outbound::Setup {
    outbound::Setup {
        database: config.database.clone(),
        data_dir: config.data_dir.clone(),
        journal_id,
        allow_local: config.outbound_allow_local,
        nats_url: config.nats_url.clone(),
        nats_stream: config.nats_stream.clone(),
        policy: outbound::RetryPolicy {
            disable_after_ms: config.webhook_disable_after_secs.saturating_mul(1_000),
            ..outbound::RetryPolicy::default()
        },
    }
}

/// The message for an address the server cannot listen on: not an address at all, or one it
/// cannot bind (in use, not local, not allowed).
fn bind_error(listen: &str, e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::InvalidInput => {
            format!("--listen {listen:?} is not an address to listen on: expected HOST:PORT, e.g. 127.0.0.1:8080 ({e})")
        }
        _ => format!("cannot listen on {listen}: {e}"),
    }
}

/// Where the writer's events go after each batch: the event log (for `?after=` and streams)
/// and the counters of `/metrics`.
/// Also the VTEX workers' feed, returned with the sink (only with `--vtex`).
fn event_sink(
    events: Arc<events::EventLog>,
    metrics: Arc<metrics::Metrics>,
    config: &Config,
) -> (Arc<dyn offernet_store::EventSink>, Option<offernet_vtex::Events>) {
    let vtex = vtex::events(config);
    let feed = vtex.clone();
    let sink = Arc::new(move |at_ms: u64, batch: &[offernet_core::Event]| {
        // The VTEX workers' feed (only with `--vtex`, and only while a worker listens).
        if let Some(v) = vtex.as_ref().filter(|v| v.receiver_count() > 0 && !batch.is_empty()) {
            let _ = v.send(Arc::from(batch));
        }
        let changed = batch.iter().filter(|e| matches!(e.body, EventBody::OfferChanged { .. })).count();
        metrics.offers_changed.fetch_add(changed as u64, Ordering::Relaxed);
        metrics.events.fetch_add(batch.len() as u64, Ordering::Relaxed);
        events.push(at_ms, batch);
    });
    (sink, feed)
}

/// Recovers the engine from the journal, logging progress. Replayed commands give their
/// events to the sink too: a client can resume after a restart.
async fn recover(
    journal: &mut AnyJournal,
    engine_config: EngineConfig,
    sink: Arc<dyn offernet_store::EventSink>,
    json: bool,
) -> Result<offernet_store::Recovered, String> {
    let mut replayed = 0u64;
    let progress = &mut |n| {
        replayed += n;
        if replayed % 1_000_000 < n {
            tracing::info!(replayed, "replaying the journal");
        }
    };
    let recovered =
        recover_with_events(journal, engine_config, progress, Some(sink)).await.map_err(|e| e.to_string())?;
    let rep = &recovered.report;
    tracing::info!(snapshot = ?rep.snapshot, replayed = rep.replayed, last_seq = recovered.last_seq,
        events_restored = rep.events_restored, "recovered");
    for s in &rep.skipped_snapshots {
        notice(json, To::Stderr, "WARN", &format!("warning: skipped snapshot {}: {}", s.seq, s.why), &[]);
    }
    Ok(recovered)
}

/// Time enters the engine as a command: when a reservation is due, submit `expire_orders`; when
/// an external seller's quote is due, `expire_quotes`.
fn spawn_expiry_ticker(writer: WriterHandle, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(EXPIRY_TICK_MS));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            if writer.read(|e| e.next_expiry_ms()).is_some_and(|at| at <= now) {
                let _ = writer.submit(offernet_core::Command::ExpireOrders {}).await;
            }
            // External sellers' quotes past their TTL become `quote_stale` the same way.
            if writer.read(|e| e.next_quote_expiry_ms()).is_some_and(|at| at <= now) {
                let _ = writer.submit(offernet_core::Command::ExpireQuotes {}).await;
            }
        }
    });
}

fn conn_limits(config: &Config, max_connections: usize) -> conn::Limits {
    conn::Limits {
        max_connections,
        header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
        idle_timeout: Duration::from_millis(config.idle_timeout_ms),
        send_timeout: Duration::from_millis(config.send_timeout_ms),
        shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn serve(config: Config) -> Result<(), String> {
    // The handlers are installed before "listening" is printed: a SIGTERM sent as soon as the
    // address is known must shut down gracefully, not kill the process.
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map_err(|e| e.to_string())?;
    // A signal during startup (a long replay, the wait for the writer lease) stops it there:
    // dropping `start` closes the journal and releases the lock; nothing was acknowledged yet.
    let json = config.log_format == "json";
    let running = tokio::select! {
        r = start(config) => r?,
        _ = interrupt.recv() => return Err("interrupted during startup".into()),
        _ = term.recv() => return Err("terminated during startup".into()),
    };
    let addr = running.addr.to_string();
    notice(json, To::Stdout, "INFO", &format!("offernet listening on http://{addr}"), &[("addr", &addr)]);
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = term.recv() => {}
    }
    notice(json, To::Stderr, "INFO", "shutting down: draining the write queue, then a snapshot", &[]);
    running.shutdown().await
}
