//! Offers as a marketplace sees them (list, per SKU, explained), what a seller sends, and the
//! simulation of a cart against the live offers.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use offernet_core::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{at_item, json, required, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::habits::json_with_etag;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_offers))
        .routes(routes!(get_sku_offers))
        .routes(routes!(explain_offers))
        .routes(routes!(list_sent_offers))
        .routes(routes!(simulate))
}

/// One page of offers, sorted by (sku, seller, seller SKU).
#[derive(Serialize, ToSchema)]
struct OfferPage {
    offers: Vec<OfferView>,
    /// Offers in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// One page of what a seller sends, sorted by (marketplace, seller SKU).
#[derive(Serialize, ToSchema)]
struct SentOfferPage {
    sent_offers: Vec<SentOfferView>,
    /// Items in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Every offer for one of the marketplace's SKUs, sorted by (seller, seller SKU).
#[derive(Serialize, ToSchema)]
struct SkuOffers {
    sku: String,
    offers: Vec<OfferView>,
}

type Two = Path<(String, String)>;

/// Offers at the marketplace
#[utoipa::path(get, path = "/v1/accounts/{m}/offers", tag = "offers",
    params(params::M, params::OfferFilters, params::Paging, params::IfNoneMatch),
    responses((status = 200, description = "one page", body = OfferPage, headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged"))),
        (status = 304, description = "unchanged since the If-None-Match tag: no body", headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged")))),
    extensions(("x-offernet-who" = json!("m"))))]
async fn list_offers(
    st: St,
    Path(m): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
    h: HeaderMap,
) -> ApiResult<Response> {
    let sellable = query::sellable(&q)?;
    let page = query::page(&st, &q)?;
    let seller = q.get("seller").cloned();
    let items = st.writer.read(|e| e.offers(&m, &OfferFilter { seller: seller.as_deref(), sellable }))?;
    let (offers, total, next_offset) = query::slice(items, page);
    Ok(json_with_etag(&h, &OfferPage { offers, total, next_offset }))
}

/// Every offer for one of the marketplace's SKUs
#[utoipa::path(get, path = "/v1/accounts/{m}/offers/{sku}", tag = "offers",
    params(params::M, params::Sku, params::IfNoneMatch),
    responses((status = 200, description = "the offers", body = SkuOffers, headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged"))),
        (status = 304, description = "unchanged since the If-None-Match tag: no body", headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged")))),
    extensions(("x-offernet-who" = json!("m"))))]
async fn get_sku_offers(st: St, Path((m, sku)): Two, _: Reads, h: HeaderMap) -> ApiResult<Response> {
    let offers = st.writer.read(|e| e.offers_for_sku(&m, &sku))?;
    Ok(json_with_etag(&h, &SkuOffers { sku, offers }))
}

/// Why each offer is (not) sellable: the tree of paths to every origin
#[utoipa::path(get, path = "/v1/accounts/{m}/offers/{sku}/explain", tag = "offers",
    params(params::M, params::Sku, params::IfNoneMatch),
    responses((status = 200, description = "the explanation", body = Explain, headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged"))),
        (status = 304, description = "unchanged since the If-None-Match tag: no body", headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged")))),
    extensions(("x-offernet-who" = json!("m"))))]
async fn explain_offers(st: St, Path((m, sku)): Two, _: Reads, h: HeaderMap) -> ApiResult<Response> {
    Ok(json_with_etag(&h, &st.writer.read(|e| e.explain(&m, &sku))?))
}

/// What the seller sends, as each marketplace sees it
#[utoipa::path(get, path = "/v1/accounts/{s}/sent-offers", tag = "offers",
    params(params::S, params::MarketplaceFilter, params::Paging, params::IfNoneMatch),
    responses((status = 200, description = "one page", body = SentOfferPage, headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged"))),
        (status = 304, description = "unchanged since the If-None-Match tag: no body", headers(("ETag" = String, description = "a strong tag of this body: send it in If-None-Match to get 304 while the answer is unchanged")))),
    extensions(("x-offernet-who" = json!("s"))))]
async fn list_sent_offers(
    st: St,
    Path(s): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
    h: HeaderMap,
) -> ApiResult<Response> {
    let page = query::page(&st, &q)?;
    let m = q.get("marketplace").cloned();
    let items = st.writer.read(|e| e.sent_offers(&s, m.as_deref()))?;
    let (sent_offers, total, next_offset) = query::slice(items, page);
    Ok(json_with_etag(&h, &SentOfferPage { sent_offers, total, next_offset }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SimulationBody {
    #[schema(required = true, nullable = false, max_items = 100)]
    items: Option<Vec<OrderItemBody>>,
}

/// The cart priced: for each item, the chosen offer and every sellable offer.
#[derive(Serialize, ToSchema)]
struct Simulation {
    items: Vec<SimulationItem>,
}

/// Price a cart against the live offers (never changes state)
#[utoipa::path(post, path = "/v1/accounts/{m}/simulation", tag = "offers", params(params::M),
    request_body = SimulationBody, responses((status = 200, description = "the priced cart", body = Simulation)),
    extensions(("x-offernet-who" = json!("m"))))]
async fn simulate(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(b): StrictJson<SimulationBody>,
) -> ApiResult<Response> {
    let items = required("items", b.items)?;
    let items = st.writer.read(|e| e.simulate(&m, &items)).map_err(|e| at_item(e.into(), &m, &items))?;
    Ok(json(StatusCode::OK, Simulation { items }))
}
