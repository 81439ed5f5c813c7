//! An account's catalog: SKUs, trade policies and warehouses.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, ok, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_sku, get_sku))
        .routes(routes!(put_trade_policy, get_trade_policy))
        .routes(routes!(put_warehouse, get_warehouse))
        .routes(routes!(list_skus))
        .routes(routes!(list_warehouses))
        .routes(routes!(list_trade_policies))
}

type Two = Path<(String, String)>;

/// Create or replace a SKU
///
/// The body replaces the whole SKU, its content too: `description`, `images` and `dimensions`
/// left out are cleared. Content is shown to channels and never changes an offer.
#[utoipa::path(put, path = "/v1/accounts/{a}/skus/{sku}", tag = "catalog", params(params::A, params::Sku),
    request_body = SkuBody, responses((status = 200, description = "the SKU", body = SkuView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_sku(
    st: St,
    Path((a, sku)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<SkuBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutSku { account: a.clone(), sku: sku.clone(), body: Box::new(body) };
    write_then(&st, cmd, |e| e.sku(&a, &sku)).await
}

/// A SKU with its prices, stock and content
#[utoipa::path(get, path = "/v1/accounts/{a}/skus/{sku}", tag = "catalog", params(params::A, params::Sku),
    responses((status = 200, description = "the SKU", body = SkuView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_sku(st: St, Path((a, sku)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

/// Create or replace a trade policy
///
/// `product_url`, when given, is the link to a SKU's page on the trade policy's channel, with
/// `{sku}` where the SKU id goes; left out, it is cleared.
#[utoipa::path(put, path = "/v1/accounts/{a}/trade-policies/{tp}", tag = "catalog", params(params::A, params::Tp),
    request_body = TradePolicyBody, responses((status = 200, description = "the trade policy", body = TradePolicyView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_trade_policy(
    st: St,
    Path((a, tp)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<TradePolicyBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutTradePolicy { account: a.clone(), trade_policy: tp.clone(), body };
    write_then(&st, cmd, |e| e.trade_policy(&a, &tp)).await
}

/// A trade policy
#[utoipa::path(get, path = "/v1/accounts/{a}/trade-policies/{tp}", tag = "catalog", params(params::A, params::Tp),
    responses((status = 200, description = "the trade policy", body = TradePolicyView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_trade_policy(st: St, Path((a, tp)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.trade_policy(&a, &tp))?))
}

/// Create or replace a warehouse and the trade policies it serves
#[utoipa::path(put, path = "/v1/accounts/{a}/warehouses/{w}", tag = "catalog", params(params::A, params::W),
    request_body = WarehouseBody, responses((status = 200, description = "the warehouse", body = WarehouseView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_warehouse(
    st: St,
    Path((a, w)): Two,
    who: ActsFor,
    StrictJson(body): StrictJson<WarehouseBody>,
) -> ApiResult<Response> {
    warehouse_body(&w, &body)?;
    super::integration::refuse_managed(&st, &who.caller, &a, Some(&w))?;
    let cmd = Command::PutWarehouse { account: a.clone(), warehouse: w.clone(), body };
    write_then(&st, cmd, |e| e.warehouse(&a, &w)).await
}

/// A warehouse
#[utoipa::path(get, path = "/v1/accounts/{a}/warehouses/{w}", tag = "catalog", params(params::A, params::W),
    responses((status = 200, description = "the warehouse", body = WarehouseView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_warehouse(st: St, Path((a, w)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.warehouse(&a, &w))?))
}

/// One page of SKUs, sorted by id.
#[derive(Serialize, ToSchema)]
struct SkuPage {
    skus: Vec<SkuView>,
    /// SKUs in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// One page of warehouses, sorted by id.
#[derive(Serialize, ToSchema)]
struct WarehousePage {
    warehouses: Vec<WarehouseView>,
    /// Warehouses in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// One page of trade policies, sorted by id.
#[derive(Serialize, ToSchema)]
struct TradePolicyPage {
    trade_policies: Vec<TradePolicyView>,
    /// Trade policies in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// The account's SKUs with their prices, stock and content
#[utoipa::path(get, path = "/v1/accounts/{a}/skus", tag = "catalog",
    params(params::A, params::SkuFilters, params::Paging),
    responses((status = 200, description = "one page", body = SkuPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_skus(st: St, Path(a): Path<String>, Query(q): Query<query::Query>, _: Reads) -> ApiResult<Response> {
    let active = query::active(&q)?;
    let filter = SkuFilter { active, q: q.get("q").map(String::as_str) };
    let (skus, total, next_offset) = query::listed(&st, &q, |e, w| e.list_skus(&a, &filter, w))?;
    Ok(json(StatusCode::OK, SkuPage { skus, total, next_offset }))
}

/// The account's warehouses
#[utoipa::path(get, path = "/v1/accounts/{a}/warehouses", tag = "catalog", params(params::A, params::Paging),
    responses((status = 200, description = "one page", body = WarehousePage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_warehouses(
    st: St,
    Path(a): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let (warehouses, total, next_offset) = query::listed(&st, &q, |e, w| e.list_warehouses(&a, w))?;
    Ok(json(StatusCode::OK, WarehousePage { warehouses, total, next_offset }))
}

/// The account's trade policies (`1` is always there)
#[utoipa::path(get, path = "/v1/accounts/{a}/trade-policies", tag = "catalog", params(params::A, params::Paging),
    responses((status = 200, description = "one page", body = TradePolicyPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_trade_policies(
    st: St,
    Path(a): Path<String>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let (trade_policies, total, next_offset) = query::listed(&st, &q, |e, w| e.list_trade_policies(&a, w))?;
    Ok(json(StatusCode::OK, TradePolicyPage { trade_policies, total, next_offset }))
}
