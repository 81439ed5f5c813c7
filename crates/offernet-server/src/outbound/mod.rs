//! Outbound delivery: signed webhooks (`webhooks.rs`, `deliver.rs`) and the NATS JetStream
//! publisher (`nats.rs`), outside the engine and only in the process that holds the writer
//! (`serve`). Both read events as committed state (the event log the writer fills after each
//! batch, `events.rs`, and for NATS also the durable history), keep their progress in the
//! journal's database (`offernet_store::outbox`), and change engine state only through the
//! writer (`DisableWebhook`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use offernet_store::{Outbox, WriterHandle};
use tokio::sync::watch;

use crate::events::EventLog;

mod deliver;
pub mod guard;
mod metrics;
pub mod nats;
pub mod replay;
pub mod sign;
mod webhooks;

pub use deliver::{client, RetryPolicy, MAX_RESPONSE_BODY_BYTES};

/// The consumer name of a subscription in the outbound tables.
pub fn consumer(account: &str, id: &str) -> String {
    format!("webhook:{account}/{id}")
}

/// What the outbound side shares with the routes (`GET …/deliveries`) and `/metrics`.
pub struct Outbound {
    /// The outbound tables; one connection, taken in turn.
    pub outbox: tokio::sync::Mutex<Outbox>,
    pub stats: OutboundStats,
    /// Pending redeliveries (`POST …/redeliver`), as stored in `outbox`.
    pub replays: replay::Replays,
    /// The journal's random id (`Nats-Msg-Id` = `{journal id}:{sequence}`).
    pub journal_id: String,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct OutboundStats {
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    /// Attempts that ended in a dead letter, and dead letters (events or ranges) recorded.
    pub dead_attempts: AtomicU64,
    pub dead: AtomicU64,
    /// Sum and count of delivery latencies (an answer's time), in microseconds.
    pub latency_micros: AtomicU64,
    pub latency_count: AtomicU64,
    /// Per subscription (`consumer`): the last event sequence number done.
    pub progress: Mutex<BTreeMap<String, u64>>,
    pub nats_published: AtomicU64,
    pub nats_errors: AtomicU64,
    /// The last NATS sequence done, and the lag from the event's commit to its publish ack (ms).
    pub nats_progress: AtomicU64,
    pub nats_lag_ms: AtomicU64,
}

impl OutboundStats {
    pub(crate) fn set_progress(&self, consumer: &str, seq: u64) {
        self.progress.lock().unwrap().insert(consumer.to_string(), seq);
    }

    pub(crate) fn latency(&self, micros: u64) {
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// What starting the outbound side needs.
pub struct Setup {
    pub database: Option<String>,
    pub data_dir: std::path::PathBuf,
    pub journal_id: String,
    pub allow_local: bool,
    pub nats_url: Option<String>,
    pub nats_stream: String,
    pub policy: RetryPolicy,
}

/// Opens the outbound tables and starts the webhook dispatcher and (with a NATS URL) the
/// publisher; both stop when `stopping` turns true.
pub async fn start(
    setup: Setup,
    writer: WriterHandle,
    events: Arc<EventLog>,
    stopping: watch::Receiver<bool>,
) -> Result<Arc<Outbound>, String> {
    let outbox = Outbox::open(setup.database.as_deref(), &setup.data_dir)
        .await
        .map_err(|e| format!("opening the outbound tables: {e}"))?;
    let out = Arc::new(Outbound {
        outbox: tokio::sync::Mutex::new(outbox),
        stats: OutboundStats::default(),
        replays: replay::Replays::default(),
        journal_id: setup.journal_id.clone(),
    });
    let progress: BTreeMap<String, u64> =
        out.outbox.lock().await.progress().await.map_err(|e| e.to_string())?.into_iter().collect();
    out.replays.load(out.outbox.lock().await.replays().await.map_err(|e| e.to_string())?);
    let client = deliver::client(setup.allow_local)?;
    let hooks = webhooks::Dispatcher {
        out: out.clone(),
        writer: writer.clone(),
        events: events.clone(),
        client,
        allow_local: setup.allow_local,
        policy: setup.policy,
        stopping: stopping.clone(),
    };
    tokio::spawn(hooks.run(progress.clone()));
    if let Some(url) = setup.nats_url {
        let publisher = nats::Publisher { out: out.clone(), events, url, stream: setup.nats_stream, stopping };
        tokio::spawn(publisher.run(progress.get(nats::CONSUMER).copied()));
    }
    Ok(out)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
