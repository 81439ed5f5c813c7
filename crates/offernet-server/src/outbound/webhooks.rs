//! The webhook dispatcher: one delivery loop per subscription, each sending that account's
//! wanted events in sequence order, one at a time, with retries; progress is stored after each
//! event (so a kill -9 repeats at most the one in flight, under the same `webhook-id`). A
//! pending redelivery (`replay.rs`) goes one page at a time between pages of live events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use offernet_core::webhooks::Webhook;
use offernet_core::{Command, Event};
use offernet_store::{Attempt, WriterHandle};
use tokio::sync::{watch, Semaphore};

use super::deliver::{attempt, Answer, RetryPolicy, Verdict, MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_HOST};
use super::{consumer, now_ms, Outbound};
use crate::events::EventLog;

/// How often the dispatcher looks for new, changed and deleted subscriptions.
const TARGETS_EVERY: Duration = Duration::from_millis(250);
/// Events a subscription takes from the log per read.
const PAGE: usize = 256;
/// A caught-up loop looks again at least this often (it is woken by its account's events).
const IDLE_LOOK: Duration = Duration::from_secs(1);

pub(super) struct Dispatcher {
    pub out: Arc<Outbound>,
    pub writer: WriterHandle,
    pub events: Arc<EventLog>,
    pub client: reqwest::Client,
    pub allow_local: bool,
    pub policy: RetryPolicy,
    pub stopping: watch::Receiver<bool>,
}

type Key = (Arc<str>, Arc<str>);

/// In-flight limits: over all subscriptions, and per destination host.
struct Limits {
    all: Semaphore,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Which progress an event moves: the subscription's own, or its redelivery's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Live,
    Replay,
}

/// What a page of a redelivery left.
enum Replayed {
    /// None pending.
    Idle,
    /// More of it to send (or it just ended: look again at once).
    More,
    /// Stopped inside it: shutting down, the subscription changed, or disabled.
    Again,
}

/// What a delivery loop does after an event.
enum Step {
    /// The event is done (delivered or a dead letter): go on.
    Done,
    /// Stop here without advancing: shutting down, the subscription changed, or disabled.
    Again,
}

impl Dispatcher {
    /// Starts and stops delivery loops as subscriptions come and go, until shutdown.
    pub(super) async fn run(self, progress: BTreeMap<String, u64>) {
        let me = Arc::new(self);
        let limits = Arc::new(Limits { all: Semaphore::new(MAX_IN_FLIGHT), hosts: Mutex::default() });
        let mut running: HashMap<Key, watch::Sender<Option<Webhook>>> = HashMap::new();
        let mut stopping = me.stopping.clone();
        let mut first = true;
        loop {
            let targets = me.writer.read(|e| e.webhook_targets());
            let mut seen = HashSet::new();
            for t in targets {
                let key: Key = (t.account.clone(), t.id.clone());
                seen.insert(consumer(&t.account, &t.id));
                match running.get(&key) {
                    Some(tx) => {
                        tx.send_if_modified(|old| {
                            let changed = old.as_ref() != Some(&t.hook);
                            *old = Some(t.hook.clone());
                            changed
                        });
                    }
                    None => {
                        let (tx, rx) = watch::channel(Some(t.hook.clone()));
                        let done = progress.get(&consumer(&t.account, &t.id)).copied().unwrap_or(t.hook.from_seq);
                        tokio::spawn(me.clone().subscription(key.clone(), rx, done, limits.clone()));
                        running.insert(key, tx);
                    }
                }
            }
            let gone: Vec<Key> = running.keys().filter(|(a, i)| !seen.contains(&consumer(a, i))).cloned().collect();
            for key in gone {
                if let Some(tx) = running.remove(&key) {
                    let _ = tx.send(None);
                }
                me.forget(&consumer(&key.0, &key.1)).await;
            }
            if first {
                // Rows of subscriptions deleted while the server was down.
                for c in progress.keys().filter(|c| c.starts_with("webhook:") && !seen.contains(*c)) {
                    me.forget(c).await;
                }
                for c in me.out.replays.consumers().iter().filter(|c| !seen.contains(*c)) {
                    me.forget(c).await;
                }
                first = false;
            }
            tokio::select! {
                _ = tokio::time::sleep(TARGETS_EVERY) => {}
                _ = stopping.changed() => return,
            }
        }
    }

    async fn forget(&self, consumer: &str) {
        self.out.stats.progress.lock().unwrap().remove(consumer);
        self.out.replays.forget(consumer);
        if let Err(e) = self.out.outbox.lock().await.forget(consumer).await {
            tracing::warn!(consumer, error = %e, "forgetting a deleted subscription's delivery rows failed");
        }
    }

    /// One subscription's loop: its account's events after `done`, in order.
    async fn subscription(
        self: Arc<Self>,
        key: Key,
        mut cfg: watch::Receiver<Option<Webhook>>,
        mut done: u64,
        limits: Arc<Limits>,
    ) {
        let (account, _) = &key;
        let consumer = consumer(&key.0, &key.1);
        self.out.stats.set_progress(&consumer, done);
        let mut stopping = self.stopping.clone();
        let mut failing_since: Option<u64> = None;
        loop {
            if *stopping.borrow() {
                return;
            }
            let Some(hook) = cfg.borrow_and_update().clone() else { return };
            if !hook.sending() {
                tokio::select! {
                    _ = cfg.changed() => continue,
                    _ = stopping.changed() => return,
                }
            }
            let notify = self.events.notify_of(account);
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let queued = self.out.replays.wake.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            let replaying =
                match self.replay_page(&consumer, account, &hook, &mut failing_since, &mut cfg, &limits).await {
                    Replayed::Again => continue,
                    Replayed::More => true,
                    Replayed::Idle => false,
                };
            let page = match self.events.page(account, done, PAGE) {
                Err(gone) => {
                    self.fell_behind(&consumer, done, gone.resume_after).await;
                    done = gone.resume_after;
                    continue;
                }
                Ok(p) => p.events,
            };
            if page.is_empty() {
                if replaying {
                    continue;
                }
                tokio::select! {
                    _ = notified => {}
                    _ = queued => {}
                    _ = tokio::time::sleep(IDLE_LOOK) => {}
                    _ = cfg.changed() => {}
                    _ = stopping.changed() => return,
                }
                continue;
            }
            self.live_page(&consumer, &hook, page, &mut done, &mut failing_since, &mut cfg, &limits).await;
            self.out.stats.set_progress(&consumer, done);
        }
    }

    /// A page of live events after `done`, in order, `done` moved past each one sent, given up
    /// or not wanted (the last ones not wanted stored here: a sent one stores its own).
    #[allow(clippy::too_many_arguments)]
    async fn live_page(
        &self,
        consumer: &str,
        hook: &Webhook,
        page: Vec<Arc<Event>>,
        done: &mut u64,
        failing_since: &mut Option<u64>,
        cfg: &mut watch::Receiver<Option<Webhook>>,
        limits: &Limits,
    ) {
        let mut skipped = None;
        for e in page {
            if !hook.wants(e.body.kind()) {
                *done = e.seq;
                skipped = Some(e.seq);
                continue;
            }
            match self.event(consumer, hook, &e, failing_since, cfg, limits, Lane::Live).await {
                Step::Done => {
                    *done = e.seq;
                    skipped = None;
                }
                Step::Again => break,
            }
        }
        if let Some(seq) = skipped {
            if let Err(err) = self.out.outbox.lock().await.set_progress(consumer, seq).await {
                tracing::warn!(consumer, error = %err, "storing delivery progress failed; the events after the last stored point are looked at again");
            }
        }
    }

    /// Events the log no longer holds (the subscription fell behind the event retention): one
    /// dead letter for the range, then on from the oldest event still held.
    async fn fell_behind(&self, consumer: &str, done: u64, resume_after: u64) {
        let reason = "fell behind the event retention: these events were no longer kept when their turn came";
        tracing::warn!(consumer, first = done + 1, last = resume_after, "{reason}");
        self.out.stats.dead.fetch_add(1, Ordering::Relaxed);
        if let Err(e) =
            self.out.outbox.lock().await.dead_letter(consumer, done + 1, resume_after, now_ms(), reason).await
        {
            tracing::warn!(consumer, error = %e, "recording a dead letter failed");
        }
    }

    /// One page of the subscription's pending redelivery, if any: its wanted events in order,
    /// each as a live one is sent (the same `webhook-id`, retries, dead letters), the
    /// redelivery's stored progress moved after each. Events no longer kept are one dead letter.
    async fn replay_page(
        &self,
        consumer: &str,
        account: &str,
        hook: &Webhook,
        failing_since: &mut Option<u64>,
        cfg: &mut watch::Receiver<Option<Webhook>>,
        limits: &Limits,
    ) -> Replayed {
        let Some(p) = self.out.replays.get(consumer) else { return Replayed::Idle };
        let page = match self.events.page(account, p.replay.done, PAGE) {
            Err(gone) => {
                let upto = gone.resume_after.min(p.replay.last);
                let reason = "redelivery: these events are no longer kept (event retention)";
                self.dead(consumer, p.replay.done + 1, upto, reason, Lane::Replay).await;
                self.advance_replay(consumer, p.generation, upto).await;
                return Replayed::More;
            }
            Ok(page) => page.events,
        };
        // The page reaches the redelivery's end when it holds an event beyond it or every
        // event of the account there is (short): `last` exists, the route checked.
        let reaches_end = page.len() < PAGE || page.last().is_some_and(|e| e.seq >= p.replay.last);
        let mut done = p.replay.done;
        for e in page.iter().take_while(|e| e.seq <= p.replay.last) {
            if hook.wants(e.body.kind()) {
                if let Step::Again = self.event(consumer, hook, e, failing_since, cfg, limits, Lane::Replay).await {
                    self.advance_replay(consumer, p.generation, done).await;
                    return Replayed::Again;
                }
                if !self.advance_replay(consumer, p.generation, e.seq).await {
                    // Changed meanwhile (merged with a new request): read it again.
                    return Replayed::More;
                }
            }
            done = e.seq;
        }
        self.advance_replay(consumer, p.generation, if reaches_end { p.replay.last } else { done }).await;
        Replayed::More
    }

    /// Moves a redelivery's stored progress; whether it was still the one read.
    async fn advance_replay(&self, consumer: &str, generation: u64, done: u64) -> bool {
        match self.out.replays.advance(&self.out.outbox, consumer, generation, done).await {
            Ok(same) => same,
            Err(e) => {
                tracing::warn!(consumer, error = %e, "storing redelivery progress failed; those events may be sent again");
                true
            }
        }
    }

    /// Delivers one event, retrying as the policy says.
    #[allow(clippy::too_many_arguments)]
    async fn event(
        &self,
        consumer: &str,
        hook: &Webhook,
        e: &Event,
        failing_since: &mut Option<u64>,
        cfg: &mut watch::Receiver<Option<Webhook>>,
        limits: &Limits,
        lane: Lane,
    ) -> Step {
        if !cfg.borrow().as_ref().is_some_and(Webhook::sending) {
            // Disabled (or deleted) since the page was read: nothing more is sent.
            return Step::Again;
        }
        let body = serde_json::to_vec(e).unwrap_or_default();
        let msg_id = e.seq.to_string();
        let mut stopping = self.stopping.clone();
        for n in 1.. {
            let answer = self.send(consumer, hook, &msg_id, &body, limits).await;
            let last = n >= self.policy.max_attempts;
            let outcome = match &answer.verdict {
                Verdict::Delivered => "delivered",
                Verdict::Retry(_) if !last => "retry",
                _ => "dead",
            };
            self.record(consumer, e.seq, n, &answer, outcome, lane).await;
            match outcome {
                "delivered" => {
                    *failing_since = None;
                    return Step::Done;
                }
                "dead" => {
                    let since = *failing_since.get_or_insert(now_ms());
                    let reason = format!(
                        "given up after {n} attempt{}: {}",
                        if n == 1 { "" } else { "s" },
                        answer.error.as_deref().unwrap_or("failed")
                    );
                    let reason = match lane {
                        Lane::Live => reason,
                        Lane::Replay => format!("redelivery: {reason}"),
                    };
                    self.dead(consumer, e.seq, e.seq, &reason, lane).await;
                    self.disable_if_failing(consumer, since, &answer, cfg).await;
                    return Step::Done;
                }
                _ => {}
            }
            let since = *failing_since.get_or_insert(now_ms());
            if self.disable_if_failing(consumer, since, &answer, cfg).await {
                return Step::Again;
            }
            let delay = match answer.verdict {
                Verdict::Retry(Some(after)) => after.min(Duration::from_millis(self.policy.max_retry_after_ms)),
                _ => self.policy.backoff(n + 1, jitter(e.seq, n)),
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopping.changed() => return Step::Again,
                _ = cfg.changed() => return Step::Again,
            }
        }
        Step::Again
    }

    /// One attempt, signed with the subscription's secret as committed now (a rotation is in
    /// force for every request after it, even one of a page read before it).
    async fn send(&self, consumer: &str, hook: &Webhook, msg_id: &str, body: &[u8], limits: &Limits) -> Answer {
        let secret = consumer
            .strip_prefix("webhook:")
            .and_then(|c| c.split_once('/'))
            .and_then(|(a, id)| self.writer.read(|e| e.webhook_secret(a, id)))
            .unwrap_or_else(|| hook.secret.clone());
        let host = reqwest::Url::parse(&hook.url)
            .map(|u| format!("{}:{}", u.host_str().unwrap_or(""), u.port_or_known_default().unwrap_or(0)))
            .unwrap_or_default();
        let per_host = limits
            .hosts
            .lock()
            .unwrap()
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_IN_FLIGHT_PER_HOST)))
            .clone();
        let _all = limits.all.acquire().await;
        let _host = per_host.acquire().await;
        let answer = attempt(&self.client, &hook.url, self.allow_local, &secret, msg_id, body).await;
        self.out.stats.latency(answer.latency.as_micros() as u64);
        answer
    }

    async fn record(&self, consumer: &str, seq: u64, n: u32, answer: &Answer, outcome: &str, lane: Lane) {
        let stats = &self.out.stats;
        match outcome {
            "delivered" => stats.delivered.fetch_add(1, Ordering::Relaxed),
            "retry" => stats.retried.fetch_add(1, Ordering::Relaxed),
            _ => stats.dead_attempts.fetch_add(1, Ordering::Relaxed),
        };
        let a = Attempt {
            id: 0,
            seq,
            attempt: n,
            at_ms: now_ms(),
            status: answer.status,
            latency_ms: answer.latency.as_millis() as u64,
            outcome: outcome.to_string(),
            error: answer.error.clone(),
        };
        let progress = (outcome == "delivered" && lane == Lane::Live).then_some(seq);
        if let Err(e) = self.out.outbox.lock().await.record(consumer, &a, progress).await {
            tracing::warn!(consumer, seq, error = %e, "recording a delivery attempt failed");
        }
    }

    /// A dead letter for events `seq..=last`, moving the live progress with it in one
    /// transaction; a redelivery's moves none (the redelivery moves its own after it).
    async fn dead(&self, consumer: &str, seq: u64, last: u64, reason: &str, lane: Lane) {
        tracing::warn!(consumer, seq, last, reason, "webhook event given up: dead letter");
        self.out.stats.dead.fetch_add(1, Ordering::Relaxed);
        let progress = (lane == Lane::Live).then_some(consumer);
        let mut o = self.out.outbox.lock().await;
        if let Err(e) = o.dead_letter_with(consumer, seq, last, now_ms(), reason, progress).await {
            tracing::warn!(consumer, seq, error = %e, "recording a dead letter failed");
        }
    }

    /// Disables the subscription (through the writer) when it has failed since `since` for
    /// the policy's time, and waits (a few target polls at most) until its loop sees it, so
    /// that nothing more is sent; answers whether it did.
    async fn disable_if_failing(
        &self,
        consumer: &str,
        since: u64,
        answer: &Answer,
        cfg: &mut watch::Receiver<Option<Webhook>>,
    ) -> bool {
        let now = now_ms();
        if now.saturating_sub(since) < self.policy.disable_after_ms {
            return false;
        }
        let Some((account, id)) = consumer.strip_prefix("webhook:").and_then(|c| c.split_once('/')) else {
            return false;
        };
        let reason: String = format!(
            "deliveries failed for {} s with no success: {}",
            (now - since) / 1000,
            answer.error.as_deref().unwrap_or("failed")
        )
        .chars()
        .filter(|c| !c.is_control())
        .take(offernet_core::webhooks::MAX_DISABLED_REASON_CHARS)
        .collect();
        let cmd = Command::DisableWebhook { account: account.into(), id: id.into(), reason: reason.clone() };
        match self.writer.submit(cmd).await {
            Ok(_) => {
                tracing::warn!(consumer, reason, "webhook subscription disabled");
                let seen = cfg.wait_for(|h| !h.as_ref().is_some_and(Webhook::sending));
                let _ = tokio::time::timeout(TARGETS_EVERY * 8, seen).await;
                true
            }
            Err(e) => {
                tracing::warn!(consumer, error = %e, "disabling a failing subscription failed; retried later");
                false
            }
        }
    }
}

/// A jitter draw: the clock's nanoseconds mixed with the event and attempt (no RNG needed).
fn jitter(seq: u64, n: u32) -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mut x = u64::from(nanos) ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(n).rotate_left(32);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}
