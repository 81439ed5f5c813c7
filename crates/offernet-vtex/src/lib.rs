//! offernet-vtex: the VTEX Marketplace Protocol (shared/design/vtex-compat.md).
//!
//! Role (b): an offernet seller S serves a VTEX marketplace V at
//! `/vtex/{S}/api/fulfillment` + VTEX's paths (B1 simulation, B2 placement, B3 fulfil, B4
//! cancel). Each maps onto what offernet already has: V is an ordinary account (a *mirror*)
//! holding a registration half for S with `match_mode: auto`, so S's SKUs bind at V and S's
//! offers, the stock rule, reservations and chain orders *at V* are exactly "S selling to V".
//!
//! - `simulation.rs`, `placement.rs`, `lifecycle.rs`: protocol types (camelCase; lenient:
//!   unknown fields are ignored, unlike `/v1`) and pure mappings from a request and committed
//!   state to a command, a document and an answer. No IO.
//! - `routes.rs`: the axum handlers, documented for the OpenAPI document under tag `vtex`; the
//!   server mounts them only with `--vtex`.
//! - `keyed.rs`: the path form of the inbound auth, `/vtex/{s}/k/{connection key}/…`, in
//!   front of the same routes.
//! - `auth.rs`: AppKey/AppToken or bearer, through the server's own token check; then the
//!   caller's rate limit (`limit.rs`, `--vtex-inbound-rps`, 429). `body.rs`: bodies, leniently.
//! - `notify/`: role (b) outbound, what S tells V (B5–B9). `effects/`: role (a), orders at
//!   external sellers (A2–A4).
//! - `error.rs`: VTEX's error shape (`exception: null`) and the status table of §4.
//! - `purge.rs`: the retention of order documents.
//! - `market/`: role (c), an offernet marketplace serving external sellers (C1–C4), and the
//!   quote path of role (a) (the refresh queue, A1, the quote worker and its sweep).
//! - `oms.rs`: role (c) C5 invoice and C6 cancel by an external seller of its sub order.
//! - `outbound/`: every call to an external party (client, credentials, timeouts, circuit
//!   breaker, in-flight limit, status, metrics); `workers.rs` starts the workers that use it.
//!
//! Architecture invariant: this crate knows nothing of the server crate (the server depends on
//! it): what it needs of the server (the writer, token checks, the document table, the public
//! URL) comes in as a [`VtexState`].

use std::sync::Arc;

use offernet_store::{Documents, WriterHandle};

pub mod auth;
mod body;
pub mod document;
pub mod effects;
pub mod error;
pub mod keyed;
pub mod lifecycle;
pub mod limit;
pub mod market;
pub mod notify;
pub mod oms;
pub mod outbound;
pub mod placement;
pub mod purge;
pub mod routes;
pub mod simulation;
pub mod workers;

pub use error::{VtexError, VtexResult};
pub use routes::router;

/// Who a token belongs to, as the server's token check says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Operator,
    Account(String),
}

/// Checks a token (an AppToken or a bearer token): the operator's, an account's, or neither.
pub type TokenCheck = Arc<dyn Fn(&str) -> Option<Caller> + Send + Sync>;

/// What the VTEX routes share, given by the server.
pub struct VtexState {
    pub writer: WriterHandle,
    pub tokens: TokenCheck,
    /// The order documents table (personal data kept out of the journal).
    pub documents: Arc<tokio::sync::Mutex<Documents>>,
    /// `--public-url`: where VTEX reaches this server (`https://HOST`, no trailing `/`).
    pub public_url: String,
    /// Largest request body (1 MiB by default, as `/v1`).
    pub body_limit: usize,
    /// External sellers' SKUs whose quotes to ask again (role (c) notifications, the sweep).
    pub refresh: Arc<market::Refresh>,
    /// Calls to external parties.
    pub outbound: Arc<outbound::Outbound>,
    /// The secrets store: the hashes of connection keys (`keyed.rs`), the outbound credentials.
    pub secrets: Arc<tokio::sync::Mutex<offernet_store::Secrets>>,
    /// B7 notifications a second to one marketplace at most (`--vtex-notify-rps`, 1 to
    /// [`notify::prices::MAX_NOTIFY_RPS`]).
    pub notify_rps: u32,
    /// The inbound rate limit per caller (`--vtex-inbound-rps`).
    pub limiter: limit::Limiter,
    /// Committed events, as the writer publishes them (one message per command).
    pub events: Events,
}

/// The feed of committed events for the workers. A worker that falls behind gets
/// `RecvError::Lagged` and must then look at the whole committed state again (the workers are
/// level-triggered: an event only says when to look).
pub type Events = tokio::sync::broadcast::Sender<Arc<[offernet_core::Event]>>;

/// Messages (commands' events) the feed keeps for a slow worker before it lags.
pub const EVENTS_KEPT: usize = 4_096;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The first 32 hex digits of the SHA-256 of `text`: VTEX receipts and request ids derived
/// from stored state, so a retry sends or answers the same.
pub fn digest32(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = hex(&Sha256::digest(text.as_bytes()));
    h.truncate(32);
    h
}

/// The fulfillment endpoint to paste into V's seller registration for seller `seller`.
pub fn fulfillment_endpoint(public_url: &str, seller: &str) -> String {
    format!("{}/vtex/{seller}/api/fulfillment", public_url.trim_end_matches('/'))
}
