//! Test kit for offernet's VTEX surface (issue 14; design `../shared/design/vtex-compat.md` §5).
//! A library used only as a dev-dependency.
//!
//! - [`Schemas`]: VTEX's four OpenAPI files (`../shared/vtex-openapi/`) as JSON Schema
//!   validators, with the [`Overlay`] of their known defects (`overlay.json`) or without it:
//!   `schemas.validate(File::Esf, "orderPlacement", &value)` or, by operation,
//!   `schemas.validate_operation(File::Esf, "post", "/pvt/orders", Part::Response(200), &value)`.
//! - [`FakeExternalSeller`]: an external seller's system serving A1-A4, validating what offernet
//!   sends, with faults per route; its [`SellerConnector`] calls offernet's C1-C6.
//! - [`FakeVtexMarketplace`]: a VTEX marketplace serving B5-B10, validating what offernet sends;
//!   [`VtexDriver`] calls offernet's B1-B4 as VTEX does and checks the answers.
//!
//! The fakes run on 127.0.0.1:0, each on its own thread, so blocking and async tests can use them;
//! dropping one stops it. The client helpers take a `reqwest::blocking::Client` the caller builds
//! (offernet/tests: `common::client_builder()`); they block, so an async test calls them (and
//! drops a marketplace that follows notifications, which owns such a client) off its runtime,
//! e.g. in `spawn_blocking`.

mod client;
mod connector;
mod driver;
mod error;
mod marketplace;
mod overlay;
mod record;
mod rewrite;
mod schema;
mod seller;
mod serve;

pub use client::{AppCredentials, Reply};
pub use connector::{invoice, suggestion, SellerConnector};
pub use driver::{FulfillmentCall, VtexDriver};
pub use error::{Error, Result};
pub use marketplace::{FakeVtexMarketplace, IndexingRun, MarketplaceRoute, Notification, OrderMessage};
pub use overlay::{Overlay, Patch, OVERLAY_JSON};
pub use record::{Fault, Recorded, MAX_RECORDED};
pub use schema::{openapi_dir, Example, File, Part, Schemas, OPENAPI_DIR_ENV};
pub use seller::{FakeExternalSeller, SellerOrder, SellerRoute, SkuOffer, Sla, MAX_ORDERS, MAX_SKUS};
pub use serve::Credentials;
