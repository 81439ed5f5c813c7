//! The VTEX workers (vtex-compat.md §3.2–§3.4), started once by the server when `--vtex` is on,
//! in the process that holds the writer: each reads committed state (and the feed of committed
//! events, [`crate::Events`]), calls external parties through [`crate::outbound::Outbound`], and
//! submits what it learnt as journaled commands. They stop when `stopping` turns true.

use std::sync::Arc;

use tokio::sync::watch;

use crate::VtexState;

/// Starts every worker.
pub fn start(st: Arc<VtexState>, stopping: watch::Receiver<bool>) {
    crate::market::worker::start(st.clone(), stopping.clone());
    crate::effects::start(st.clone(), stopping.clone());
    crate::notify::start(st, stopping);
}
