//! Where the writer's events go.

use offernet_core::Event;

/// Receives the events of every command the engine accepts, in sequence order: from the
/// writer after each batch is committed and applied (before its callers are answered), and from
/// startup for the commands it replays (`recover_with_events`), which are the same events the
/// commands gave when first applied. The server's event log and metrics are one; any
/// `Fn(&[Event]) + Send + Sync` closure is one too.
pub trait EventSink: Send + Sync {
    /// The events of one command, in order; `at_ms` is the command's time (retention by age
    /// counts from it).
    fn publish(&self, at_ms: u64, events: &[Event]);
}

impl<F: Fn(u64, &[Event]) + Send + Sync> EventSink for F {
    fn publish(&self, at_ms: u64, events: &[Event]) {
        self(at_ms, events)
    }
}
