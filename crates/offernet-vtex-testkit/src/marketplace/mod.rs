//! `FakeVtexMarketplace`: an external VTEX marketplace V on 127.0.0.1:0. It serves what offernet
//! calls as seller S's connector (B5-B10), validating every request (SUG, MA, ESM + overlay) and
//! recording it, with faults per route; after each price or inventory notification it runs an
//! indexing simulation at S's fulfillment endpoint, as VTEX does, through a [`VtexDriver`].

mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use routes::MarketplaceRoute;
pub use state::{IndexingRun, Notification, OrderMessage};

use crate::driver::{FulfillmentCall, VtexDriver};
use crate::error::{Error, Result};
use crate::record::{Fault, Recorded};
use crate::schema::Schemas;
use crate::serve::{Credentials, ServerThread};

/// At most this many indexing simulations wait to run.
const FOLLOW_QUEUE: usize = 1_000;

/// A running fake VTEX marketplace; dropping it stops it.
pub struct FakeVtexMarketplace {
    shared: Arc<routes::Shared>,
    server: Option<ServerThread>,
    follower: Option<JoinHandle<()>>,
}

impl FakeVtexMarketplace {
    /// Starts the fake for VTEX account `account` (the segment of its suggestions base).
    pub fn start(account: &str) -> Result<FakeVtexMarketplace> {
        if account.is_empty() || !account.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Error::new(format!("account {account:?}: use letters, digits and '-'")));
        }
        let schemas = Schemas::shared()?;
        let (send, receive) = sync_channel(FOLLOW_QUEUE);
        let state = Mutex::new(state::MarketplaceState::new(send));
        let shared = Arc::new(routes::Shared { account: account.into(), schemas, state });
        let server = ServerThread::start("fake-vtex-marketplace", routes::router(shared.clone()))?;
        let follow = shared.clone();
        let follower = std::thread::Builder::new()
            .name("fake-vtex-indexing".into())
            .spawn(move || run_indexing(&follow, receive))
            .map_err(|e| Error::new(format!("fake marketplace: thread: {e}")))?;
        Ok(FakeVtexMarketplace { shared, server: Some(server), follower: Some(follower) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().map(ServerThread::addr).unwrap_or_else(|| ([127, 0, 0, 1], 0).into())
    }

    /// The integration's `api_base`: `http://127.0.0.1:PORT/api`.
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.addr())
    }

    /// The integration's `suggestions_base`: `http://127.0.0.1:PORT/{account}`.
    pub fn suggestions_base(&self) -> String {
        format!("http://{}/{}", self.addr(), self.shared.account)
    }

    /// The `marketplaceServicesEndpoint` to put in placements: `http://127.0.0.1:PORT/api/oms`.
    pub fn services_endpoint(&self) -> String {
        format!("http://{}/api/oms", self.addr())
    }

    /// From now on, requests must carry one of the pairs given so far (else 401 and a violation).
    pub fn expect_credentials(&self, app_key: &str, app_token: &str) {
        self.shared.lock().credentials.push(Credentials { app_key: app_key.into(), app_token: app_token.into() });
    }

    /// Marks (seller id, SKU) as known: B5 answers 200.
    pub fn bind(&self, seller: &str, sku: &str) {
        self.shared.lock().bindings.insert((seller.into(), sku.into()));
    }

    pub fn unbind(&self, seller: &str, sku: &str) {
        self.shared.lock().bindings.remove(&(seller.to_string(), sku.to_string()));
    }

    /// Whether a valid suggestion binds its SKU at once (default true).
    pub fn set_auto_bind(&self, on: bool) {
        self.shared.lock().auto_bind = on;
    }

    /// After each B7 for `driver`'s seller id, run an indexing simulation through `driver`.
    pub fn follow_notifications(&self, driver: VtexDriver) {
        self.shared.lock().followers.insert(driver.seller_id().to_string(), driver);
    }

    pub fn push_fault(&self, route: MarketplaceRoute, fault: Fault, times: usize) {
        self.shared.lock().log.push_fault(route, fault, times);
    }

    pub fn set_fault(&self, route: MarketplaceRoute, fault: Option<Fault>) {
        self.shared.lock().log.set_fault(route, fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().log.clear_faults();
    }

    pub fn requests(&self) -> Vec<Recorded<MarketplaceRoute>> {
        self.shared.lock().log.entries()
    }

    pub fn count(&self, route: MarketplaceRoute) -> usize {
        self.shared.lock().log.count(route)
    }

    /// Waits until `route` has received at least `n` requests; false after `timeout`.
    pub fn wait_for(&self, route: MarketplaceRoute, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count(route) < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    pub fn violations(&self) -> Vec<String> {
        let st = self.shared.lock();
        let mut out = st.log.violations();
        for run in &st.indexing {
            out.extend(
                run.violations.iter().map(|v| format!("indexing simulation of {} for {}: {v}", run.sku, run.seller)),
            );
        }
        out
    }

    /// Panics listing the violations, if any: what offernet sent (and answered to the indexing
    /// simulations) must conform.
    pub fn assert_conforming(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "the fake VTEX marketplace saw non-conforming traffic:\n{}",
            violations.join("\n")
        );
    }

    /// The suggestion last received for (seller id, SKU).
    pub fn suggestion(&self, seller: &str, sku: &str) -> Option<serde_json::Value> {
        self.shared.lock().suggestions.get(&(seller.to_string(), sku.to_string())).cloned()
    }

    pub fn notifications(&self) -> Vec<Notification> {
        self.shared.lock().notifications.clone()
    }

    pub fn invoices(&self) -> Vec<OrderMessage> {
        self.shared.lock().invoices.clone()
    }

    pub fn tracking(&self) -> Vec<OrderMessage> {
        self.shared.lock().tracking.clone()
    }

    pub fn cancels(&self) -> Vec<OrderMessage> {
        self.shared.lock().cancels.clone()
    }

    pub fn indexing_runs(&self) -> Vec<IndexingRun> {
        self.shared.lock().indexing.clone()
    }
}

impl Drop for FakeVtexMarketplace {
    fn drop(&mut self) {
        drop(self.server.take());
        self.shared.lock().follow = None;
        if let Some(follower) = self.follower.take() {
            let _ = follower.join();
        }
    }
}

/// The indexing thread: one simulation per queued (seller, SKU), until the fake stops.
fn run_indexing(shared: &routes::Shared, queue: Receiver<(String, String)>) {
    while let Ok((seller, sku)) = queue.recv() {
        let Some(driver) = shared.lock().followers.get(&seller).cloned() else { continue };
        let run = match driver.indexing_simulation(&[(&sku, 1)]) {
            Ok(reply) => match driver.check(FulfillmentCall::Simulation, &reply) {
                Ok(answer) => {
                    IndexingRun { seller, sku, status: reply.status, answer: Some(answer), violations: Vec::new() }
                }
                Err(violations) => IndexingRun { seller, sku, status: reply.status, answer: None, violations },
            },
            Err(e) => IndexingRun { seller, sku, status: 0, answer: None, violations: vec![e.0] },
        };
        state::push_bounded(&mut shared.lock().indexing, run);
    }
}
