//! A webhook subscription as the engine keeps it (its commands and checks: `webhooks/`).

use std::sync::Arc;

/// One subscription of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// Where events are POSTed: `https://…` (or `http://…`, which the server accepts only with
    /// `--outbound-allow-local`).
    pub url: Arc<str>,
    /// Patterns: an event type (`offer.changed`), a family (`order.*`) or `*`.
    pub events: Vec<Arc<str>>,
    /// Set by the account; an inactive subscription keeps its place and sends nothing.
    pub active: bool,
    /// Why the server disabled it (it kept failing); cleared by a PATCH with `active: true`.
    pub disabled: Option<Arc<str>>,
    /// The Standard Webhooks signing secret `whsec_<base64>`.
    pub secret: Arc<str>,
    /// The creating command's time (ms since the Unix epoch).
    pub created_ms: u64,
    /// The event sequence number when it was created: events after it are delivered.
    pub from_seq: u64,
}

impl Webhook {
    /// Whether an event of type `kind` is one this subscription takes.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|p| pattern_matches(p, kind))
    }

    /// Whether events are sent now: active and not disabled.
    pub fn sending(&self) -> bool {
        self.active && self.disabled.is_none()
    }
}

/// Whether event type `kind` matches `pattern` (a type, `family.*`, or `*`).
pub fn pattern_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(family) => kind.strip_prefix(family).is_some_and(|rest| rest.starts_with('.')),
        None => pattern == kind,
    }
}
