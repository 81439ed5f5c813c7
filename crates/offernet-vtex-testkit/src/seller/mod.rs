//! `FakeExternalSeller`: an external seller E's system on 127.0.0.1:0, serving A1-A4 (design
//! §1.3) from a table SKU → price, list price, stock balance, SLAs. It records every request and
//! validates it against ESF plus the overlay (a violation is answered 400 and kept for
//! [`FakeExternalSeller::assert_conforming`]), deduplicates placements by `marketplaceOrderId`,
//! injects faults per route, and hands out a [`SellerConnector`] to call offernet's C1-C6.

mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use routes::SellerRoute;
pub use state::{SellerOrder, SkuOffer, Sla, MAX_ORDERS, MAX_SKUS};

use crate::connector::SellerConnector;
use crate::error::{Error, Result};
use crate::record::{Fault, Recorded};
use crate::schema::Schemas;
use crate::serve::{Credentials, ServerThread};

/// The fake seller's fulfillment endpoint path (the connector guide: include `/api`).
const BASE: &str = "/api/fulfillment";

/// A running fake external seller; dropping it stops it.
pub struct FakeExternalSeller {
    shared: Arc<routes::Shared>,
    server: ServerThread,
}

impl FakeExternalSeller {
    /// Starts an empty fake (no SKUs, no expected credentials) on 127.0.0.1:0.
    pub fn start() -> Result<FakeExternalSeller> {
        let schemas = Schemas::shared()?;
        let shared =
            Arc::new(routes::Shared { base: BASE.into(), schemas, state: Mutex::new(state::SellerState::new()) });
        let server = ServerThread::start("fake-external-seller", routes::router(shared.clone()))?;
        Ok(FakeExternalSeller { shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The `fulfillment_endpoint` to configure in offernet: `http://127.0.0.1:PORT/api/fulfillment`.
    pub fn fulfillment_endpoint(&self) -> String {
        format!("http://{}{BASE}", self.addr())
    }

    /// From now on, requests must carry this AppKey/AppToken pair (else 401 and a violation).
    pub fn expect_credentials(&self, app_key: &str, app_token: &str) {
        self.shared.lock().credentials = vec![Credentials { app_key: app_key.into(), app_token: app_token.into() }];
    }

    /// The `followUpEmail` of placement answers (omitted when `None`).
    pub fn set_follow_up_email(&self, email: Option<&str>) {
        self.shared.lock().follow_up_email = email.map(str::to_string);
    }

    /// Adds or replaces SKU `sku` (E's own SKU id).
    pub fn put_sku(&self, sku: &str, offer: SkuOffer) -> Result<()> {
        let mut st = self.shared.lock();
        if st.table.len() >= MAX_SKUS && !st.table.contains_key(sku) {
            return Err(Error::new(format!("the fake seller holds {MAX_SKUS} SKUs already")));
        }
        st.table.insert(sku.into(), offer);
        Ok(())
    }

    /// Changes SKU `sku` in place (price, stock…); false when it does not exist.
    pub fn update_sku(&self, sku: &str, change: impl FnOnce(&mut SkuOffer)) -> bool {
        self.shared.lock().table.get_mut(sku).map(change).is_some()
    }

    pub fn remove_sku(&self, sku: &str) -> Option<SkuOffer> {
        self.shared.lock().table.remove(sku)
    }

    pub fn sku(&self, sku: &str) -> Option<SkuOffer> {
        self.shared.lock().table.get(sku).cloned()
    }

    /// Injects `fault` into the next `times` requests of `route` (before any standing fault).
    pub fn push_fault(&self, route: SellerRoute, fault: Fault, times: usize) {
        self.shared.lock().log.push_fault(route, fault, times);
    }

    /// Injects `fault` into every request of `route` until changed (`None` ends it).
    pub fn set_fault(&self, route: SellerRoute, fault: Option<Fault>) {
        self.shared.lock().log.set_fault(route, fault);
    }

    pub fn clear_faults(&self) {
        self.shared.lock().log.clear_faults();
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Recorded<SellerRoute>> {
        self.shared.lock().log.entries()
    }

    /// How many requests `route` received (faulted ones included).
    pub fn count(&self, route: SellerRoute) -> usize {
        self.shared.lock().log.count(route)
    }

    /// Waits until `route` has received at least `n` requests; false after `timeout`.
    pub fn wait_for(&self, route: SellerRoute, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count(route) < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Every violation found in the requests received.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().log.violations()
    }

    /// Panics listing the violations, if any: what offernet sent must conform.
    pub fn assert_conforming(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "the fake external seller received non-conforming requests:\n{}",
            violations.join("\n")
        );
    }

    /// The orders placed at the fake, in placement order.
    pub fn orders(&self) -> Vec<SellerOrder> {
        self.shared.lock().orders.clone()
    }

    /// The order placed with `marketplace_order_id`, if any.
    pub fn order(&self, marketplace_order_id: &str) -> Option<SellerOrder> {
        self.shared.lock().orders.iter().find(|o| o.marketplace_order_id == marketplace_order_id).cloned()
    }

    /// A connector calling offernet (`http://127.0.0.1:PORT`) at marketplace `marketplace` as
    /// seller `seller_id` with its account token (see [`SellerConnector::new`]).
    pub fn connector(
        &self,
        client: reqwest::blocking::Client,
        offernet: &str,
        marketplace: &str,
        seller_id: &str,
        app_token: &str,
    ) -> SellerConnector {
        SellerConnector::new(client, offernet, marketplace, seller_id, app_token)
    }
}
