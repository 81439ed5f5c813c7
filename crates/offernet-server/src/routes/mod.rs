//! The v1 routes of shared/design/api.md. Each handler: authenticate, authorise by the path's
//! account, parse the body (bad input → 400 naming the field, before anything is queued),
//! submit the command through the writer (answered once durable), answer from committed state.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use offernet_store::WriterHandle;

use crate::events::EventLog;
use crate::metrics::Metrics;
use crate::openapi::RouteDoc;
use crate::Config;

mod catalog;
mod common;
mod market;
mod ops;

use catalog::*;
use common::*;
use market::*;
use ops::*;

pub struct AppState {
    pub writer: WriterHandle,
    pub admin_token_hash: String,
    pub config: Config,
    pub events: Arc<EventLog>,
    pub metrics: Arc<Metrics>,
    /// Becomes true when shutdown starts: live event streams end so that the graceful
    /// shutdown does not wait on them forever.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub type St = State<Arc<AppState>>;

/// Every route: its documentation and its handler. The router and the OpenAPI document are
/// both built from this one table, so the spec cannot miss a served route.
pub fn table() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    use crate::openapi::doc;
    vec![
        (
            doc(
                "POST",
                "/v1/accounts",
                "operator",
                "Create an account; its token is returned once",
                Some("NewAccount"),
                "AccountCreated",
                201,
            ),
            post(create_account),
        ),
        (doc("GET", "/v1/accounts/{a}", "a", "The account", None, "Account", 200), get(get_account)),
        (
            doc("PUT", "/v1/accounts/{a}/skus/{sku}", "a", "Create or replace a SKU", Some("SkuBody"), "Sku", 200),
            put(put_sku),
        ),
        (
            doc("GET", "/v1/accounts/{a}/skus/{sku}", "a", "A SKU with its prices and stock", None, "Sku", 200),
            get(get_sku),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/trade-policies/{tp}",
                "a",
                "Create or replace a trade policy",
                Some("TradePolicyBody"),
                "TradePolicy",
                200,
            ),
            put(put_trade_policy),
        ),
        (
            doc("GET", "/v1/accounts/{a}/trade-policies/{tp}", "a", "A trade policy", None, "TradePolicy", 200),
            get(get_trade_policy),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/warehouses/{w}",
                "a",
                "Create or replace a warehouse and the trade policies it serves",
                Some("WarehouseBody"),
                "Warehouse",
                200,
            ),
            put(put_warehouse),
        ),
        (doc("GET", "/v1/accounts/{a}/warehouses/{w}", "a", "A warehouse", None, "Warehouse", 200), get(get_warehouse)),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/warehouses/{w}/stock/{sku}",
                "a",
                "Set the stock of a SKU in a warehouse",
                Some("StockBody"),
                "Stock",
                200,
            ),
            put(put_stock),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/prices/{sku}",
                "a",
                "Set the price (or a trade policy's fixed price)",
                Some("PriceBody"),
                "Price",
                200,
            ),
            put(put_price),
        ),
        (
            doc(
                "DELETE",
                "/v1/accounts/{a}/prices/{sku}",
                "a",
                "Remove a trade policy's fixed price (?trade_policy=)",
                None,
                "",
                204,
            ),
            delete(delete_price),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{s}/affiliations/{m}",
                "s",
                "The seller's half of a connection",
                Some("AffiliationBody"),
                "Affiliation",
                200,
            ),
            put(put_affiliation),
        ),
        (
            doc(
                "PATCH",
                "/v1/accounts/{s}/affiliations/{m}",
                "s",
                "Change given fields of the seller's half",
                Some("AffiliationBody"),
                "Affiliation",
                200,
            ),
            patch(patch_affiliation),
        ),
        (
            doc("DELETE", "/v1/accounts/{s}/affiliations/{m}", "s", "End the seller's half", None, "", 204),
            delete(delete_affiliation),
        ),
        (
            doc("GET", "/v1/accounts/{s}/affiliations/{m}", "s", "The seller's half", None, "Affiliation", 200),
            get(get_affiliation),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{m}/sellers/{s}",
                "m",
                "The marketplace's half of a connection",
                Some("SellerBody"),
                "Registration",
                200,
            ),
            put(put_seller),
        ),
        (
            doc(
                "PATCH",
                "/v1/accounts/{m}/sellers/{s}",
                "m",
                "Change given fields of the marketplace's half",
                Some("SellerBody"),
                "Registration",
                200,
            ),
            patch(patch_seller),
        ),
        (
            doc("DELETE", "/v1/accounts/{m}/sellers/{s}", "m", "End the marketplace's half", None, "", 204),
            delete(delete_seller),
        ),
        (
            doc("GET", "/v1/accounts/{m}/sellers/{s}", "m", "The marketplace's half", None, "Registration", 200),
            get(get_seller),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/suggestions",
                "m",
                "Suggestions received (?status=&limit=&offset=)",
                None,
                "SuggestionPage",
                200,
            ),
            get(list_suggestions),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve",
                "m",
                "Approve: bind to `sku` (created if missing) or let the matcher decide",
                Some("ApproveBody"),
                "Suggestion",
                200,
            ),
            post(approve),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny",
                "m",
                "Deny (after approval: unbind)",
                None,
                "Suggestion",
                200,
            ),
            post(deny),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers",
                "m",
                "Offers at the marketplace (?seller=&sellable=&limit=&offset=)",
                None,
                "OfferPage",
                200,
            ),
            get(list_offers),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers/{sku}",
                "m",
                "Every offer for one of the marketplace's SKUs",
                None,
                "SkuOffers",
                200,
            ),
            get(offers_for_sku),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers/{sku}/explain",
                "m",
                "Why each offer is (not) sellable: the tree of paths to every origin",
                None,
                "Explain",
                200,
            ),
            get(explain),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{s}/sent-offers",
                "s",
                "What the seller sends, as each marketplace sees it (?marketplace=)",
                None,
                "SentOfferPage",
                200,
            ),
            get(sent_offers),
        ),
        (doc("POST", "/v1/accounts/{m}/simulation", "m", "Price a cart against the live offers (never changes state)", Some("SimulationBody"), "Simulation", 200), post(simulation)),
        (doc("PUT", "/v1/accounts/{m}/order-settings", "m", "Reservation time of the marketplace's orders", Some("OrderSettingsBody"), "OrderSettings", 200), put(put_order_settings)),
        (doc("POST", "/v1/accounts/{m}/orders", "m", "Place an order: reserves along the whole chain or fails whole (409 insufficient_stock); the same id and body again returns the same order", Some("OrderBody"), "Order", 201), post(place_order)),
        (doc("GET", "/v1/accounts/{a}/orders/{id}", "a", "An order: the marketplace's whole order, or a seller's seller or chain order", None, "Order", 200), get(get_order)),
        (doc("POST", "/v1/accounts/{m}/orders/{id}/authorize", "m", "Payment confirmed: dispatch allowed down the chain, no more expiry", None, "Order", 200), post(authorize_order)),
        (doc("POST", "/v1/accounts/{a}/orders/{id}/cancel", "a", "Cancel: by the marketplace before any invoice, or by a seller for its order and its chain orders", None, "Order", 200), post(cancel_order)),
        (doc("POST", "/v1/accounts/{a}/orders/{id}/invoice", "a", "Invoice a seller or chain order (by its seller): the units leave the warehouse", None, "Order", 200), post(invoice_order)),
        (
            doc(
                "GET",
                "/v1/accounts/{a}/events",
                "a",
                "The account's events after ?after=SEQ; `Accept: text/event-stream` streams them live",
                None,
                "EventPage",
                200,
            ),
            get(events),
        ),
        (doc("GET", "/healthz", "anyone", "Health", None, "Health", 200), get(healthz)),
        (doc("GET", "/metrics", "anyone", "Prometheus metrics", None, "", 200), get(metrics)),
        (doc("GET", "/openapi.json", "anyone", "This document", None, "", 200), get(openapi_json)),
    ]
}
