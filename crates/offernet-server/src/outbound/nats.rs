//! The NATS JetStream publisher: every event, in sequence order, to stream `OFFERNET` (the
//! `nats_stream` setting) on subject `{stream in lowercase}.{account}.{type}`, with
//! `Nats-Msg-Id` = `{journal id}:{sequence}`, each publish acknowledged by JetStream before the
//! progress (`nats` in the outbound tables) moves past it. A broker outage delays: the
//! publisher reconnects with backoff and publishes again from its stored progress; JetStream
//! drops the repeats within the stream's duplicate window (2 minutes by default).
//!
//! It reads the in-memory feed of all accounts' events (`EventLog::page_all`) and, when it is
//! further behind than the feed holds, the durable event history. Events are numbered without
//! gaps, so a gap between the progress and the next event read is events no longer kept
//! (pruned by the retention, or given up by a `journal repair`): recorded as one dead letter.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishAckFuture};
use offernet_core::Event;
use tokio::sync::watch;

use super::{now_ms, Outbound};
use crate::events::EventLog;

/// The consumer name of the publisher in the outbound tables.
pub const CONSUMER: &str = "nats";
/// Publishes in flight before their acknowledgements are awaited (and the progress stored).
const WINDOW: usize = 256;
/// Reconnection backoff bounds.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Time for a connection, and for one acknowledgement.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Publisher {
    pub out: Arc<Outbound>,
    pub events: Arc<EventLog>,
    pub url: String,
    pub stream: String,
    pub stopping: watch::Receiver<bool>,
}

/// One event to publish.
struct Item {
    seq: u64,
    at_ms: u64,
    account: String,
    kind: String,
    json: Vec<u8>,
}

impl Item {
    fn of(at_ms: u64, e: &Event) -> Item {
        Item {
            seq: e.seq,
            at_ms,
            account: e.account.to_string(),
            kind: e.body.kind().to_string(),
            json: serde_json::to_vec(e).unwrap_or_default(),
        }
    }
}

impl Publisher {
    /// Publishes until shutdown. A first start publishes from the newest event then (the
    /// history before it is not sent), stored at once.
    pub(super) async fn run(self, stored: Option<u64>) {
        let mut done = match stored {
            Some(d) => d,
            None => {
                let head = self.events.head();
                if let Err(e) = self.out.outbox.lock().await.set_progress(CONSUMER, head).await {
                    tracing::warn!(error = %e, "storing the NATS publisher's starting point failed");
                }
                head
            }
        };
        self.out.stats.nats_progress.store(done, Ordering::Relaxed);
        let mut stopping = self.stopping.clone();
        let mut delay = RETRY_FIRST;
        loop {
            if *stopping.borrow() {
                return;
            }
            match self.session(&mut done).await {
                Ok(()) => return,
                Err(e) => {
                    self.out.stats.nats_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, done, retry_ms = delay.as_millis() as u64, "NATS publishing stopped; reconnecting");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopping.changed() => return,
            }
            delay = (delay * 2).min(RETRY_MAX);
        }
    }

    /// One connection: ensure the stream, then publish until shutdown (`Ok`) or an error.
    async fn session(&self, done: &mut u64) -> Result<(), String> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(CONNECT_TIMEOUT)
            .connect(self.url.as_str())
            .await
            .map_err(|e| format!("connecting to {}: {e}", redact(&self.url)))?;
        let mut js = jetstream::new(client);
        js.set_timeout(ACK_TIMEOUT);
        let prefix = self.stream.to_lowercase();
        js.get_or_create_stream(jetstream::stream::Config {
            name: self.stream.clone(),
            subjects: vec![format!("{prefix}.>")],
            ..Default::default()
        })
        .await
        .map_err(|e| format!("creating or reading stream {}: {e}", self.stream))?;
        let mut stopping = self.stopping.clone();
        loop {
            if *stopping.borrow() {
                return Ok(());
            }
            let notify = self.events.notify_all();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let items = self.next_items(*done).await?;
            if items.is_empty() {
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopping.changed() => return Ok(()),
                }
                continue;
            }
            if items[0].seq > *done + 1 {
                self.gap(*done, items[0].seq - 1).await;
            }
            self.publish(&js, &prefix, &items).await?;
            let last = items.last().expect("not empty");
            *done = last.seq;
            self.out.outbox.lock().await.set_progress(CONSUMER, *done).await.map_err(|e| e.to_string())?;
            let stats = &self.out.stats;
            stats.nats_published.fetch_add(items.len() as u64, Ordering::Relaxed);
            stats.nats_progress.store(*done, Ordering::Relaxed);
            stats.nats_lag_ms.store(now_ms().saturating_sub(last.at_ms), Ordering::Relaxed);
        }
    }

    /// Publishes `items` in order, all in flight at once, then waits for every acknowledgement.
    async fn publish(&self, js: &jetstream::Context, prefix: &str, items: &[Item]) -> Result<(), String> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(items.len());
        for it in items {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, format!("{}:{}", self.out.journal_id, it.seq).as_str());
            let subject = format!("{prefix}.{}.{}", it.account, it.kind);
            let ack = js
                .publish_with_headers(subject, headers, it.json.clone().into())
                .await
                .map_err(|e| format!("publishing event {}: {e}", it.seq))?;
            acks.push(ack);
        }
        for (ack, it) in acks.into_iter().zip(items) {
            ack.await.map_err(|e| format!("no acknowledgement for event {}: {e}", it.seq))?;
        }
        Ok(())
    }

    /// The next events after `done`: from the feed, or from the durable history when the
    /// feed no longer reaches back to `done`.
    async fn next_items(&self, done: u64) -> Result<Vec<Item>, String> {
        if let Some(page) = self.events.page_all(done, WINDOW) {
            // The feed starts after `done` only when it is empty or began later (a restart):
            // then the history may hold what is between.
            let reaches = page.first().is_none_or(|(_, e)| e.seq == done + 1)
                || self.events.feed_first().is_some_and(|f| f <= done + 1);
            if reaches {
                return Ok(page.iter().map(|(at, e)| Item::of(*at, e)).collect());
            }
        }
        let stored = self.out.outbox.lock().await.read_events(done, WINDOW as u64).await.map_err(|e| e.to_string())?;
        let mut items = Vec::with_capacity(stored.len());
        for s in stored {
            let kind = serde_json::from_str::<serde_json::Value>(&s.json)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_else(|| "unknown".into());
            items.push(Item { seq: s.seq, at_ms: s.at_ms, account: s.account, kind, json: s.json.into_bytes() });
        }
        if items.is_empty() {
            // Nothing stored after `done` yet (the history is written a batch late): the feed.
            if let Some(page) = self.events.page_all(done, WINDOW) {
                return Ok(page.iter().map(|(at, e)| Item::of(*at, e)).collect());
            }
        }
        Ok(items)
    }

    async fn gap(&self, done: u64, last: u64) {
        let reason =
            "not in the event history when its turn came (pruned by the retention, or given up by a journal repair)";
        tracing::warn!(first = done + 1, last, "NATS: {reason}");
        self.out.stats.dead.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.out.outbox.lock().await.dead_letter(CONSUMER, done + 1, last, now_ms(), reason).await {
            tracing::warn!(error = %e, "recording a dead letter failed");
        }
    }
}

/// A URL without its user and password, for messages.
fn redact(url: &str) -> String {
    match url.split_once("://").and_then(|(s, rest)| rest.split_once('@').map(|(_, host)| (s, host))) {
        Some((scheme, host)) => format!("{scheme}://…@{host}"),
        None => url.to_string(),
    }
}
