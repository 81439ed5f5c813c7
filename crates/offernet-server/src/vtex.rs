//! What the VTEX surface (`offernet_vtex`) needs of the server when `--vtex` is on: the
//! writer, the one token check (`extract::token_caller`), the documents table, the secrets
//! store, the public URL, the body limit, the outbound client (the webhooks' client: one pool,
//! the SSRF guard's resolver and URL check) and the feed of committed events; and the start of
//! its workers. The order documents' purge runs whether or not VTEX is on (documents stay).

use std::sync::Arc;

use offernet_store::{Documents, Secrets, WriterHandle};
use offernet_vtex::outbound::{circuit, Outbound, UrlCheck};
use tokio::sync::{watch, Mutex};

use crate::{auth, extract, outbound, Config};

/// The feed of committed events for the VTEX workers, when `--vtex` is on.
pub fn events(config: &Config) -> Option<offernet_vtex::Events> {
    config.vtex.then(|| tokio::sync::broadcast::channel(offernet_vtex::EVENTS_KEPT).0)
}

/// What `/v1` and the VTEX surface share beside the writer.
pub struct Side {
    pub admin_token_hash: String,
    pub secrets: Arc<Mutex<Secrets>>,
    pub documents: Arc<Mutex<Documents>>,
    pub vtex: Option<Arc<offernet_vtex::VtexState>>,
}

/// Opens the secrets store and the documents table, starts the documents' purge, and with
/// `--vtex` builds the VTEX state and starts its workers.
pub async fn open(
    config: &Config,
    writer: &WriterHandle,
    admin_token: &str,
    events: Option<offernet_vtex::Events>,
    stopping: watch::Receiver<bool>,
) -> Result<Side, String> {
    let side = Side {
        admin_token_hash: auth::sha256_hex(admin_token),
        secrets: Arc::new(Mutex::new(open_secrets(config).await?)),
        documents: open_documents(config).await?,
        vtex: None,
    };
    let p = Parts { config, writer, side: &side, events, stopping };
    Ok(Side { vtex: start(p)?, ..side })
}

struct Parts<'a> {
    config: &'a Config,
    writer: &'a WriterHandle,
    side: &'a Side,
    events: Option<offernet_vtex::Events>,
    stopping: watch::Receiver<bool>,
}

fn start(p: Parts<'_>) -> Result<Option<Arc<offernet_vtex::VtexState>>, String> {
    let days = p.config.document_retention_days;
    offernet_vtex::purge::spawn(p.writer.clone(), p.side.documents.clone(), days, p.stopping.clone());
    let (Some(public_url), Some(events)) = (p.config.public_url.clone().filter(|_| p.config.vtex), p.events) else {
        return Ok(None);
    };
    let (hash, writer) = (p.side.admin_token_hash.clone(), p.writer.clone());
    let tokens: offernet_vtex::TokenCheck = Arc::new(move |t: &str| match extract::token_caller(&hash, &writer, t)? {
        auth::Caller::Operator => Some(offernet_vtex::Caller::Operator),
        auth::Caller::Account(a) => Some(offernet_vtex::Caller::Account(a)),
    });
    let allow_local = p.config.outbound_allow_local;
    let check_url: UrlCheck = Arc::new(move |u: &reqwest::Url| outbound::guard::check_url(u, allow_local));
    let client = outbound::client(allow_local)?;
    let calls = Outbound::new(client, check_url, p.side.secrets.clone(), circuit::FIRST_OPEN_MS);
    let st = Arc::new(offernet_vtex::VtexState {
        writer: p.writer.clone(),
        tokens,
        documents: p.side.documents.clone(),
        public_url,
        body_limit: p.config.body_limit_bytes,
        outbound: Arc::new(calls),
        secrets: p.side.secrets.clone(),
        notify_rps: p.config.vtex_notify_rps,
        limiter: offernet_vtex::limit::Limiter::new(p.config.vtex_inbound_rps),
        events,
        refresh: Default::default(),
    });
    offernet_vtex::workers::start(st.clone(), p.stopping);
    Ok(Some(st))
}

/// Integrations' app keys and tokens: `secrets.db` in the data directory, or the PostgreSQL
/// schema `offernet_secrets` of `--database`.
async fn open_secrets(config: &Config) -> Result<Secrets, String> {
    Secrets::open(config.database.as_deref(), &config.data_dir)
        .await
        .map_err(|e| format!("opening the secrets store: {e}"))
}

/// The order documents table on a connection of its own, and its purge (the retention).
async fn open_documents(config: &Config) -> Result<Arc<Mutex<Documents>>, String> {
    let documents = Documents::open(config.database.as_deref(), &config.data_dir)
        .await
        .map_err(|e| format!("opening the order documents: {e}"))?;
    Ok(Arc::new(Mutex::new(documents)))
}
