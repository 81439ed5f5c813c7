//! What every handler and middleware shares. Re-exported from the crate root; kept in its own
//! file so that the modules the root assembles (routes, extractors, connection limits) import
//! it without importing the root.

use std::sync::Arc;

use offernet_store::WriterHandle;

use crate::config::Config;
use crate::{events, metrics};

/// What every handler shares.
pub struct AppState {
    pub writer: WriterHandle,
    pub admin_token_hash: String,
    pub config: Config,
    pub events: Arc<events::EventLog>,
    pub metrics: Arc<metrics::Metrics>,
    /// Becomes true when shutdown starts: live event streams end so that the graceful
    /// shutdown does not wait on them forever.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Outbound delivery (webhooks, NATS): its tables and counters.
    pub outbound: Arc<crate::outbound::Outbound>,
    /// The OpenAPI document served at `/openapi.json`, built once from the route table.
    pub openapi: Arc<serde_json::Value>,
    /// When each feed version was first seen (`Last-Modified` of the product feeds).
    pub feeds: crate::feeds::version::Clock,
    /// Integrations' app keys and tokens, outside the journal (`routes/credentials.rs`; the
    /// outbound worker reads them to call external parties).
    pub secrets: Arc<tokio::sync::Mutex<offernet_store::Secrets>>,
    /// The order documents table (`offernet_store::documents`): shown with an order by
    /// `GET …/orders/{id}`, written by the VTEX placement route.
    pub documents: Arc<tokio::sync::Mutex<offernet_store::Documents>>,
    /// The VTEX surface, with `--vtex` (`crate::vtex`): its routes and workers share it.
    pub vtex: Option<Arc<offernet_vtex::VtexState>>,
}
