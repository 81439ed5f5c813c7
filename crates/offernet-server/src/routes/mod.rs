//! The v1 routes of shared/design/api.md, one module per resource. Each module holds its
//! handlers, their documentation (`#[utoipa::path]`, beside each handler) and the types they
//! answer; `router()` gathers them into one `OpenApiRouter`, so the router and the OpenAPI
//! document come from the same place and the document cannot miss a served route.
//!
//! A handler's signature says who may call it (`extract.rs`: `Operator`, `ActsFor`, `Reads`)
//! and what body it takes (`StrictJson`, `PatchJson`); its body submits the command through
//! the writer (answered once durable) and answers from committed state.

use std::sync::Arc;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

mod accounts;
mod catalog;
mod connection_keys;
mod connections;
pub mod console;
mod credentials;
pub mod docs;
mod events;
mod feeds;
pub mod import;
mod integration;
mod network;
mod offers;
mod ops;
mod orders;
mod params;
mod query;
mod respond;
mod shipping;
mod stock_prices;
mod suggestions;
mod tokens;
mod webhooks;

/// Every route with its documentation, one resource after another.
pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .merge(accounts::router())
        .merge(tokens::router())
        .merge(webhooks::router())
        .merge(integration::router())
        .merge(credentials::router())
        .merge(catalog::router())
        .merge(stock_prices::router())
        .merge(import::router())
        .merge(connections::router())
        .merge(connection_keys::router())
        .merge(network::router())
        .merge(suggestions::router())
        .merge(offers::router())
        .merge(feeds::router())
        .merge(orders::router())
        .merge(shipping::router())
        .merge(events::router())
        .merge(ops::router())
        .merge(docs::router())
        .merge(console::router())
        .route_layer(axum::middleware::from_fn(crate::habits::name_not_found))
}
