//! The numbers an account sets per SKU: the stock of each warehouse, the price, and the
//! fixed prices of trade policies.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::integration::refuse_managed;
use super::params;
use super::query;
use super::respond::{json, ok, write_no_content, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_stock))
        .routes(routes!(put_price, delete_price, get_price))
        .routes(routes!(list_stock))
        .routes(routes!(list_sku_stock))
        .routes(routes!(list_prices))
}

/// The stock of one SKU in one warehouse.
#[derive(Serialize, ToSchema)]
struct Stock {
    warehouse: String,
    sku: String,
    /// Units; `null` when unlimited.
    #[schema(required = true, minimum = 0, maximum = 1000000000000i64)]
    quantity: Option<u64>,
    unlimited: bool,
    /// Units held by open orders.
    reserved: u64,
}

fn stock(e: &Engine, a: &str, w: &str, sku: &str) -> Result<Stock, DomainError> {
    let s = e.sku(a, sku)?;
    let entry = s.stock.iter().find(|x| *x.warehouse == *w);
    Ok(Stock {
        warehouse: w.to_string(),
        sku: sku.to_string(),
        quantity: entry.map_or(Some(0), |x| x.quantity),
        unlimited: entry.is_some_and(|x| x.unlimited),
        reserved: entry.map_or(0, |x| x.reserved),
    })
}

/// Set the stock of a SKU in a warehouse
#[utoipa::path(put, path = "/v1/accounts/{a}/warehouses/{w}/stock/{sku}", tag = "stock and prices",
    params(params::A, params::W, params::Sku), request_body = StockBody,
    responses((status = 200, description = "the stock", body = Stock)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_stock(
    st: St,
    Path((a, w, sku)): Path<(String, String, String)>,
    who: ActsFor,
    StrictJson(body): StrictJson<StockBody>,
) -> ApiResult<Response> {
    // Rule 39: the body's own faults (400) before the state's (409).
    stock_body(&body)?;
    refuse_managed(&st, &who.caller, &a, Some(&w))?;
    let cmd = Command::PutStock { account: a.clone(), warehouse: w.clone(), sku: sku.clone(), body };
    write_then(&st, cmd, |e| stock(e, &a, &w, &sku)).await
}

/// Set the price (or a trade policy's fixed price)
#[utoipa::path(put, path = "/v1/accounts/{a}/prices/{sku}", tag = "stock and prices",
    params(params::A, params::Sku), request_body = PriceBody,
    responses((status = 200, description = "the prices", body = PriceView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_price(
    st: St,
    Path((a, sku)): Path<(String, String)>,
    who: ActsFor,
    StrictJson(body): StrictJson<PriceBody>,
) -> ApiResult<Response> {
    price_body(&body)?;
    refuse_managed(&st, &who.caller, &a, None)?;
    write_then(&st, Command::PutPrice { account: a.clone(), sku: sku.clone(), body }, |e| e.price(&a, &sku)).await
}

/// A SKU's price, list price and trade policies' fixed prices
#[utoipa::path(get, path = "/v1/accounts/{a}/prices/{sku}", tag = "stock and prices",
    params(params::A, params::Sku), responses((status = 200, description = "the prices", body = PriceView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_price(st: St, Path((a, sku)): Path<(String, String)>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.price(&a, &sku))?))
}

/// Remove a trade policy's fixed price
#[utoipa::path(delete, path = "/v1/accounts/{a}/prices/{sku}", tag = "stock and prices",
    params(params::A, params::Sku, params::TradePolicyParam), responses((status = 204, description = "removed")),
    extensions(("x-offernet-who" = json!("a"))))]
async fn delete_price(
    st: St,
    Path((a, sku)): Path<(String, String)>,
    Query(q): Query<query::Query>,
    who: ActsFor,
) -> ApiResult<Response> {
    let trade_policy = q.get("trade_policy").cloned();
    // Without a trade policy the engine answers 400 (rule 23) before anything else.
    if trade_policy.is_some() {
        refuse_managed(&st, &who.caller, &a, None)?;
    }
    write_no_content(&st, Command::DeletePrice { account: a, sku, trade_policy }).await
}

/// One page of a warehouse's stock, sorted by SKU id.
#[derive(Serialize, ToSchema)]
struct StockPage {
    /// Every SKU with stock set in the warehouse, as the PUT of its stock answers it.
    stock: Vec<Stock>,
    /// Entries in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// The stock of a warehouse, with what open orders reserve
#[utoipa::path(get, path = "/v1/accounts/{a}/warehouses/{w}/stock", tag = "stock and prices",
    params(params::A, params::W, params::Paging),
    responses((status = 200, description = "one page", body = StockPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_stock(
    st: St,
    Path((a, w)): Path<(String, String)>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let (items, total, next_offset) = query::listed(&st, &q, |e, win| e.list_warehouse_stock(&a, &w, win))?;
    let stock = items.into_iter().map(|(sku, x)| stock_of(&sku, x)).collect();
    Ok(json(StatusCode::OK, StockPage { stock, total, next_offset }))
}

/// Stock entries as the PUT of a stock answers them, for SKU `sku`.
fn stock_of(sku: &str, x: StockView) -> Stock {
    Stock {
        warehouse: x.warehouse.to_string(),
        sku: sku.to_string(),
        quantity: x.quantity,
        unlimited: x.unlimited,
        reserved: x.reserved,
    }
}

/// One page of a SKU's stock, sorted by warehouse id.
#[derive(Serialize, ToSchema)]
struct SkuStockPage {
    /// Every warehouse where the SKU's stock is set, as the PUT of its stock answers it.
    stock: Vec<Stock>,
    /// Entries in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// The stock of a SKU in every warehouse, with what open orders reserve
#[utoipa::path(get, path = "/v1/accounts/{a}/skus/{sku}/stock", tag = "stock and prices",
    params(params::A, params::Sku, params::Paging),
    responses((status = 200, description = "one page", body = SkuStockPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_sku_stock(
    st: St,
    Path((a, sku)): Path<(String, String)>,
    Query(q): Query<query::Query>,
    _: Reads,
) -> ApiResult<Response> {
    let (items, total, next_offset) = query::listed(&st, &q, |e, w| e.list_sku_stock(&a, &sku, w))?;
    let stock = items.into_iter().map(|x| stock_of(&sku, x)).collect();
    Ok(json(StatusCode::OK, SkuStockPage { stock, total, next_offset }))
}

/// One page of prices, sorted by SKU id.
#[derive(Serialize, ToSchema)]
struct PricePage {
    /// Every SKU of the account, as the PUT of its price answers it (`null` prices when none
    /// is set).
    prices: Vec<PriceView>,
    /// SKUs in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Every SKU's price, list price and trade policies' fixed prices
#[utoipa::path(get, path = "/v1/accounts/{a}/prices", tag = "stock and prices",
    params(params::A, params::Paging),
    responses((status = 200, description = "one page", body = PricePage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_prices(st: St, Path(a): Path<String>, Query(q): Query<query::Query>, _: Reads) -> ApiResult<Response> {
    let (prices, total, next_offset) = query::listed(&st, &q, |e, w| e.list_prices(&a, w))?;
    Ok(json(StatusCode::OK, PricePage { prices, total, next_offset }))
}
