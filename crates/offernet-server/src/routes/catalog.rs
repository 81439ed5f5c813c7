//! An account's catalog: SKUs, trade policies and warehouses.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use offernet_core::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{ok, write_then, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(put_sku, get_sku))
        .routes(routes!(put_trade_policy, get_trade_policy))
        .routes(routes!(put_warehouse, get_warehouse))
}

type Two = Path<(String, String)>;

/// Create or replace a SKU
#[utoipa::path(put, path = "/v1/accounts/{a}/skus/{sku}", tag = "catalog", params(params::A, params::Sku),
    request_body = SkuBody, responses((status = 200, description = "the SKU", body = SkuView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn put_sku(
    st: St,
    Path((a, sku)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<SkuBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutSku { account: a.clone(), sku: sku.clone(), body };
    write_then(&st, cmd, |e| e.sku(&a, &sku)).await
}

/// A SKU with its prices and stock
#[utoipa::path(get, path = "/v1/accounts/{a}/skus/{sku}", tag = "catalog", params(params::A, params::Sku),
    responses((status = 200, description = "the SKU", body = SkuView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_sku(st: St, Path((a, sku)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

/// Create or replace a trade policy
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
    _: ActsFor,
    StrictJson(body): StrictJson<WarehouseBody>,
) -> ApiResult<Response> {
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
