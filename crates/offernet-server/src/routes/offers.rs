//! Offers as a marketplace sees them (list, per SKU, explained), what a seller sends, and the
//! simulation of a cart against the live offers.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use offernet_core::*;
use serde::Deserialize;
use serde_json::json;

use super::{doc, ok, params, RouteDoc, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    vec![
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
        (
            doc(
                "POST",
                "/v1/accounts/{m}/simulation",
                "m",
                "Price a cart against the live offers (never changes state)",
                Some("SimulationBody"),
                "Simulation",
                200,
            ),
            post(simulation),
        ),
    ]
}

type Two = Path<(String, String)>;

async fn list_offers(st: St, Path(m): Path<String>, Query(q): Query<params::Query>, _: Reads) -> ApiResult<Response> {
    let sellable = params::sellable(&q)?;
    let (limit, offset) = params::page(&st, &q)?;
    let seller = q.get("seller").cloned();
    let items = st.writer.read(|e| e.offers(&m, &OfferFilter { seller: seller.as_deref(), sellable }))?;
    Ok(params::paged("offers", items, limit, offset))
}

async fn offers_for_sku(st: St, Path((m, sku)): Two, _: Reads) -> ApiResult<Response> {
    let offers = st.writer.read(|e| e.offers_for_sku(&m, &sku))?;
    Ok(ok(json!({"sku": sku, "offers": offers})))
}

async fn explain(st: St, Path((m, sku)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.explain(&m, &sku))?))
}

async fn sent_offers(st: St, Path(s): Path<String>, Query(q): Query<params::Query>, _: Reads) -> ApiResult<Response> {
    let (limit, offset) = params::page(&st, &q)?;
    let m = q.get("marketplace").cloned();
    let items = st.writer.read(|e| e.sent_offers(&s, m.as_deref()))?;
    Ok(params::paged("sent_offers", items, limit, offset))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulationBody {
    items: Option<Vec<OrderItemBody>>,
}

async fn simulation(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(b): StrictJson<SimulationBody>,
) -> ApiResult<Response> {
    let items = b.items.ok_or_else(|| ApiError::invalid_field("items", "invalid field `items`: required"))?;
    let out = st.writer.read(|e| e.simulate(&m, &items))?;
    Ok(ok(json!({"items": out})))
}
