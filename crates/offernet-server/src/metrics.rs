//! Prometheus text metrics, kept with atomics and small maps and rendered by hand.
//!
//! Not the `metrics` crate and its Prometheus exporter: most series here are read at render
//! time from where they already live (the writer's atomics, the event log, the connection
//! counters), which the hand-written renderer does without copying them into a registry; the
//! only recorded series are the per-route counters and histograms below. The label values are
//! bounded: route templates (or `unmatched`), a fixed set of methods, status codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use offernet_store::WriterHandle;

/// Latency buckets in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// Per method and route template: requests by status, and their latency.
    http: Mutex<BTreeMap<&'static str, BTreeMap<String, RouteStats>>>,
    pub offers_changed: AtomicU64,
    pub events: AtomicU64,
    pub connections: Arc<crate::conn::ConnStats>,
    /// Event streams refused by the per-account cap.
    pub streams_refused: AtomicU64,
}

impl Metrics {
    /// Counts one answer. The route's label is allocated only the first time it is seen.
    pub fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let mut http = self.http.lock().unwrap();
        let routes = http.entry(method).or_default();
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), RouteStats::default());
        }
        let stats = routes.get_mut(route).expect("inserted above");
        *stats.statuses.entry(status).or_default() += 1;
        let h = &mut stats.latency;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Requests by method, route template, status and status class (`2xx`…`5xx`), and their
    /// latency histogram by method and route template.
    fn render_http(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "# HELP offernet_http_requests_total HTTP requests by method, route template, status and status class."
        );
        let _ = writeln!(o, "# TYPE offernet_http_requests_total counter");
        let http = self.http.lock().unwrap();
        let routes = || http.iter().flat_map(|(m, rs)| rs.iter().map(move |(r, st)| (m, r, st)));
        for (m, r, st) in routes() {
            for (s, n) in &st.statuses {
                let class = s / 100;
                let _ = writeln!(
                    o,
                    "offernet_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\",class=\"{class}xx\"}} {n}"
                );
            }
        }
        let _ = writeln!(o, "# HELP offernet_http_request_duration_seconds HTTP request latency by route.");
        let _ = writeln!(o, "# TYPE offernet_http_request_duration_seconds histogram");
        for (m, r, st) in routes() {
            let h = &st.latency;
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "offernet_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                o,
                "offernet_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(o, "offernet_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}", h.sum);
            let _ =
                writeln!(o, "offernet_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}", h.count);
        }
    }

    /// The journal's commit latency as a Prometheus summary without quantiles (sum and count):
    /// `rate(_sum) / rate(_count)` is the mean commit time.
    fn render_commits(o: &mut String, writer: &WriterHandle) {
        let s = &writer.shared().stats;
        let micros = s.commit_micros.load(Ordering::Relaxed);
        let _ = writeln!(o, "# HELP offernet_journal_commit_seconds Journal commit latency (one per batch).");
        let _ = writeln!(o, "# TYPE offernet_journal_commit_seconds summary");
        let _ = writeln!(o, "offernet_journal_commit_seconds_sum {}", micros as f64 / 1e6);
        let _ = writeln!(o, "offernet_journal_commit_seconds_count {}", s.batches.load(Ordering::Relaxed));
    }

    /// Every series. `open_streams` and `events_retained` come from the event log. Long on
    /// purpose: one entry per series, in the order they are printed.
    pub fn render(&self, writer: &WriterHandle, open_streams: u64, events_retained: u64) -> String {
        let mut o = String::new();
        self.render_http(&mut o);
        Self::render_commits(&mut o, writer);
        let s = &writer.shared().stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let c = &self.connections;
        let health = writer.health();
        let series: [(&str, &str, &str, u64); 19] = [
            (
                "offernet_writer_up",
                "gauge",
                "1 while the writer can write; 0 while it retries the journal, lost the lease, or stopped.",
                (health.state == offernet_store::WriterState::Ok) as u64,
            ),
            ("offernet_journal_errors_total", "counter", "Journal errors seen by the writer.", health.journal_errors),
            ("offernet_journal_batches_total", "counter", "Journal commits (batches).", get(&s.batches)),
            ("offernet_journal_commands_total", "counter", "Commands committed.", get(&s.commands)),
            (
                "offernet_journal_commands_resolved_total",
                "counter",
                "Commands that came with their account and SKU found by the request, for the writer to use instead of searching.",
                get(&s.resolved),
            ),
            ("offernet_journal_last_batch_size", "gauge", "Commands in the last commit.", get(&s.last_batch_size)),
            (
                "offernet_journal_commit_micros_total",
                "counter",
                "Total commit latency (microseconds); divide by batches.",
                get(&s.commit_micros),
            ),
            ("offernet_snapshots_total", "counter", "Snapshots taken.", get(&s.snapshots)),
            ("offernet_journal_last_seq", "gauge", "Last journal sequence number applied.", get(&s.last_seq)),
            (
                "offernet_high_water_mark",
                "gauge",
                "Sequence number last written to the high-water mark file (committed-seq); trails offernet_journal_last_seq by at most 100 ms of writes while writing it works.",
                get(&s.high_water_mark),
            ),
            ("offernet_writer_queue_depth", "gauge", "Commands waiting for the writer.", writer.queue_depth() as u64),
            ("offernet_offers_changed_total", "counter", "offer.changed events emitted.", get(&self.offers_changed)),
            ("offernet_events_total", "counter", "Events emitted.", get(&self.events)),
            (
                "offernet_events_retained",
                "gauge",
                "Events held for `?after=` reads and stream resumption (all accounts).",
                events_retained,
            ),
            ("offernet_http_connections", "gauge", "Open HTTP connections.", get(&c.open)),
            (
                "offernet_http_send_timeouts_total",
                "counter",
                "Connections closed because the client took no bytes within the send timeout.",
                get(&c.send_timeouts),
            ),
            (
                "offernet_http_connections_forced_total",
                "counter",
                "Connections closed at shutdown after the grace period.",
                get(&c.forced_at_shutdown),
            ),
            ("offernet_event_streams", "gauge", "Open event streams.", open_streams),
            (
                "offernet_event_streams_refused_total",
                "counter",
                "Event streams refused by the per-account cap.",
                get(&self.streams_refused),
            ),
        ];
        for (name, kind, help, v) in series {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
        Self::render_writer_state(&mut o, health.state);
        o
    }

    fn render_writer_state(o: &mut String, state: offernet_store::WriterState) {
        let _ = writeln!(o, "# HELP offernet_writer_state The writer's state (1 for the current one).");
        let _ = writeln!(o, "# TYPE offernet_writer_state gauge");
        for s in ["ok", "retrying", "not_writer", "stopped"] {
            let _ = writeln!(o, "offernet_writer_state{{state=\"{s}\"}} {}", (state.as_str() == s) as u8);
        }
    }
}
