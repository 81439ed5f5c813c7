//! The outbound side's series for `/metrics`: deliveries by outcome, their latency, the backlog
//! of each subscription and of the NATS publisher, dead letters, the NATS publish lag.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::Outbound;

impl Outbound {
    /// The series, given the newest event sequence number (`head`) for the backlogs. The
    /// backlog counts sequence numbers, which include the events a subscription does not want.
    pub fn render(&self, head: u64) -> String {
        let s = &self.stats;
        let mut o = String::new();
        let _ = writeln!(o, "# HELP offernet_webhook_deliveries_total Webhook delivery attempts by outcome.");
        let _ = writeln!(o, "# TYPE offernet_webhook_deliveries_total counter");
        for (outcome, n) in [("delivered", &s.delivered), ("retry", &s.retried), ("dead", &s.dead_attempts)] {
            let _ =
                writeln!(o, "offernet_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}", n.load(Ordering::Relaxed));
        }
        let _ =
            writeln!(o, "# HELP offernet_webhook_delivery_seconds Webhook request latency (summary: sum and count).");
        let _ = writeln!(o, "# TYPE offernet_webhook_delivery_seconds summary");
        let _ = writeln!(
            o,
            "offernet_webhook_delivery_seconds_sum {}",
            s.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(o, "offernet_webhook_delivery_seconds_count {}", s.latency_count.load(Ordering::Relaxed));
        let _ =
            writeln!(o, "# HELP offernet_webhook_dead_letters_total Events (or ranges) given up, webhooks and NATS.");
        let _ = writeln!(o, "# TYPE offernet_webhook_dead_letters_total counter");
        let _ = writeln!(o, "offernet_webhook_dead_letters_total {}", s.dead.load(Ordering::Relaxed));
        let _ = writeln!(o, "# HELP offernet_webhook_backlog Event sequence numbers not yet done, per subscription.");
        let _ = writeln!(o, "# TYPE offernet_webhook_backlog gauge");
        for (consumer, done) in s.progress.lock().unwrap().iter() {
            let sub = consumer.strip_prefix("webhook:").unwrap_or(consumer);
            let _ = writeln!(o, "offernet_webhook_backlog{{subscription=\"{sub}\"}} {}", head.saturating_sub(*done));
        }
        let _ = writeln!(o, "# HELP offernet_nats_published_total Events acknowledged by JetStream.");
        let _ = writeln!(o, "# TYPE offernet_nats_published_total counter");
        let _ = writeln!(o, "offernet_nats_published_total {}", s.nats_published.load(Ordering::Relaxed));
        let _ = writeln!(o, "# HELP offernet_nats_errors_total NATS sessions ended by an error (then reconnected).");
        let _ = writeln!(o, "# TYPE offernet_nats_errors_total counter");
        let _ = writeln!(o, "offernet_nats_errors_total {}", s.nats_errors.load(Ordering::Relaxed));
        let _ = writeln!(o, "# HELP offernet_nats_backlog Event sequence numbers not yet published.");
        let _ = writeln!(o, "# TYPE offernet_nats_backlog gauge");
        let _ = writeln!(o, "offernet_nats_backlog {}", head.saturating_sub(s.nats_progress.load(Ordering::Relaxed)));
        let _ = writeln!(
            o,
            "# HELP offernet_nats_publish_lag_seconds From the newest published event's commit to its acknowledgement."
        );
        let _ = writeln!(o, "# TYPE offernet_nats_publish_lag_seconds gauge");
        let _ = writeln!(o, "offernet_nats_publish_lag_seconds {}", s.nats_lag_ms.load(Ordering::Relaxed) as f64 / 1e3);
        o
    }
}
